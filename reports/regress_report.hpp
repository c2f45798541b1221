#pragma once
/// `assay regress`: nightly regression tracking over stored history (see docs/regress.md).
///
/// Per series (core/series.hpp): retrospective change points (E-divisive means + Welch t-test)
/// split the history into segments; the newest point is gated against the last N points of
/// the current segment (robust z + minimum relative effect, core/change_stats.hpp). When the
/// current segment is too short to gate (a change point among the newest runs), the change
/// point itself is the finding. Benjamini-Hochberg then controls the false discovery rate
/// across every series gated in one invocation. Verdicts are direction-aware: only the bad
/// direction is a regression; the other is an improvement; Direction::none is "changed".
#include <cstdint>
#include <string>
#include <vector>

#include "core/change_stats.hpp"
#include "core/series.hpp"

namespace assay {

struct RegressOptions {
    GateOptions gate;
    ChangePointOptions change_points;
    double fdr = 0.05;        ///< Benjamini-Hochberg false discovery rate across series
    std::string case_filter;  ///< ECMAScript regex on the case id; empty = all
    std::size_t max_change_points_listed = 50;  ///< in the "history" section, newest first
};

enum class Verdict {
    insufficient_history,
    normal,
    suspect_regression,  ///< newest point beyond the gate in the bad direction, unconfirmed
    regression,          ///< confirmed (two runs, or a change point) in the bad direction
    suspect_improvement,
    improvement,
    changed,  ///< confirmed change of a metric without a better direction
};
const char* to_string(Verdict v);

/// One series' outcome.
struct SeriesFinding {
    SeriesKey key;
    std::string unit;
    Direction direction = Direction::none;
    Verdict verdict = Verdict::insufficient_history;
    std::string detected_by;  ///< "gate", "change point" or "" (normal)
    std::size_t points = 0;
    std::size_t segment_points = 0;  ///< points in the current segment
    double baseline = 0;             ///< median of the baseline (gate) / mean before (CP)
    double latest = 0;               ///< newest value
    double relative_change = 0;      ///< of the finding (newest vs baseline, or CP means)
    double z = 0;                    ///< robust z (gate findings)
    double pvalue = 1;
    double qvalue = 1;  ///< BH-adjusted; 1 for series not gated
    std::int64_t latest_run_id = 0;
    std::int64_t change_run_id = 0;  ///< first run at the new level ("since run")
    std::int64_t before_run_id = 0;  ///< the run just before it
    std::string note;                ///< e.g. "not significant after Benjamini-Hochberg"
    /// Retrospective change points of the whole series, oldest first (indices into points).
    std::vector<ChangePoint> change_points;
    std::vector<std::int64_t> change_point_runs;  ///< run id at each change point
};

/// What differs between two runs (host, hardware snapshot, driver, build, environment):
/// "key: before -> after" lines, empty when nothing recorded differs.
std::vector<std::string> what_changed(const History& history, std::int64_t before_run_id,
                                      std::int64_t at_run_id);

struct RegressAnalysis {
    std::vector<SeriesFinding> findings;  ///< every series that passed the filter, by key
    std::size_t runs = 0;                 ///< runs in the history
    std::size_t regressions = 0, suspects = 0, improvements = 0, changes = 0;
    std::size_t insufficient = 0;
    /// Exit policy: true when a confirmed regression exists (suspects alone do not count).
    bool has_regression() const { return regressions > 0; }
};

/// Analyses every series of `history`. Throws UsageError for a bad case_filter regex.
RegressAnalysis analyze_history(const History& history, const RegressOptions& options);

struct RegressContext {
    std::string db_path;
    std::string generated_at;  ///< UTC ISO-8601
    RegressOptions options;
    std::string metric_note;  ///< which metric was followed, e.g. "headline median"
};

/// Markdown summary: regressions (what changed, by how much, since which run, what else
/// changed at that point), suspects, improvements, recent change points.
std::string render_regress_markdown(const RegressAnalysis& analysis, const History& history,
                                    const RegressContext& context);
/// The same as JSON, schema "assay.regress/1".
std::string render_regress_json(const RegressAnalysis& analysis, const History& history,
                                const RegressContext& context);

/// The headline metrics regress follows by default, in order of preference: the ".median" of
/// the throughput metrics headline_of() (reports/run_report.hpp) shows, so regress tracks the
/// same figure the run report headlines (median rather than best: regressions, not
/// capability). Results without one follow "time.median".
std::vector<std::string> default_regress_metrics();

}  // namespace assay
