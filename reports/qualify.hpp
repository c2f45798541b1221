#pragma once
/// `assay qualify`: checks a run's stored results against a spec (TOML) of expected values with
/// warn/fail tiers, and writes specs from healthy hosts (`--derive-from`). Pure data -> data and
/// data -> text: the CLI reads the store, this module never touches it. See docs/qualify.md.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/case.hpp"
#include "core/result.hpp"
#include "reports/run_report.hpp"

namespace assay {

/// How the matching results of one check (several devices, sockets or backends) become one
/// verdict.
enum class QualifyAggregation {
    all,     ///< every matching result is judged; the check takes the worst verdict
    min,     ///< the result with the smallest value is judged (e.g. the slowest GPU)
    max,     ///< the result with the largest value is judged
    median,  ///< the median of the values and of their confidence bounds is judged
};
const char* to_string(QualifyAggregation a);

/// Which per-result figure a check reads: the metric's ".median" (typical, default) or ".best".
enum class QualifyStatistic { median, best };
const char* to_string(QualifyStatistic s);

enum class QualifyVerdict { pass, warn, fail, error, skipped };
/// "PASS", "WARN", "FAIL", "ERROR", "SKIPPED".
const char* to_string(QualifyVerdict v);

/// One check of a spec: which results, which metric, what is expected.
struct QualifyCheck {
    std::string name;             ///< unique within the spec, e.g. "dram-triad"
    std::string description;      ///< free text, shown in reports
    std::string benchmark_regex;  ///< ECMAScript regex matched against the whole benchmark name
    Params params;                ///< each listed key must be present with exactly this value
    bool params_exact = false;    ///< true: the result may carry no other parameter
    std::string device = "*";     ///< glob ('*' any run of characters): "cpu", "cuda:*"
    std::string backend = "*";    ///< glob on the backend: "openblas", "cpu.native", "*"
    std::string metric;           ///< base metric name, e.g. "bandwidth_stream_gb_per_s"
    QualifyStatistic statistic = QualifyStatistic::median;
    std::string unit;  ///< optional; when set it must equal the stored metric's unit
    double expected = 0;
    double warn_pct = 5;   ///< shortfall (or excess, lower-is-better) at which WARN starts
    double fail_pct = 10;  ///< shortfall (or excess) at which FAIL starts; > warn_pct
    QualifyAggregation aggregate = QualifyAggregation::all;
    bool optional = false;  ///< matching nothing is SKIPPED instead of ERROR
    int line = 0;           ///< line of the [[check]] in the spec file (for messages)
};

/// A parsed spec.
struct QualifySpec {
    std::string source;  ///< file name as given, used in messages and JUnit properties
    std::string name;
    std::string description;
    /// One-sided confidence level of the bound the verdict is taken from (0.5 .. 0.999).
    double confidence = 0.95;
    /// Every failed result of the run becomes a FAIL testcase (silent-data-corruption screen).
    bool screen_verification = true;
    std::vector<QualifyCheck> checks;
};

/// Parses spec TOML. Throws InputError "<source>:<line>: <problem>" on malformed TOML, unknown
/// keys, wrong types, bad regexes and inconsistent values (e.g. fail_pct <= warn_pct).
QualifySpec parse_qualify_spec(const std::string& toml_text, const std::string& source_name);
/// Reads and parses a spec file; InputError names the path when it cannot be read.
QualifySpec load_qualify_spec(const std::filesystem::path& path);

/// The measured value of one matching result and its confidence bound.
struct QualifyMeasurement {
    std::int64_t result_id = 0;
    std::string case_id;  ///< "stream.triad/dtype=f64,..."
    std::string device;
    std::string backend;
    double value = 0;  ///< the stored metric (".median" or ".best")
    /// Lower confidence bound (upper for lower-is-better metrics) of the value; equals value
    /// when it could not be computed (then bound_basis says why).
    double bound = 0;
    std::string bound_basis;  ///< e.g. "order statistic 9 of 30 (95 % one-sided)"
    std::size_t samples = 0;
};

/// The outcome of one check (or of one screened failed result).
struct QualifyOutcome {
    std::string name;
    std::string description;
    QualifyVerdict verdict = QualifyVerdict::error;
    bool verification_screen = false;  ///< a failed result found by the SDC screen, not a check
    std::string metric;                ///< full stored name, e.g. "gflop_per_s.median"
    std::string unit;
    Direction direction = Direction::none;
    QualifyAggregation aggregate = QualifyAggregation::all;
    double expected = 0;
    double warn_pct = 0;
    double fail_pct = 0;
    double measured = 0;  ///< the judged value (after aggregation)
    double bound = 0;     ///< the judged confidence bound (after aggregation)
    /// Shortfall of the bound against expected, in % (positive = worse than expected; for
    /// lower-is-better metrics the excess).
    double deviation_pct = 0;
    std::vector<QualifyMeasurement> measurements;  ///< every matching result
    std::string message;                           ///< one line: why this verdict
};

/// One run judged against one spec.
struct QualifyReport {
    std::string spec_name;
    std::string spec_source;
    StoredRun run;
    double confidence = 0.95;
    std::vector<QualifyOutcome> outcomes;  ///< checks in spec order, then screened failures
    QualifyVerdict overall = QualifyVerdict::pass;  ///< see qualify_overall()
};

/// Worst-first: FAIL, then ERROR, then WARN, then PASS (SKIPPED counts as PASS). A FAIL wins
/// over an ERROR because a failed check is a finding about the host whatever else is wrong.
QualifyVerdict qualify_overall(const std::vector<QualifyOutcome>& outcomes);

/// `assay qualify` exit code of a verdict: PASS 0, FAIL 1, WARN 2, ERROR 3.
int qualify_exit_code(QualifyVerdict overall);

/// One-sided confidence bound of the median of `values` (any order) from order statistics
/// (distribution-free, binomial): the lower bound when `lower` is true, else the upper bound.
/// With too few values for the level, the extreme value is returned and `basis` says so.
double median_confidence_bound(std::vector<double> values, double confidence, bool lower,
                               std::string* basis = nullptr);

/// Glob match with '*' (any run of characters) and '?' (one character).
bool glob_match(const std::string& pattern, const std::string& text);

/// Judges one run against the spec. Never throws for data problems: a check that matches
/// nothing, a metric without a direction or a unit mismatch are ERROR outcomes.
QualifyReport evaluate_spec(const QualifySpec& spec, const RunWithResults& run);

enum class QualifyFormat { table, markdown };
/// "table" or "md"/"markdown"; throws UsageError otherwise.
QualifyFormat qualify_format_from_string(const std::string& s);

/// Terminal table or Markdown of one or more judged runs.
std::string render_qualify(const std::vector<QualifyReport>& reports, QualifyFormat format);
/// JUnit XML: one <testsuite> per judged run with host/run provenance as properties, one
/// <testcase> per check (FAIL -> <failure>, ERROR -> <error>, SKIPPED -> <skipped>, WARN passes
/// with its message in <system-out>). Text is XML-escaped; invalid control characters dropped.
std::string render_junit(const std::vector<QualifyReport>& reports);

/// Rules for derive_spec().
struct DeriveOptions {
    std::string name = "derived";
    double min_warn_pct = 3;
    double min_fail_pct = 6;
    double warn_sigmas = 3;  ///< warn at warn_sigmas * 1.4826 * MAD / median (at least min_warn)
    double fail_sigmas = 6;  ///< fail at fail_sigmas * 1.4826 * MAD / median (at least min_fail)
    double confidence = 0.95;
    std::string generated_at;  ///< UTC ISO-8601, written into the header comment
    std::string command_line;  ///< written into the header comment
};

/// Writes a spec (TOML text) from healthy runs of hosts of one class: one check per
/// (case, device kind, backend) on its headline metric, expected = median over all runs and
/// devices, warn/fail from the spread (see DeriveOptions) and widened to cover each
/// contributing result's own confidence interval, so every contributing run passes it. Only
/// ok + verified results count. Throws InputError when no run has a usable result.
std::string derive_spec(const std::vector<RunWithResults>& runs, const DeriveOptions& options);

/// "<family>" device kind of a device name: "cuda:3" -> "cuda", "cpu" -> "cpu".
std::string device_kind(const std::string& device);

/// The base name of the headline metric of a result ("bandwidth_stream_gb_per_s", ...), empty
/// when it has none (the same preference order as headline_of()).
std::string headline_metric_of(const Result& result);

}  // namespace assay
