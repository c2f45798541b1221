#include "reports/qualify.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include <toml++/toml.h>

#include "core/error.hpp"
#include "core/pattern.hpp"
#include "core/stats.hpp"
#include "reports/escape.hpp"

namespace assay {

namespace {

// QualifyVerdict boundaries are inclusive on the worse side; the epsilon keeps "exactly 5 %" from
// landing on either side depending on rounding of (expected - bound) / expected.
constexpr double kBoundaryEps = 1e-9;

// Same preference order as headline_of() in run_report.cpp.
constexpr const char* kHeadlineMetrics[] = {
    "bandwidth_stream_gb_per_s",         "gflop_per_s", "gop_per_s", "latency_ns",
    "bandwidth_write_allocate_gb_per_s",
};

int line_of(const toml::node& node) {
    return static_cast<int>(node.source().begin.line);
}

[[noreturn]] void spec_error(const std::string& source, int line, const std::string& what) {
    throw InputError(fmt::format("{}:{}: {}", source, line, what));
}

double median_of(std::vector<double> v) {
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    return quantile_sorted(v, 0.5);
}

QualifyAggregation aggregation_from(const std::string& s, const std::string& where, int line) {
    if (s == "all")
        return QualifyAggregation::all;
    if (s == "min")
        return QualifyAggregation::min;
    if (s == "max")
        return QualifyAggregation::max;
    if (s == "median")
        return QualifyAggregation::median;
    spec_error(where, line,
               fmt::format("unknown aggregate '{}' (expected all, min, max or median)", s));
}

/// Reads the typed fields of one [[check]] table.
class CheckReader {
  public:
    CheckReader(const std::string& source, const toml::table& table, int line)
        : source_(source), table_(table), line_(line) {}

    std::string label() const { return name_.empty() ? "check" : "check '" + name_ + "'"; }
    void set_name(const std::string& name) { name_ = name; }

    int line_of_key(const std::string& key) const {
        const toml::node* n = table_.get(key);
        return n != nullptr ? line_of(*n) : line_;
    }

    std::optional<std::string> string(const std::string& key) const {
        const toml::node* n = table_.get(key);
        if (n == nullptr)
            return std::nullopt;
        if (!n->is_string())
            spec_error(source_, line_of(*n), fmt::format("{}: {} must be a string", label(), key));
        return n->value<std::string>();
    }

    std::optional<double> number(const std::string& key) const {
        const toml::node* n = table_.get(key);
        if (n == nullptr)
            return std::nullopt;
        if (!n->is_number())
            spec_error(source_, line_of(*n), fmt::format("{}: {} must be a number", label(), key));
        const double v = *n->value<double>();
        if (!std::isfinite(v))
            spec_error(source_, line_of(*n), fmt::format("{}: {} must be finite", label(), key));
        return v;
    }

    std::optional<bool> boolean(const std::string& key) const {
        const toml::node* n = table_.get(key);
        if (n == nullptr)
            return std::nullopt;
        if (!n->is_boolean())
            spec_error(source_, line_of(*n),
                       fmt::format("{}: {} must be true or false", label(), key));
        return n->value<bool>();
    }

  private:
    const std::string& source_;
    const toml::table& table_;
    int line_;
    std::string name_;
};

void check_known_keys(const std::string& source, const toml::table& table,
                      const std::set<std::string>& known, const std::string& what) {
    for (auto&& [key, node] : table) {
        if (known.count(std::string(key.str())) == 0) {
            std::string list;
            for (const auto& k : known) {
                list += (list.empty() ? "" : ", ") + k;
            }
            spec_error(
                source, line_of(node),
                fmt::format("{}: unknown key '{}' (expected one of {})", what, key.str(), list));
        }
    }
}

QualifyCheck read_check(const std::string& source, const toml::table& table, int line) {
    static const std::set<std::string> kKnown = {
        "name",     "description", "benchmark", "params",    "params_exact",
        "device",   "backend",     "metric",    "statistic", "unit",
        "expected", "warn_pct",    "fail_pct",  "aggregate", "optional"};
    CheckReader r(source, table, line);
    QualifyCheck c;
    c.line = line;
    const auto name = r.string("name");
    if (!name || name->empty())
        spec_error(source, line, "check: name is required (a unique label, e.g. 'dram-triad')");
    c.name = *name;
    r.set_name(c.name);
    check_known_keys(source, table, kKnown, r.label());
    c.description = r.string("description").value_or("");

    const auto bench = r.string("benchmark");
    if (!bench || bench->empty())
        spec_error(
            source, line,
            fmt::format("{}: benchmark is required (a regex, e.g. 'stream\\.triad')", r.label()));
    c.benchmark_regex = *bench;
    if (const std::string error = Pattern::compile_error(c.benchmark_regex); !error.empty()) {
        spec_error(source, r.line_of_key("benchmark"),
                   fmt::format("{}: benchmark regex '{}' is invalid: {}", r.label(),
                               c.benchmark_regex, error));
    }

    if (const toml::node* p = table.get("params")) {
        const toml::table* pt = p->as_table();
        if (pt == nullptr)
            spec_error(
                source, line_of(*p),
                fmt::format("{}: params must be a table, e.g. {{ dtype = \"f64\" }}", r.label()));
        for (auto&& [key, node] : *pt) {
            if (node.is_string()) {
                c.params[std::string(key.str())] = *node.value<std::string>();
            } else if (node.is_integer()) {
                c.params[std::string(key.str())] = std::to_string(*node.value<std::int64_t>());
            } else {
                spec_error(source, line_of(node),
                           fmt::format("{}: param '{}' must be a string or an integer", r.label(),
                                       key.str()));
            }
        }
    }
    c.params_exact = r.boolean("params_exact").value_or(false);
    c.device = r.string("device").value_or("*");
    c.backend = r.string("backend").value_or("*");

    auto metric = r.string("metric");
    if (!metric || metric->empty())
        spec_error(
            source, line,
            fmt::format("{}: metric is required (e.g. 'bandwidth_stream_gb_per_s')", r.label()));
    std::string statistic = r.string("statistic").value_or("");
    // "gflop_per_s.best" is accepted as shorthand for metric + statistic.
    for (const char* suffix : {".median", ".best"}) {
        const std::string sfx = suffix;
        if (metric->size() > sfx.size() &&
            metric->compare(metric->size() - sfx.size(), sfx.size(), sfx) == 0) {
            const std::string from_name = sfx.substr(1);
            if (!statistic.empty() && statistic != from_name)
                spec_error(source, r.line_of_key("statistic"),
                           fmt::format("{}: metric '{}' contradicts statistic '{}'", r.label(),
                                       *metric, statistic));
            statistic = from_name;
            metric->resize(metric->size() - sfx.size());
        }
    }
    c.metric = *metric;
    if (statistic.empty() || statistic == "median") {
        c.statistic = QualifyStatistic::median;
    } else if (statistic == "best") {
        c.statistic = QualifyStatistic::best;
    } else {
        spec_error(source, r.line_of_key("statistic"),
                   fmt::format("{}: unknown statistic '{}' (expected median or best)", r.label(),
                               statistic));
    }
    c.unit = r.string("unit").value_or("");

    const auto expected = r.number("expected");
    if (!expected)
        spec_error(source, line, fmt::format("{}: expected is required", r.label()));
    if (*expected <= 0)
        spec_error(source, r.line_of_key("expected"),
                   fmt::format("{}: expected must be > 0 (got {})", r.label(), *expected));
    c.expected = *expected;
    c.warn_pct = r.number("warn_pct").value_or(c.warn_pct);
    c.fail_pct = r.number("fail_pct").value_or(c.fail_pct);
    if (c.warn_pct < 0)
        spec_error(source, r.line_of_key("warn_pct"),
                   fmt::format("{}: warn_pct must be >= 0 (got {})", r.label(), c.warn_pct));
    if (c.fail_pct <= c.warn_pct)
        spec_error(source, r.line_of_key("fail_pct"),
                   fmt::format("{}: fail_pct must be > warn_pct (got {} <= {})", r.label(),
                               c.fail_pct, c.warn_pct));
    if (const auto agg = r.string("aggregate"))
        c.aggregate = aggregation_from(*agg, source + ": " + r.label(), r.line_of_key("aggregate"));
    c.optional = r.boolean("optional").value_or(false);
    return c;
}

std::string read_file_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw InputError(fmt::format("cannot read spec '{}'", path.string()));
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool params_match(const Params& wanted, const Params& have) {
    for (const auto& [k, v] : wanted) {
        auto it = have.find(k);
        if (it == have.end() || it->second != v) {
            return false;
        }
    }
    return true;
}

/// Per-sample values of a stored metric. Throughput metrics are work / time (so each sample is
/// scale / t), latency-like lower-is-better metrics are time / operation (scale * t); the scale
/// comes from the stored figure and the time statistic it was computed from.
std::vector<double> metric_samples(const Result& r, double stored_value, Direction direction,
                                   QualifyStatistic statistic) {
    std::vector<double> out;
    const double t_ref = statistic == QualifyStatistic::best ? r.stats.min : r.stats.median;
    if (r.samples.empty() || !(t_ref > 0) || !std::isfinite(stored_value)) {
        return out;
    }
    out.reserve(r.samples.size());
    for (double t : r.samples) {
        if (!(t > 0)) {
            continue;
        }
        out.push_back(direction == Direction::lower_is_better ? stored_value * t / t_ref
                                                              : stored_value * t_ref / t);
    }
    return out;
}

double deviation_pct(double expected, double bound, Direction direction) {
    const double d = direction == Direction::lower_is_better ? bound - expected : expected - bound;
    return 100.0 * d / expected;
}

QualifyVerdict verdict_for(double dev_pct, double warn_pct, double fail_pct) {
    if (dev_pct >= fail_pct - kBoundaryEps)
        return QualifyVerdict::fail;
    if (dev_pct >= warn_pct - kBoundaryEps)
        return QualifyVerdict::warn;
    return QualifyVerdict::pass;
}

int severity(QualifyVerdict v) {
    switch (v) {
        case QualifyVerdict::fail:
            return 4;
        case QualifyVerdict::error:
            return 3;
        case QualifyVerdict::warn:
            return 2;
        case QualifyVerdict::pass:
            return 1;
        case QualifyVerdict::skipped:
            return 0;
    }
    return 0;
}

std::string num(double v) {
    if (!std::isfinite(v))
        return "-";
    const double a = std::fabs(v);
    if (a >= 1e6 || (a > 0 && a < 1e-3))
        return fmt::format("{:.4g}", v);
    if (a >= 100)
        return fmt::format("{:.1f}", v);
    if (a >= 10)
        return fmt::format("{:.2f}", v);
    return fmt::format("{:.3f}", v);
}

QualifyOutcome evaluate_check(const QualifyCheck& c, const QualifySpec& spec,
                              const RunWithResults& run) {
    QualifyOutcome o;
    o.name = c.name;
    o.description = c.description;
    o.aggregate = c.aggregate;
    o.expected = c.expected;
    o.warn_pct = c.warn_pct;
    o.fail_pct = c.fail_pct;
    o.metric = c.metric + "." + to_string(c.statistic);
    o.unit = c.unit;
    o.measured = std::numeric_limits<double>::quiet_NaN();
    o.bound = o.measured;
    o.deviation_pct = o.measured;

    const Pattern re = Pattern::compile(c.benchmark_regex, "benchmark regex");
    std::vector<const StoredResult*> matched;
    for (const auto& sr : run.results) {
        const Result& r = sr.result;
        if (re.full_match(r.bench_case.benchmark) && params_match(c.params, r.bench_case.params) &&
            (!c.params_exact || c.params.size() == r.bench_case.params.size()) &&
            glob_match(c.device, r.device) && glob_match(c.backend, r.backend)) {
            matched.push_back(&sr);
        }
    }
    const std::string selector =
        fmt::format("benchmark '{}'{}{} device '{}' backend '{}'", c.benchmark_regex,
                    c.params.empty() ? "" : " params ", Case{"", c.params}.canonical_params(),
                    c.device, c.backend);
    if (matched.empty()) {
        o.verdict = c.optional ? QualifyVerdict::skipped : QualifyVerdict::error;
        o.message = fmt::format("no result of run {} matches {}", run.run.id, selector);
        return o;
    }

    std::vector<std::string> failed, skipped, problems;
    for (const StoredResult* sr : matched) {
        const Result& r = sr->result;
        if (r.status == ResultStatus::skipped) {
            skipped.push_back(fmt::format("{}@{}: {}", r.bench_case.id(), r.device, r.message));
            continue;
        }
        if (r.status == ResultStatus::failed) {
            failed.push_back(fmt::format("{}@{}: {}", r.bench_case.id(), r.device,
                                         r.message.empty() ? "failed" : r.message));
            continue;
        }
        const Metric* m = r.find_metric(o.metric);
        if (m == nullptr) {
            problems.push_back(fmt::format("{}@{}:{} has no metric '{}'", r.bench_case.id(),
                                           r.device, r.backend, o.metric));
            continue;
        }
        if (m->direction == Direction::none) {
            problems.push_back(
                fmt::format("metric '{}' has no direction (higher/lower is better)", o.metric));
            continue;
        }
        if (!c.unit.empty() && m->unit != c.unit) {
            problems.push_back(fmt::format("metric '{}' is in {} but the spec says {}", o.metric,
                                           m->unit, c.unit));
            continue;
        }
        o.direction = m->direction;
        o.unit = m->unit;
        QualifyMeasurement meas;
        meas.result_id = sr->id;
        meas.case_id = r.bench_case.id();
        meas.device = r.device;
        meas.backend = r.backend;
        meas.value = m->value;
        meas.samples = r.samples.size();
        if (c.statistic == QualifyStatistic::best) {
            meas.bound = m->value;
            meas.bound_basis = "best: the extreme sample itself (no interval)";
        } else {
            const auto values = metric_samples(r, m->value, m->direction, c.statistic);
            if (values.empty()) {
                meas.bound = m->value;
                meas.bound_basis = "no raw samples: the stored value itself";
            } else {
                meas.bound = median_confidence_bound(values, spec.confidence,
                                                     m->direction != Direction::lower_is_better,
                                                     &meas.bound_basis);
            }
        }
        o.measurements.push_back(std::move(meas));
    }

    if (!failed.empty()) {
        o.verdict = QualifyVerdict::fail;
        o.message = fmt::format("{} matching result(s) failed: {}", failed.size(), failed.front());
        return o;
    }
    if (!problems.empty()) {
        o.verdict = QualifyVerdict::error;
        o.message = problems.front();
        return o;
    }
    if (o.measurements.empty()) {
        o.verdict = c.optional ? QualifyVerdict::skipped : QualifyVerdict::error;
        o.message = fmt::format("only skipped results match {}: {}", selector, skipped.front());
        return o;
    }

    const auto& ms = o.measurements;
    auto judge = [&](double measured, double bound) {
        o.measured = measured;
        o.bound = bound;
        o.deviation_pct = deviation_pct(c.expected, bound, o.direction);
        o.verdict = verdict_for(o.deviation_pct, c.warn_pct, c.fail_pct);
    };
    std::string which;
    switch (c.aggregate) {
        case QualifyAggregation::all: {
            // Judge every result; report the worst one.
            const QualifyMeasurement* worst = &ms.front();
            for (const auto& m : ms) {
                if (deviation_pct(c.expected, m.bound, o.direction) >
                    deviation_pct(c.expected, worst->bound, o.direction)) {
                    worst = &m;
                }
            }
            judge(worst->value, worst->bound);
            which = fmt::format("worst of {}: {}:{}", ms.size(), worst->device, worst->backend);
            break;
        }
        case QualifyAggregation::min:
        case QualifyAggregation::max: {
            const bool want_min = c.aggregate == QualifyAggregation::min;
            const auto it =
                std::min_element(ms.begin(), ms.end(), [&](const auto& a, const auto& b) {
                    return want_min ? a.value < b.value : a.value > b.value;
                });
            judge(it->value, it->bound);
            which = fmt::format("{} of {}: {}:{}", to_string(c.aggregate), ms.size(), it->device,
                                it->backend);
            break;
        }
        case QualifyAggregation::median: {
            std::vector<double> values, bounds;
            for (const auto& m : ms) {
                values.push_back(m.value);
                bounds.push_back(m.bound);
            }
            judge(median_of(values), median_of(bounds));
            which = fmt::format("median of {}", ms.size());
            break;
        }
    }
    const char* side = o.direction == Direction::lower_is_better ? "upper" : "lower";
    const char* worse = o.direction == Direction::lower_is_better ? "above" : "below";
    o.message = fmt::format(
        "{} {} (measured {} {}, {} {:.0f} % bound {}) is {:.1f} % {} expected {} (warn {} %, "
        "fail {} %)",
        o.metric, which, num(o.measured), o.unit, side, 100 * spec.confidence, num(o.bound),
        std::fabs(o.deviation_pct), o.deviation_pct >= 0 ? worse : "better than", num(c.expected),
        c.warn_pct, c.fail_pct);
    if (!skipped.empty()) {
        o.message += fmt::format("; {} matching result(s) skipped", skipped.size());
    }
    return o;
}

struct Counts {
    std::size_t pass = 0, warn = 0, fail = 0, error = 0, skipped = 0;
};
Counts count(const QualifyReport& r) {
    Counts c;
    for (const auto& o : r.outcomes) {
        switch (o.verdict) {
            case QualifyVerdict::pass:
                ++c.pass;
                break;
            case QualifyVerdict::warn:
                ++c.warn;
                break;
            case QualifyVerdict::fail:
                ++c.fail;
                break;
            case QualifyVerdict::error:
                ++c.error;
                break;
            case QualifyVerdict::skipped:
                ++c.skipped;
                break;
        }
    }
    return c;
}

std::string pct_cell(double v) {
    return std::isfinite(v) ? fmt::format("{:+.1f} %", -v) : "-";
}

std::string run_title(const QualifyReport& r) {
    return fmt::format("{} run {} ({}, {})", r.run.hostname, r.run.id, r.run.info.started_at,
                       to_string(r.run.status));
}

std::string render_table(const std::vector<QualifyReport>& reports) {
    std::string out;
    for (const auto& r : reports) {
        const Counts c = count(r);
        out += fmt::format("qualify: spec '{}' ({}) on {}\n", r.spec_name, r.spec_source,
                           run_title(r));
        out += fmt::format("{:<7}  {:<40}  {:>12}  {:>12}  {:>12}  {:>8}  {:>11}  {}\n", "VERDICT",
                           "CHECK", "MEASURED", "BOUND", "EXPECTED", "VS EXP", "WARN/FAIL", "UNIT");
        for (const auto& o : r.outcomes) {
            std::string name = o.name;
            if (name.size() > 40)
                name = name.substr(0, 37) + "...";
            if (o.verification_screen || !std::isfinite(o.bound)) {
                out += fmt::format("{:<7}  {:<40}  {}\n", to_string(o.verdict), name, o.message);
                continue;
            }
            out += fmt::format("{:<7}  {:<40}  {:>12}  {:>12}  {:>12}  {:>8}  {:>11}  {}\n",
                               to_string(o.verdict), name, num(o.measured), num(o.bound),
                               num(o.expected), pct_cell(o.deviation_pct),
                               fmt::format("{}/{} %", o.warn_pct, o.fail_pct), o.unit);
        }
        out += fmt::format(
            "overall: {} ({} pass, {} warn, {} fail, {} error, {} skipped; bound = one-sided "
            "{:.0f} % confidence)\n",
            to_string(r.overall), c.pass, c.warn, c.fail, c.error, c.skipped, 100 * r.confidence);
        for (const auto& o : r.outcomes) {
            if (o.verdict != QualifyVerdict::pass && !o.verification_screen &&
                std::isfinite(o.bound)) {
                out += fmt::format("  {} {}: {}\n", to_string(o.verdict), o.name, o.message);
            }
        }
        out += "\n";
    }
    return out;
}

std::string render_markdown(const std::vector<QualifyReport>& reports) {
    std::string out = "# Qualification\n\n";
    for (const auto& r : reports) {
        const Counts c = count(r);
        out +=
            fmt::format("## {}: {}\n\n", escape::markdown_text(run_title(r)), to_string(r.overall));
        out += fmt::format(
            "Spec {} ({}); {} pass, {} warn, {} fail, {} error, {} skipped. Verdicts use the "
            "one-sided {:.0f} % confidence bound of each measured value (lower bound; upper for "
            "lower-is-better metrics).\n\n",
            escape::markdown_code(r.spec_name), escape::markdown_text(r.spec_source), c.pass,
            c.warn, c.fail, c.error, c.skipped, 100 * r.confidence);
        out +=
            "| verdict | check | metric | measured | bound | expected | vs expected | warn / "
            "fail | unit | detail |\n|---|---|---|---:|---:|---:|---:|---|---|---|\n";
        for (const auto& o : r.outcomes) {
            const bool has = std::isfinite(o.bound);
            const std::string verdict = o.verdict == QualifyVerdict::pass
                                            ? "PASS"
                                            : fmt::format("**{}**", to_string(o.verdict));
            out += fmt::format(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", verdict,
                escape::markdown_cell(o.name),
                o.verification_screen ? "verification" : escape::markdown_cell(o.metric),
                has ? num(o.measured) : "-", has ? num(o.bound) : "-",
                o.verification_screen ? "-" : num(o.expected),
                has ? pct_cell(o.deviation_pct) : "-",
                o.verification_screen ? "-" : fmt::format("{} / {} %", o.warn_pct, o.fail_pct),
                escape::markdown_cell(o.unit), escape::markdown_cell(o.message));
        }
        out += "\n";
    }
    return out;
}

std::string junit_number(double v) {
    return std::isfinite(v) ? fmt::format("{}", v) : "";
}

/// A TOML basic string.
std::string toml_string(const std::string& s) {
    std::string out = "\"";
    for (char ch : s) {
        const auto u = static_cast<unsigned char>(ch);
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += ch;
        } else if (u < 0x20 || u == 0x7f) {
            out += fmt::format("\\u{:04X}", static_cast<unsigned>(u));
        } else {
            out += ch;
        }
    }
    return out + "\"";
}

std::string regex_escape(const std::string& s) {
    std::string out;
    for (char ch : s) {
        if (std::string_view(".^$|()[]{}*+?\\/").find(ch) != std::string_view::npos) {
            out += '\\';
        }
        out += ch;
    }
    return out;
}

/// Rounded up to one decimal, so a printed tolerance is never tighter than the computed one.
double round_up_tenth(double v) {
    return std::ceil(v * 10.0 - 1e-9) / 10.0;
}

std::string toml_number(double v) {
    std::string s = fmt::format("{:.5g}", v);
    if (s.find_first_of(".eE") == std::string::npos) {
        s += ".0";
    }
    return s;
}

}  // namespace

const char* to_string(QualifyAggregation a) {
    switch (a) {
        case QualifyAggregation::all:
            return "all";
        case QualifyAggregation::min:
            return "min";
        case QualifyAggregation::max:
            return "max";
        case QualifyAggregation::median:
            return "median";
    }
    return "all";
}

const char* to_string(QualifyStatistic s) {
    return s == QualifyStatistic::best ? "best" : "median";
}

const char* to_string(QualifyVerdict v) {
    switch (v) {
        case QualifyVerdict::pass:
            return "PASS";
        case QualifyVerdict::warn:
            return "WARN";
        case QualifyVerdict::fail:
            return "FAIL";
        case QualifyVerdict::error:
            return "ERROR";
        case QualifyVerdict::skipped:
            return "SKIPPED";
    }
    return "ERROR";
}

QualifySpec parse_qualify_spec(const std::string& toml_text, const std::string& source_name) {
    toml::table root;
    try {
        root = toml::parse(toml_text, source_name);
    } catch (const toml::parse_error& e) {
        spec_error(source_name, static_cast<int>(e.source().begin.line),
                   std::string(e.description()));
    }
    QualifySpec spec;
    spec.source = source_name;
    check_known_keys(source_name, root, {"spec", "check"}, "top level");
    if (const toml::node* s = root.get("spec")) {
        const toml::table* st = s->as_table();
        if (st == nullptr)
            spec_error(source_name, line_of(*s), "[spec] must be a table");
        check_known_keys(source_name, *st,
                         {"name", "description", "confidence", "screen_verification"}, "[spec]");
        CheckReader r(source_name, *st, line_of(*s));
        r.set_name("[spec]");
        spec.name = r.string("name").value_or("");
        spec.description = r.string("description").value_or("");
        spec.confidence = r.number("confidence").value_or(spec.confidence);
        if (spec.confidence < 0.5 || spec.confidence > 0.999)
            spec_error(source_name, r.line_of_key("confidence"),
                       fmt::format("[spec]: confidence must be in [0.5, 0.999] (got {})",
                                   spec.confidence));
        spec.screen_verification = r.boolean("screen_verification").value_or(true);
    }
    if (spec.name.empty()) {
        spec.name = std::filesystem::path(source_name).stem().string();
    }
    const toml::node* checks = root.get("check");
    if (checks == nullptr) {
        spec_error(source_name, 1, "no [[check]] entries");
    }
    const toml::array* arr = checks->as_array();
    if (arr == nullptr) {
        spec_error(source_name, line_of(*checks), "'check' must be an array of tables ([[check]])");
    }
    std::map<std::string, int> seen;
    for (const toml::node& n : *arr) {
        const toml::table* t = n.as_table();
        if (t == nullptr)
            spec_error(source_name, line_of(n), "each check must be a table ([[check]])");
        QualifyCheck c = read_check(source_name, *t, line_of(n));
        if (auto it = seen.find(c.name); it != seen.end())
            spec_error(source_name, c.line,
                       fmt::format("check '{}': name already used on line {}", c.name, it->second));
        seen[c.name] = c.line;
        spec.checks.push_back(std::move(c));
    }
    if (spec.checks.empty()) {
        spec_error(source_name, line_of(*checks), "no [[check]] entries");
    }
    return spec;
}

QualifySpec load_qualify_spec(const std::filesystem::path& path) {
    return parse_qualify_spec(read_file_text(path), path.string());
}

QualifyVerdict qualify_overall(const std::vector<QualifyOutcome>& outcomes) {
    QualifyVerdict worst = QualifyVerdict::pass;
    for (const auto& o : outcomes) {
        if (severity(o.verdict) > severity(worst)) {
            worst = o.verdict;
        }
    }
    return worst;
}

int qualify_exit_code(QualifyVerdict overall) {
    switch (overall) {
        case QualifyVerdict::pass:
        case QualifyVerdict::skipped:
            return 0;
        case QualifyVerdict::fail:
            return 1;
        case QualifyVerdict::warn:
            return 2;
        case QualifyVerdict::error:
            return 3;
    }
    return 3;
}

double median_confidence_bound(std::vector<double> values, double confidence, bool lower,
                               std::string* basis) {
    if (values.empty()) {
        if (basis != nullptr)
            *basis = "no samples";
        return std::numeric_limits<double>::quiet_NaN();
    }
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    const double alpha = 1.0 - confidence;
    // P(X(k) > median) = P(Binomial(n, 1/2) <= k - 1): take the largest k whose tail is still
    // <= alpha. Terms in log space so thousands of samples do not underflow 0.5^n.
    const double log_half_n = static_cast<double>(n) * std::log(0.5);
    const double log_n_fact = std::lgamma(static_cast<double>(n) + 1);
    double cdf = 0;
    std::size_t k = 0;  // 1-based order statistic; 0 = none qualifies
    for (std::size_t i = 0; i < n; ++i) {
        const double di = static_cast<double>(i);
        cdf += std::exp(log_n_fact - std::lgamma(di + 1) -
                        std::lgamma(static_cast<double>(n) - di + 1) + log_half_n);
        if (cdf > alpha) {
            break;
        }
        k = i + 1;
    }
    const double level = 100 * confidence;
    if (k == 0) {
        if (basis != nullptr)
            *basis = fmt::format("{} sample(s) are too few for a {:.0f} % bound: the worst sample",
                                 n, level);
        return lower ? values.front() : values.back();
    }
    if (basis != nullptr)
        *basis = fmt::format("order statistic {} of {} ({:.0f} % one-sided)", k, n, level);
    return lower ? values[k - 1] : values[n - k];
}

bool glob_match(const std::string& pattern, const std::string& text) {
    // Iterative wildcard matching with single-star backtracking.
    std::size_t p = 0, t = 0, star = std::string::npos, mark = 0;
    while (t < text.size()) {
        if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
            ++p;
            ++t;
        } else if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            mark = t;
        } else if (star != std::string::npos) {
            p = star + 1;
            t = ++mark;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*') {
        ++p;
    }
    return p == pattern.size();
}

QualifyReport evaluate_spec(const QualifySpec& spec, const RunWithResults& run) {
    QualifyReport report;
    report.spec_name = spec.name;
    report.spec_source = spec.source;
    report.run = run.run;
    report.confidence = spec.confidence;
    for (const auto& c : spec.checks) {
        report.outcomes.push_back(evaluate_check(c, spec, run));
    }
    if (spec.screen_verification) {
        // Silent-data-corruption screen: a wrong answer anywhere in the run fails the host,
        // whether or not a check selects that benchmark.
        for (const auto& sr : run.results) {
            const Result& r = sr.result;
            if (r.status != ResultStatus::failed) {
                continue;
            }
            QualifyOutcome o;
            o.name = fmt::format("verification: {}@{}:{}", r.bench_case.id(), r.device, r.backend);
            o.verification_screen = true;
            o.verdict = QualifyVerdict::fail;
            o.measured = o.bound = o.deviation_pct = std::numeric_limits<double>::quiet_NaN();
            o.message = fmt::format("result {} failed{}: {}", sr.id,
                                    r.verification.empty() ? "" : " (" + r.verification + ")",
                                    r.message.empty() ? "no detail stored" : r.message);
            report.outcomes.push_back(std::move(o));
        }
    }
    report.overall = qualify_overall(report.outcomes);
    return report;
}

QualifyFormat qualify_format_from_string(const std::string& s) {
    if (s == "table")
        return QualifyFormat::table;
    if (s == "md" || s == "markdown")
        return QualifyFormat::markdown;
    throw UsageError(fmt::format("unknown qualify format '{}' (expected table or md)", s));
}

std::string render_qualify(const std::vector<QualifyReport>& reports, QualifyFormat format) {
    return format == QualifyFormat::table ? render_table(reports) : render_markdown(reports);
}

std::string render_junit(const std::vector<QualifyReport>& reports) {
    Counts total;
    for (const auto& r : reports) {
        const Counts c = count(r);
        total.pass += c.pass;
        total.warn += c.warn;
        total.fail += c.fail;
        total.error += c.error;
        total.skipped += c.skipped;
    }
    const std::size_t tests = total.pass + total.warn + total.fail + total.error + total.skipped;
    std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    out += fmt::format(
        "<testsuites name=\"assay qualify\" tests=\"{}\" failures=\"{}\" errors=\"{}\" "
        "skipped=\"{}\" time=\"0\">\n",
        tests, total.fail, total.error, total.skipped);
    for (const auto& r : reports) {
        const Counts c = count(r);
        const std::string suite =
            fmt::format("{} @ {} run {}", r.spec_name, r.run.hostname, r.run.id);
        out += fmt::format(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" "
            "time=\"0\" timestamp=\"{}\" hostname=\"{}\">\n",
            escape::xml_text(suite), r.outcomes.size(), c.fail, c.error, c.skipped,
            escape::xml_text(r.run.info.started_at), escape::xml_text(r.run.hostname));
        out += "    <properties>\n";
        const std::vector<std::pair<std::string, std::string>> props = {
            {"spec", r.spec_name},
            {"spec_file", r.spec_source},
            {"verdict", to_string(r.overall)},
            {"confidence", fmt::format("{}", r.confidence)},
            {"host", r.run.hostname},
            {"fingerprint", r.run.fingerprint},
            {"run_id", std::to_string(r.run.id)},
            {"run_uuid", r.run.info.uuid},
            {"run_started_at", r.run.info.started_at},
            {"run_status", to_string(r.run.status)},
            {"suite", r.run.info.suite},
            {"tool_version", r.run.info.tool_version},
            {"git_sha", r.run.info.git_sha},
            {"warnings", std::to_string(c.warn)},
        };
        for (const auto& [k, v] : props) {
            out += fmt::format("      <property name=\"{}\" value=\"{}\"/>\n", escape::xml_text(k),
                               escape::xml_text(v));
        }
        out += "    </properties>\n";
        for (const auto& o : r.outcomes) {
            const std::string classname = o.verification_screen ? "assay.qualify.verification"
                                                                : "assay.qualify." + r.spec_name;
            out += fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"0\"",
                               escape::xml_text(classname), escape::xml_text(o.name));
            std::string detail = o.verification_screen
                                     ? o.message
                                     : fmt::format(
                                           "{}\nmetric={} unit={} expected={} measured={} bound={} "
                                           "deviation_pct={} warn_pct={} fail_pct={} aggregate={}",
                                           o.message, o.metric, o.unit, junit_number(o.expected),
                                           junit_number(o.measured), junit_number(o.bound),
                                           junit_number(o.deviation_pct), o.warn_pct, o.fail_pct,
                                           to_string(o.aggregate));
            for (const auto& m : o.measurements) {
                detail += fmt::format("\n  result {} {}@{}:{} value={} bound={} n={} ({})",
                                      m.result_id, m.case_id, m.device, m.backend, m.value, m.bound,
                                      m.samples, m.bound_basis);
            }
            switch (o.verdict) {
                case QualifyVerdict::fail:
                    out += fmt::format(
                        ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n",
                        escape::xml_text(o.message),
                        o.verification_screen ? "verification" : "FAIL", escape::xml_text(detail));
                    break;
                case QualifyVerdict::error:
                    out += fmt::format(">\n      <error message=\"{}\" type=\"ERROR\">{}</error>\n",
                                       escape::xml_text(o.message), escape::xml_text(detail));
                    break;
                case QualifyVerdict::skipped:
                    out += fmt::format(">\n      <skipped message=\"{}\"/>\n",
                                       escape::xml_text(o.message));
                    break;
                case QualifyVerdict::warn:
                case QualifyVerdict::pass:
                    out += fmt::format(">\n      <system-out>{}: {}</system-out>\n",
                                       to_string(o.verdict), escape::xml_text(detail));
                    break;
            }
            out += "    </testcase>\n";
        }
        out += "  </testsuite>\n";
    }
    out += "</testsuites>\n";
    return out;
}

std::string device_kind(const std::string& device) {
    const auto colon = device.find(':');
    return colon == std::string::npos ? device : device.substr(0, colon);
}

std::string headline_metric_of(const Result& result) {
    for (const char* prefix : kHeadlineMetrics) {
        const std::string p = prefix;
        if (result.find_metric(p + ".best") != nullptr &&
            result.find_metric(p + ".median") != nullptr) {
            return p;
        }
    }
    return {};
}

std::string derive_spec(const std::vector<RunWithResults>& runs, const DeriveOptions& options) {
    struct Observation {
        std::string host;
        std::int64_t run_id = 0;
        std::string device;
        double value = 0;
        double bound = 0;  ///< its own confidence bound (lower; upper for lower-is-better)
    };
    struct Group {
        Case bench_case;
        std::string kind, backend, metric, unit;
        Direction direction = Direction::none;
        std::vector<Observation> obs;
    };
    std::map<std::string, Group> groups;
    std::set<std::string> hosts;
    for (const auto& rw : runs) {
        for (const auto& sr : rw.results) {
            const Result& r = sr.result;
            if (r.status != ResultStatus::ok || !r.verified) {
                continue;
            }
            const std::string metric = headline_metric_of(r);
            if (metric.empty()) {
                continue;
            }
            const Metric* m = r.find_metric(metric + ".median");
            if (m == nullptr || m->direction == Direction::none || !std::isfinite(m->value) ||
                m->value <= 0) {
                continue;
            }
            const std::string kind = device_kind(r.device);
            const std::string key = r.bench_case.id() + "@" + kind + ":" + r.backend;
            Group& g = groups[key];
            g.bench_case = r.bench_case;
            g.kind = kind;
            g.backend = r.backend;
            g.metric = metric;
            g.unit = m->unit;
            g.direction = m->direction;
            const auto values = metric_samples(r, m->value, m->direction, QualifyStatistic::median);
            const double bound = values.empty() ? m->value
                                                : median_confidence_bound(
                                                      values, options.confidence,
                                                      m->direction != Direction::lower_is_better);
            g.obs.push_back({rw.run.hostname, rw.run.id, r.device, m->value, bound});
            hosts.insert(rw.run.hostname);
        }
    }
    if (groups.empty()) {
        throw InputError(
            "derive: no ok, verified result with a throughput or latency metric in "
            "the selected runs");
    }
    std::string out;
    out += fmt::format("# Qualification spec derived by assay qualify{}\n",
                       options.generated_at.empty() ? "" : " at " + options.generated_at);
    if (!options.command_line.empty()) {
        out += fmt::format("# Command: {}\n", options.command_line);
    }
    std::string sources;
    for (const auto& rw : runs) {
        sources +=
            fmt::format("{}{} (run {})", sources.empty() ? "" : ", ", rw.run.hostname, rw.run.id);
    }
    out += fmt::format("# From {} run(s) of {} host(s): {}\n", runs.size(), hosts.size(), sources);
    out += fmt::format(
        "# expected = median over those runs and devices of each case's headline metric "
        "(.median).\n"
        "# sigma = 1.4826 x MAD (robust standard deviation) over the same observations.\n"
        "# warn_pct = max({}, {} sigma / expected, largest gap between expected and a "
        "contributing\n"
        "# run's own one-sided {:.0f} % bound + 0.5), rounded up to 0.1;\n"
        "# fail_pct = max({}, {} sigma / expected, 2 x warn_pct). A check judges the one-sided\n"
        "# {:.0f} % confidence bound of a host's median against expected.\n"
        "# Hosts are assumed healthy: review outliers (assay fleet) before trusting this spec.\n\n",
        options.min_warn_pct, options.warn_sigmas, 100 * options.confidence, options.min_fail_pct,
        options.fail_sigmas, 100 * options.confidence);
    out += "[spec]\n";
    out += fmt::format("name = {}\n", toml_string(options.name));
    out += fmt::format(
        "description = {}\n",
        toml_string(fmt::format("derived from {} host(s), {} run(s)", hosts.size(), runs.size())));
    out += fmt::format("confidence = {}\n\n", toml_number(options.confidence));
    for (const auto& [key, g] : groups) {
        std::vector<double> values;
        for (const auto& o : g.obs) {
            values.push_back(o.value);
        }
        const double med = median_of(values);
        // The bar must let every contributing (healthy) run pass: cover the largest gap between
        // expected and a contributing run's own confidence bound.
        double widest_own = 0;
        for (const auto& o : g.obs) {
            widest_own = std::max(widest_own, deviation_pct(med, o.bound, g.direction));
        }
        std::vector<double> dev;
        for (double v : values) {
            dev.push_back(std::fabs(v - med));
        }
        const double mad = median_of(dev);
        const double sigma_pct = 100.0 * 1.4826 * mad / med;
        const double lo = *std::min_element(values.begin(), values.end());
        const double hi = *std::max_element(values.begin(), values.end());
        const double warn = round_up_tenth(
            std::max({options.min_warn_pct, options.warn_sigmas * sigma_pct, widest_own + 0.5}));
        const double fail = round_up_tenth(
            std::max({options.min_fail_pct, options.fail_sigmas * sigma_pct, 2 * warn}));
        std::set<std::string> group_hosts;
        for (const auto& o : g.obs) {
            group_hosts.insert(o.host);
        }
        out += "[[check]]\n";
        out += fmt::format(
            "# n = {} ({} host(s)); median {} {}, MAD {} ({:.2f} % sigma); range {} .. {}; "
            "largest own-bound gap {:.2f} %\n",
            g.obs.size(), group_hosts.size(), toml_number(med), g.unit, toml_number(mad), sigma_pct,
            toml_number(lo), toml_number(hi), widest_own);
        out += fmt::format("name = {}\n", toml_string(key));
        out += fmt::format("benchmark = {}\n",
                           toml_string("^" + regex_escape(g.bench_case.benchmark) + "$"));
        if (!g.bench_case.params.empty()) {
            std::string p;
            for (const auto& [k, v] : g.bench_case.params) {
                p +=
                    fmt::format("{}{} = {}", p.empty() ? "" : ", ", toml_string(k), toml_string(v));
            }
            out += fmt::format("params = {{ {} }}\n", p);
        }
        out += "params_exact = true\n";
        out += fmt::format("device = {}\n", toml_string(g.kind == "cpu" ? "cpu" : g.kind + ":*"));
        out += fmt::format("backend = {}\n", toml_string(g.backend));
        out += fmt::format("metric = {}\n", toml_string(g.metric));
        out += "statistic = \"median\"\n";
        out += fmt::format("unit = {}\n", toml_string(g.unit));
        out += fmt::format("expected = {}\n", toml_number(med));
        out += fmt::format("warn_pct = {}\n", toml_number(warn));
        out += fmt::format("fail_pct = {}\n", toml_number(fail));
        out += "aggregate = \"all\"\n\n";
    }
    return out;
}

}  // namespace assay
