#include "reports/fleet.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/pattern.hpp"
#include "core/stats.hpp"
#include "reports/escape.hpp"

namespace assay {

namespace {

double median_of(std::vector<double> v) {
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    return quantile_sorted(v, 0.5);
}

/// Robust location and spread of a set of values, and the z-score rule that goes with them.
struct Spread {
    double median = 0;
    double mad = 0;
    double scale = 0;  ///< z = (x - median) / scale; 0 = no spread (every value equal)
    std::string basis;
};

Spread spread_of(const std::vector<double>& values) {
    Spread s;
    s.median = median_of(values);
    std::vector<double> dev;
    double sum_abs = 0;
    for (double v : values) {
        dev.push_back(std::fabs(v - s.median));
        sum_abs += std::fabs(v - s.median);
    }
    s.mad = median_of(dev);
    if (s.mad > 0) {
        // Iglewicz & Hoaglin: M = 0.6745 (x - median) / MAD.
        s.scale = s.mad / 0.6745;
        s.basis = "MAD";
        return s;
    }
    // MAD = 0 when more than half the values are equal. IBM SPSS / Iglewicz-Hoaglin fallback:
    // M = (x - median) / (1.253314 * MeanAD), MeanAD the mean absolute deviation from the median.
    const double mean_ad = values.empty() ? 0 : sum_abs / static_cast<double>(values.size());
    if (mean_ad > 0) {
        s.scale = 1.253314 * mean_ad;
        s.basis = "mean absolute deviation (MAD = 0)";
    } else {
        s.basis = "no spread (all values equal)";
    }
    return s;
}

bool is_slow(double z, double gap_pct, Direction d, const FleetOptions& o) {
    if (d == Direction::lower_is_better) {
        return z >= o.z_threshold && gap_pct >= o.min_gap_pct;
    }
    return z <= -o.z_threshold && gap_pct <= -o.min_gap_pct;
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

using escape::markdown_cell;
using escape::markdown_text;

nlohmann::json num_json(double v) {
    return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

std::string render_json(const FleetReport& r) {
    nlohmann::json j;
    j["schema"] = "assay.fleet/1";
    j["host_class"] = r.host_class;
    j["hosts_count"] = r.host_count;
    j["too_small"] = r.too_small;
    j["note"] = r.note;
    j["rules"] = {{"z_threshold", r.options.z_threshold},
                  {"min_gap_pct", r.options.min_gap_pct},
                  {"min_hosts", r.options.min_hosts},
                  {"min_devices_per_host", r.options.min_devices_per_host},
                  {"filter", r.options.filter_regex}};
    j["outlier_points"] = r.outlier_points;
    j["hosts"] = nlohmann::json::array();
    for (const auto& h : r.hosts) {
        j["hosts"].push_back({{"hostname", h.hostname},
                              {"run_id", h.run_id},
                              {"series_total", h.series_total},
                              {"series_failed", h.series_failed},
                              {"failed", h.failed}});
    }
    j["series"] = nlohmann::json::array();
    for (const auto& s : r.series) {
        nlohmann::json points = nlohmann::json::array();
        for (const auto& p : s.points) {
            points.push_back({{"hostname", p.hostname},
                              {"run_id", p.run_id},
                              {"device", p.device},
                              {"value", num_json(p.value)},
                              {"z", num_json(p.z)},
                              {"gap_pct", num_json(p.gap_pct)},
                              {"outlier", p.outlier},
                              {"device_outlier", p.device_outlier}});
        }
        j["series"].push_back({{"key", s.key},
                               {"case", s.case_id},
                               {"device_kind", s.device_kind},
                               {"backend", s.backend},
                               {"metric", s.metric},
                               {"unit", s.unit},
                               {"direction", to_string(s.direction)},
                               {"hosts", s.hosts},
                               {"median", num_json(s.median)},
                               {"mad", num_json(s.mad)},
                               {"spread_basis", s.spread_basis},
                               {"points", points}});
    }
    j["spec_fallback"] = nlohmann::json::array();
    for (const auto& q : r.spec_fallback) {
        nlohmann::json checks = nlohmann::json::array();
        for (const auto& o : q.outcomes) {
            checks.push_back({{"name", o.name},
                              {"verdict", to_string(o.verdict)},
                              {"measured", num_json(o.measured)},
                              {"bound", num_json(o.bound)},
                              {"expected", num_json(o.expected)},
                              {"deviation_pct", num_json(o.deviation_pct)},
                              {"message", o.message}});
        }
        j["spec_fallback"].push_back({{"hostname", q.run.hostname},
                                      {"run_id", q.run.id},
                                      {"spec", q.spec_name},
                                      {"verdict", to_string(q.overall)},
                                      {"checks", checks}});
    }
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string render_markdown(const FleetReport& r) {
    std::string out =
        fmt::format("# Fleet: host class {}\n\n", escape::markdown_code(r.host_class));
    out += fmt::format(
        "{} host(s), newest run of each. Outlier rule: modified z-score 0.6745 (x - median) / MAD "
        "<= -{} and a gap of at least {} % below the fleet median (above, for lower-is-better "
        "metrics); with MAD = 0 the mean absolute deviation (x 1.253314) stands in.\n\n",
        r.host_count, r.options.z_threshold, r.options.min_gap_pct);
    if (!r.note.empty()) {
        out += fmt::format("**{}**\n\n", markdown_text(r.note));
    }
    out += fmt::format("Outlier points: {}\n\n", r.outlier_points);

    out +=
        "## Hosts (most failed series first)\n\n| rank | host | run | failed series | of | "
        "failing |\n|---:|---|---:|---:|---:|---|\n";
    std::size_t rank = 0;
    for (const auto& h : r.hosts) {
        std::string failing;
        for (const auto& f : h.failed) {
            failing += (failing.empty() ? "" : "; ") + f;
        }
        out += fmt::format("| {} | {} | {} | {} | {} | {} |\n", ++rank, markdown_cell(h.hostname),
                           h.run_id, h.series_failed, h.series_total,
                           failing.empty() ? "-" : markdown_cell(failing));
    }
    out += "\n";

    bool any = false;
    std::string drill;
    for (const auto& s : r.series) {
        std::set<std::string> bad_hosts;
        for (const auto& p : s.points) {
            if (p.outlier || p.device_outlier) {
                bad_hosts.insert(p.hostname);
            }
        }
        if (bad_hosts.empty()) {
            continue;
        }
        any = true;
        // Per-device drill-down: every device of each affected host, so one slow GPU in eight
        // stands out against its siblings.
        drill += fmt::format("### {} ({}, {})\n\nFleet median {} {}, MAD {} ({})\n\n",
                             markdown_text(s.key), markdown_text(s.metric), to_string(s.direction),
                             num(s.median), markdown_text(s.unit), num(s.mad), s.spread_basis);
        drill +=
            "| host | device | value | gap vs median | modified z | verdict |\n"
            "|---|---|---:|---:|---:|---|\n";
        for (const auto& p : s.points) {
            if (bad_hosts.count(p.hostname) == 0) {
                continue;
            }
            const std::string verdict = p.outlier && p.device_outlier ? "**outlier (fleet, host)**"
                                        : p.outlier                   ? "**outlier (fleet)**"
                                        : p.device_outlier ? "**outlier (among host's devices)**"
                                                           : "ok";
            drill +=
                fmt::format("| {} | {} | {} | {:+.1f} % | {} | {} |\n", markdown_cell(p.hostname),
                            markdown_cell(p.device), num(p.value), p.gap_pct,
                            std::isfinite(p.z) ? fmt::format("{:.2f}", p.z) : "-", verdict);
        }
        drill += "\n";
    }
    out += "## Outliers with per-device drill-down\n\n";
    out += any ? drill : "None.\n\n";

    out +=
        "## Series\n\n| series | metric | unit | hosts | points | median | MAD | spread | "
        "outliers |\n|---|---|---|---:|---:|---:|---:|---|---:|\n";
    for (const auto& s : r.series) {
        std::size_t n_out = 0;
        for (const auto& p : s.points) {
            n_out += (p.outlier || p.device_outlier) ? 1 : 0;
        }
        out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", markdown_cell(s.key),
                           markdown_cell(s.metric), markdown_cell(s.unit), s.hosts, s.points.size(),
                           num(s.median), num(s.mad), s.spread_basis, n_out);
    }
    out += "\n";
    if (!r.spec_fallback.empty()) {
        out += "## Spec fallback (fleet too small for statistics)\n\n";
        std::string q = render_qualify(r.spec_fallback, QualifyFormat::markdown);
        const std::string header = "# Qualification\n\n";
        if (q.rfind(header, 0) == 0) {
            q = q.substr(header.size());
        }
        // Demote the per-run headings one level under this section.
        std::string demoted;
        std::size_t pos = 0;
        while (pos < q.size()) {
            const std::size_t end = q.find('\n', pos);
            std::string line = q.substr(pos, end == std::string::npos ? end : end - pos + 1);
            if (line.rfind("## ", 0) == 0) {
                line = "#" + line;
            }
            demoted += line;
            if (end == std::string::npos) {
                break;
            }
            pos = end + 1;
        }
        out += demoted;
    }
    return out;
}

}  // namespace

FleetReport analyze_fleet(const std::vector<RunWithResults>& newest_runs,
                          const std::string& host_class, const FleetOptions& options,
                          const QualifySpec* spec) {
    std::optional<Pattern> filter;
    if (!options.filter_regex.empty()) {
        filter = Pattern::compile(options.filter_regex, "--filter");
    }
    FleetReport report;
    report.host_class = host_class;
    report.options = options;

    std::set<std::string> hostnames;
    std::map<std::string, FleetSeries> series;
    for (const auto& rw : newest_runs) {
        if (!hostnames.insert(rw.run.hostname).second) {
            throw UsageError(
                fmt::format("fleet: host '{}' given twice (one run per host)", rw.run.hostname));
        }
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
            if (m == nullptr || !std::isfinite(m->value) || m->direction == Direction::none) {
                continue;
            }
            const std::string kind = device_kind(r.device);
            const std::string key = r.bench_case.id() + "@" + kind + ":" + r.backend;
            if (filter && !filter->search(key)) {
                continue;
            }
            FleetSeries& s = series[key];
            s.key = key;
            s.case_id = r.bench_case.id();
            s.device_kind = kind;
            s.backend = r.backend;
            s.metric = m->name;
            s.unit = m->unit;
            s.direction = m->direction;
            FleetPoint p;
            p.hostname = rw.run.hostname;
            p.run_id = rw.run.id;
            p.device = r.device;
            p.value = m->value;
            s.points.push_back(p);
        }
    }
    report.host_count = hostnames.size();
    report.too_small = report.host_count < options.min_hosts;
    if (report.too_small) {
        report.note = spec != nullptr
                          ? fmt::format(
                                "fleet too small ({} hosts < {}): no outlier statistics; "
                                "each host qualified against spec '{}' instead",
                                report.host_count, options.min_hosts, spec->name)
                          : fmt::format(
                                "fleet too small ({} hosts < {}): no outlier statistics; "
                                "give --spec to qualify each host",
                                report.host_count, options.min_hosts);
    }

    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (auto& [key, s] : series) {
        std::sort(s.points.begin(), s.points.end(), [](const FleetPoint& a, const FleetPoint& b) {
            return a.hostname != b.hostname ? a.hostname < b.hostname : a.device < b.device;
        });
        std::set<std::string> series_hosts;
        std::vector<double> values;
        for (const auto& p : s.points) {
            series_hosts.insert(p.hostname);
            values.push_back(p.value);
        }
        s.hosts = series_hosts.size();
        const Spread sp = spread_of(values);
        s.median = sp.median;
        s.mad = sp.mad;
        const bool fleet_stats = s.hosts >= options.min_hosts;
        s.spread_basis = fleet_stats ? sp.basis
                                     : fmt::format("fleet too small ({} hosts < {})", s.hosts,
                                                   options.min_hosts);
        for (auto& p : s.points) {
            p.gap_pct = s.median != 0 ? 100.0 * (p.value - s.median) / std::fabs(s.median) : nan;
            p.z = fleet_stats && sp.scale > 0 ? (p.value - s.median) / sp.scale : nan;
            p.outlier =
                fleet_stats && sp.scale > 0 && is_slow(p.z, p.gap_pct, s.direction, options);
        }
        // Device against device within each host (8 GPUs of one server share driver, clocks,
        // cooling policy): one slow GPU shows even in a fleet too small for host statistics.
        for (const auto& host : series_hosts) {
            std::vector<FleetPoint*> mine;
            std::vector<double> host_values;
            for (auto& p : s.points) {
                if (p.hostname == host) {
                    mine.push_back(&p);
                    host_values.push_back(p.value);
                }
            }
            if (mine.size() < options.min_devices_per_host) {
                continue;
            }
            const Spread hs = spread_of(host_values);
            if (hs.scale <= 0 || hs.median == 0) {
                continue;
            }
            for (FleetPoint* p : mine) {
                const double z = (p->value - hs.median) / hs.scale;
                const double gap = 100.0 * (p->value - hs.median) / std::fabs(hs.median);
                p->device_outlier = is_slow(z, gap, s.direction, options);
            }
        }
        for (const auto& p : s.points) {
            report.outlier_points += (p.outlier || p.device_outlier) ? 1 : 0;
        }
        report.series.push_back(s);
    }

    std::map<std::string, FleetHostRollup> rollup;
    for (const auto& rw : newest_runs) {
        rollup[rw.run.hostname].hostname = rw.run.hostname;
        rollup[rw.run.hostname].run_id = rw.run.id;
    }
    for (const auto& s : report.series) {
        std::map<std::string, std::vector<std::string>> bad;
        std::set<std::string> present;
        for (const auto& p : s.points) {
            present.insert(p.hostname);
            if (p.outlier || p.device_outlier) {
                bad[p.hostname].push_back(p.device);
            }
        }
        for (const auto& h : present) {
            ++rollup[h].series_total;
        }
        for (const auto& [h, devices] : bad) {
            auto& ru = rollup[h];
            ++ru.series_failed;
            std::string devs;
            for (const auto& d : devices) {
                devs += (devs.empty() ? "" : ",") + d;
            }
            ru.failed.push_back(fmt::format("{} [{}]", s.key, devs));
        }
    }
    for (auto& [h, ru] : rollup) {
        report.hosts.push_back(std::move(ru));
    }
    std::stable_sort(report.hosts.begin(), report.hosts.end(),
                     [](const FleetHostRollup& a, const FleetHostRollup& b) {
                         return a.series_failed > b.series_failed;
                     });

    if (report.too_small && spec != nullptr) {
        for (const auto& rw : newest_runs) {
            report.spec_fallback.push_back(evaluate_spec(*spec, rw));
        }
    }
    return report;
}

int fleet_exit_code(const FleetReport& report) {
    bool failed = report.outlier_points > 0;
    bool errored = false;
    for (const auto& q : report.spec_fallback) {
        failed = failed || q.overall == QualifyVerdict::fail;
        errored = errored || q.overall == QualifyVerdict::error;
    }
    if (failed) {
        return 1;
    }
    return errored ? 3 : 0;
}

FleetFormat fleet_format_from_string(const std::string& s) {
    if (s == "md" || s == "markdown")
        return FleetFormat::markdown;
    if (s == "json")
        return FleetFormat::json;
    throw UsageError(fmt::format("unknown fleet format '{}' (expected md or json)", s));
}

std::string render_fleet(const FleetReport& report, FleetFormat format) {
    return format == FleetFormat::json ? render_json(report) : render_markdown(report);
}

}  // namespace assay
