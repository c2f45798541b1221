#include "reports/run_report.hpp"

#include <algorithm>
#include <iterator>
#include <map>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/skips.hpp"
#include "reports/attention_section.hpp"
#include "reports/escape.hpp"
#include "reports/family_sections.hpp"
#include "reports/report_support.hpp"

namespace assay {
namespace {

using escape::markdown_cell;
using escape::markdown_code;
using escape::markdown_text;

/// Preferred throughput metrics, best first: the STREAM-convention bandwidth is what users
/// compare with stream.c and likwid-bench, so it is the headline when a kernel has one.
struct HeadlineMetric {
    const char* prefix;
    const char* quantity;
};
constexpr HeadlineMetric kHeadlines[] = {
    {"bandwidth_stream_gb_per_s", "bandwidth (STREAM bytes)"},
    {"gflop_per_s", "throughput"},
    {"gop_per_s", "integer throughput"},
    {"latency_ns", "latency per operation"},
    {"bandwidth_write_allocate_gb_per_s", "bandwidth (with write-allocate)"},
};

/// Significant-figure formatting that keeps tables readable from ns to TB/s.
std::string num(double v) {
    const double a = std::abs(v);
    if (a == 0)
        return "0";
    if (a >= 1000)
        return fmt::format("{:.0f}", v);
    if (a >= 100)
        return fmt::format("{:.1f}", v);
    if (a >= 1)
        return fmt::format("{:.2f}", v);
    return fmt::format("{:.3g}", v);
}

/// Times are stored in seconds; shown in the unit that gives 1-999.
std::pair<double, std::string> scale_seconds(double best, double median) {
    const double ref = median > 0 ? median : best;
    if (ref >= 1)
        return {1, "s"};
    if (ref >= 1e-3)
        return {1e3, "ms"};
    if (ref >= 1e-6)
        return {1e6, "us"};
    return {1e9, "ns"};
}

std::string short_fp(const std::string& fp) {
    return fp.substr(0, 12);
}

nlohmann::json metric_json(const Metric& m) {
    return {{"name", m.name},
            {"value", m.value},
            {"unit", m.unit},
            {"direction", to_string(m.direction)}};
}

/// The skipped results of a run, grouped by reason (the shared wording of core/skips).
std::vector<SkipGroup> skip_groups_of(const std::vector<StoredResult>& results) {
    std::vector<Result> skipped;
    for (const auto& sr : results) {
        if (sr.result.status == ResultStatus::skipped) {
            skipped.push_back(sr.result);
        }
    }
    return group_skipped(skipped);
}

nlohmann::json result_json(const StoredResult& sr) {
    const Result& r = sr.result;
    const Headline h = headline_of(r);
    nlohmann::json j = {
        {"id", sr.id},
        {"benchmark", r.bench_case.benchmark},
        {"params", r.bench_case.params},
        {"case_id", r.bench_case.id()},
        {"device", r.device},
        {"backend", r.backend},
        {"status", to_string(r.status)},
        {"message", r.message},
        {"verified", r.verified},
        {"verification", r.verification},
        {"implementation", r.implementation},
        {"time_unit", r.unit},
        {"samples", r.samples.size()},
        {"time",
         {{"min", r.stats.min},
          {"median", r.stats.median},
          {"mean", r.stats.mean},
          {"max", r.stats.max},
          {"stddev", r.stats.stddev},
          {"q1", r.stats.q1},
          {"q3", r.stats.q3},
          {"iqr", r.stats.iqr},
          {"rel_iqr", r.stats.rel_iqr()}}},
        {"started_at", r.started_at},
        {"wall_seconds", r.wall_seconds},
    };
    if (h.available) {
        j["headline"] = {
            {"quantity", h.quantity}, {"best", h.best}, {"median", h.median}, {"unit", h.unit}};
    } else {
        j["headline"] = nullptr;
    }
    j["metrics"] = nlohmann::json::array();
    for (const auto& m : r.metrics) {
        j["metrics"].push_back(metric_json(m));
    }
    return j;
}

std::string render_json(const std::vector<RunWithResults>& runs, const ReportContext& ctx) {
    nlohmann::json doc = {{"schema", "assay.report.runs/1"},
                          {"generated_at", ctx.generated_at},
                          {"db", ctx.db_path},
                          {"runs", nlohmann::json::array()}};
    for (const auto& rw : runs) {
        const StoredRun& r = rw.run;
        nlohmann::json jr = {
            {"id", r.id},
            {"uuid", r.info.uuid},
            {"host", {{"id", r.host_id}, {"hostname", r.hostname}}},
            {"hw_config", {{"id", r.hw_config_id}, {"fingerprint", r.fingerprint}}},
            {"started_at", r.info.started_at},
            {"finished_at", r.finished_at},
            {"status", to_string(r.status)},
            {"status_note", r.status_note},
            {"suite", r.info.suite},
            {"tags", r.info.tags},
            {"provenance",
             {{"tool_version", r.info.tool_version},
              {"git_sha", r.info.git_sha},
              {"compiler", r.info.compiler},
              {"compiler_flags", r.info.compiler_flags},
              {"build_type", r.info.build_type},
              {"command_line", r.info.command_line},
              {"environment", r.info.environment}}},
            {"results", nlohmann::json::array()},
        };
        for (const auto& sr : rw.results) {
            jr["results"].push_back(result_json(sr));
        }
        // Every skipped result stays in "results"; the groups are what the Markdown shows.
        jr["skipped_groups"] = nlohmann::json::array();
        for (const SkipGroup& g : skip_groups_of(rw.results)) {
            jr["skipped_groups"].push_back({{"reason", g.reason},
                                            {"count", g.count},
                                            {"device_kind", g.device_kind},
                                            {"families", g.families},
                                            {"benchmarks", g.benchmarks},
                                            {"line", describe(g)}});
        }
        jr["ceilings"] = nlohmann::json::array();
        for (const auto& sc : rw.ceilings) {
            const Ceiling& c = sc.ceiling;
            jr["ceilings"].push_back({{"device", c.device},
                                      {"name", c.name},
                                      {"value", c.value},
                                      {"unit", c.unit},
                                      {"direction", to_string(c.direction)},
                                      {"basis", c.basis},
                                      {"source_result_id", sc.source_result_id}});
        }
        doc["runs"].push_back(std::move(jr));
    }
    // Stored strings may hold invalid UTF-8 (ingested files): replaced, never a throw.
    return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string status_cell(const Result& r) {
    switch (r.status) {
        case ResultStatus::ok:
            return "ok";
        case ResultStatus::skipped:
            return "skipped: " + markdown_cell(r.message);
        case ResultStatus::failed:
            return "**FAILED**: " + markdown_cell(r.message);
    }
    return "?";
}

/// Skipped results, one collapsible line per reason (count, reason, families) instead of one
/// table row each: a CPU-only host would otherwise repeat the same GPU reason a dozen times.
/// Expanding a line lists the skipped cases, so no name is lost.
std::string render_skipped(const std::vector<StoredResult>& results) {
    const std::vector<SkipGroup> groups = skip_groups_of(results);
    if (groups.empty()) {
        return {};
    }
    std::size_t total = 0;
    for (const SkipGroup& g : groups) {
        total += g.count;
    }
    std::string out = fmt::format(
        "\nSkipped ({} of {} results, one line per reason; every skip is stored and "
        "`--format json` lists each):\n\n",
        total, results.size());
    for (const SkipGroup& g : groups) {
        out += fmt::format("<details><summary>{}</summary>\n\n", escape::html_text(describe(g)));
        for (const auto& name : g.benchmarks) {
            out += fmt::format("- {}\n", markdown_text(name));
        }
        out += "\n</details>\n";
    }
    return out;
}

/// Metrics whose name starts with `prefix`, as "name value unit" items (prefix stripped).
std::string metric_list(const Result& r, const std::string& prefix) {
    std::string out;
    for (const auto& m : r.metrics) {
        if (m.name.rfind(prefix, 0) != 0) {
            continue;
        }
        out += fmt::format("{}{} {}{}", out.empty() ? "" : "; ", m.name.substr(prefix.size()),
                           num(m.value), m.unit.empty() ? "" : " " + m.unit);
    }
    return out;
}

/// What could and could not be measured during the run (counters, telemetry), from provenance.
std::string render_conditions(const StoredRun& r) {
    std::string counters, telemetry;
    for (const auto& [key, value] : r.info.environment) {
        if (key.rfind("counter.", 0) == 0) {
            counters +=
                fmt::format("\n  - {}: {}", markdown_code(key.substr(8)), markdown_text(value));
        } else if (key.rfind("telemetry.", 0) == 0) {
            telemetry +=
                fmt::format("\n  - {}: {}", markdown_text(key.substr(10)), markdown_text(value));
        }
    }
    std::string out = "\nMeasurement conditions:\n";
    const auto hw = r.info.environment.find("hw_counters");
    if (hw != r.info.environment.end()) {
        out += fmt::format("- hardware counters on this host: {}\n", markdown_text(hw->second));
    }
    out += counters.empty() ? "- counters: none requested (`assay run --counters ...`)\n"
                            : "- counters requested:" + counters + "\n";
    out += telemetry.empty() ? "- telemetry: not recorded by this run\n"
                             : "- telemetry:" + telemetry + "\n";
    return out;
}

/// Per-result details: noise, verification, counters and telemetry.
std::string render_details(const std::vector<StoredResult>& results) {
    std::string out;
    for (const auto& sr : results) {
        const Result& r = sr.result;
        if (r.samples.empty()) {
            continue;
        }
        const Metric* target = r.find_metric("noise.target_met");
        out += fmt::format("\n**{}@{}:{}** — {} samples, rel IQR {:.2f} %{}\n",
                           markdown_text(r.bench_case.id()), markdown_text(r.device),
                           markdown_text(r.backend), r.samples.size(), 100.0 * r.stats.rel_iqr(),
                           target == nullptr      ? ""
                           : target->value != 0.0 ? " (noise target met)"
                                                  : " (noise target not met: time limit reached)");
        if (!r.verification.empty()) {
            out += fmt::format("- verification: {}\n", markdown_text(r.verification));
        }
        if (!r.implementation.empty()) {
            out += fmt::format("- implementation: {}\n", markdown_text(r.implementation));
        }
        const std::string counters = metric_list(r, "counter.");
        out += fmt::format("- counters (per kernel execution): {}\n",
                           counters.empty() ? "none recorded" : markdown_text(counters));
        const std::string telemetry = metric_list(r, "telemetry.");
        out += fmt::format("- telemetry: {}\n", telemetry.empty()
                                                    ? "none recorded (see measurement conditions)"
                                                    : markdown_text(telemetry));
    }
    return out.empty() ? out : "\nDetails:\n" + out;
}

std::string render_markdown(const std::vector<RunWithResults>& runs, const ReportContext& ctx) {
    std::string out = "# Assay report\n\n";
    // Group by host, keeping the order the runs arrived in (newest first from the store).
    std::vector<std::string> host_order;
    std::map<std::string, std::vector<const RunWithResults*>> by_host;
    for (const auto& rw : runs) {
        const std::string key = rw.run.hostname + " " + short_fp(rw.run.fingerprint);
        if (!by_host.count(key)) {
            host_order.push_back(key);
        }
        by_host[key].push_back(&rw);
    }
    out +=
        fmt::format("Generated {} from {}: {} run(s) on {} host configuration(s).\n",
                    ctx.generated_at, markdown_code(ctx.db_path), runs.size(), host_order.size());
    if (runs.empty()) {
        out += "\nNo runs are stored yet: `assay run` records one.\n";
        return out;
    }
    out +=
        "\n*best* = fastest sample (capability), *median* = typical sample (use for "
        "regressions); rel IQR = (Q3-Q1)/median of the per-sample times.\n";
    for (const auto& key : host_order) {
        const auto& host_runs = by_host[key];
        const StoredRun& first = host_runs.front()->run;
        out += fmt::format("\n## Host {} (hw config {})\n", markdown_code(first.hostname),
                           markdown_text(short_fp(first.fingerprint)));
        for (const RunWithResults* rw : host_runs) {
            const StoredRun& r = rw->run;
            out += fmt::format("\n### Run {} — {} — {}\n\n", r.id, markdown_text(r.info.started_at),
                               to_string(r.status));
            std::string tags;
            for (const auto& t : r.info.tags) {
                tags += (tags.empty() ? "" : ", ") + markdown_text(t);
            }
            out += fmt::format("- suite {}, tags: {}\n",
                               markdown_code(r.info.suite.empty() ? "-" : r.info.suite),
                               tags.empty() ? "none" : tags);
            if (!r.status_note.empty()) {
                out += fmt::format("- note: {}\n", markdown_text(r.status_note));
            }
            out += fmt::format("- assay {} (git {}), {} {}, flags {}\n",
                               markdown_text(r.info.tool_version), markdown_text(r.info.git_sha),
                               markdown_text(r.info.compiler), markdown_text(r.info.build_type),
                               markdown_code(r.info.compiler_flags));
            if (rw->results.empty()) {
                out += "\nNo results stored for this run.\n";
                continue;
            }
            // Skipped results are listed once per reason below the table, not row by row.
            const bool any_measured = std::any_of(
                rw->results.begin(), rw->results.end(),
                [](const StoredResult& sr) { return sr.result.status != ResultStatus::skipped; });
            if (any_measured) {
                out +=
                    "\n| benchmark | parameters | device | backend | status | best | median | "
                    "unit | rel IQR | samples | verified |\n";
                out += "|---|---|---|---|---|---:|---:|---|---:|---:|---|\n";
            }
            for (const auto& sr : rw->results) {
                const Result& res = sr.result;
                if (res.status == ResultStatus::skipped) {
                    continue;
                }
                const Headline h = headline_of(res);
                std::string best = "-", median = "-", unit = "-", noise = "-";
                if (h.available) {
                    best = num(h.best);
                    median = num(h.median);
                    unit = markdown_cell(h.unit);
                    noise = fmt::format("{:.2f} %", 100.0 * res.stats.rel_iqr());
                }
                out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                                   markdown_cell(res.bench_case.benchmark),
                                   markdown_cell(res.bench_case.canonical_params()),
                                   markdown_cell(res.device), markdown_cell(res.backend),
                                   status_cell(res), best, median, unit, noise, res.samples.size(),
                                   res.status == ResultStatus::skipped ? "-"
                                   : res.verified                      ? "yes"
                                                                       : "**no**");
            }
            out += render_skipped(rw->results);
            out += render_ceilings_section(rw->ceilings);
            // The family tables show what was measured (or failed); skips are explained once
            // per reason above instead of once per row in every table.
            std::vector<StoredResult> attempted;
            std::copy_if(
                rw->results.begin(), rw->results.end(), std::back_inserter(attempted),
                [](const StoredResult& sr) { return sr.result.status != ResultStatus::skipped; });
            out += render_family_sections(attempted);
            out += render_attention_section(attempted);
            out += render_conditions(r);
            out += render_details(rw->results);
        }
    }
    return out;
}

}  // namespace

ReportFormat report_format_from_string(const std::string& s) {
    if (s == "md" || s == "markdown")
        return ReportFormat::markdown;
    if (s == "json")
        return ReportFormat::json;
    throw UsageError(fmt::format("unknown report format '{}' (expected md or json)", s));
}

Headline headline_of(const Result& r) {
    Headline h;
    if (r.samples.empty()) {
        return h;
    }
    for (const auto& hm : kHeadlines) {
        const Metric* best = r.find_metric(std::string(hm.prefix) + ".best");
        const Metric* median = r.find_metric(std::string(hm.prefix) + ".median");
        if (best != nullptr && median != nullptr) {
            return {hm.quantity, best->value, median->value, best->unit, true};
        }
    }
    const auto [scale, unit] = scale_seconds(r.stats.min, r.stats.median);
    return {"time", r.stats.min * scale, r.stats.median * scale, unit, true};
}

std::string render_run_report(const std::vector<RunWithResults>& runs, const ReportContext& context,
                              ReportFormat format) {
    return format == ReportFormat::json ? render_json(runs, context)
                                        : render_markdown(runs, context);
}

}  // namespace assay
