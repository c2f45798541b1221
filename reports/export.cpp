#include "reports/export.hpp"

#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/pattern.hpp"
#include "reports/escape.hpp"

namespace assay {

namespace {

using nlohmann::json;

std::string number(double v) {
    return std::isfinite(v) ? fmt::format("{}", v) : std::string();
}

json json_number(double v) {
    return std::isfinite(v) ? json(v) : json(nullptr);
}

using escape::csv_field;

std::string join(const std::vector<std::string>& items, const char* sep) {
    std::string out;
    for (const auto& item : items) {
        out += (out.empty() ? "" : sep) + item;
    }
    return out;
}

bool selected(const Result& r, const Pattern* filter) {
    return filter == nullptr || filter->search(r.bench_case.id());
}

json run_json(const StoredRun& run) {
    return {{"id", run.id},
            {"uuid", run.info.uuid},
            {"started_at", run.info.started_at},
            {"finished_at", run.finished_at},
            {"status", to_string(run.status)},
            {"status_note", run.status_note},
            {"hostname", run.hostname},
            {"hw_config_id", run.hw_config_id},
            {"fingerprint", run.fingerprint},
            {"suite", run.info.suite},
            {"tags", run.info.tags},
            {"tool_version", run.info.tool_version},
            {"git_sha", run.info.git_sha},
            {"compiler", run.info.compiler},
            {"compiler_flags", run.info.compiler_flags},
            {"build_type", run.info.build_type},
            {"command_line", run.info.command_line},
            {"environment", run.info.environment}};
}

json result_json(const StoredResult& sr) {
    const Result& r = sr.result;
    json samples = json::array();
    for (const double s : r.samples) {
        samples.push_back(json_number(s));
    }
    json metrics = json::array();
    for (const Metric& m : r.metrics) {
        metrics.push_back({{"name", m.name},
                           {"value", json_number(m.value)},
                           {"unit", m.unit},
                           {"direction", to_string(m.direction)}});
    }
    const SampleStats& s = r.stats;
    const bool has_stats = s.count > 0;
    const auto stat = [has_stats](double v) { return has_stats ? json_number(v) : json(nullptr); };
    const Headline h = headline_of(r);
    return {{"result_id", sr.id},
            {"case", r.bench_case.id()},
            {"benchmark", r.bench_case.benchmark},
            {"params", r.bench_case.params},
            {"family", r.bench_case.family()},
            {"device", r.device},
            {"backend", r.backend},
            {"implementation", r.implementation},
            {"status", to_string(r.status)},
            {"message", r.message},
            {"verified", r.verified},
            {"verification", r.verification},
            {"unit", r.unit},
            {"samples", samples},
            {"stats",
             {{"count", s.count},
              {"min", stat(s.min)},
              {"median", stat(s.median)},
              {"mean", stat(s.mean)},
              {"stddev", stat(s.stddev)},
              {"q1", stat(s.q1)},
              {"q3", stat(s.q3)},
              {"iqr", stat(s.iqr)},
              {"max", stat(s.max)}}},
            {"headline", h.available ? json{{"quantity", h.quantity},
                                            {"best", json_number(h.best)},
                                            {"median", json_number(h.median)},
                                            {"unit", h.unit}}
                                     : json(nullptr)},
            {"metrics", metrics},
            {"started_at", r.started_at},
            {"wall_seconds", json_number(r.wall_seconds)}};
}

}  // namespace

ExportFormat export_format_from_string(const std::string& s) {
    if (s == "csv")
        return ExportFormat::csv;
    if (s == "json")
        return ExportFormat::json;
    throw UsageError(fmt::format("unknown export format '{}' (expected csv or json)", s));
}

void validate_selection(const ExportSelection& selection) {
    if (!selection.filter.empty()) {
        if (const std::string error = Pattern::compile_error(selection.filter); !error.empty()) {
            throw UsageError(
                fmt::format("--filter '{}': invalid regex: {}", selection.filter, error));
        }
    }
    if (!selection.since.empty()) {
        static const Pattern iso = Pattern::compile(
            R"(\d{4}-\d{2}-\d{2}([T ]\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?Z?)?)", "ISO-8601 time");
        if (!iso.full_match(selection.since)) {
            throw UsageError(
                fmt::format("--since '{}': expected a UTC ISO-8601 time such as 2026-11-01 or "
                            "2026-11-01T00:00:00Z",
                            selection.since));
        }
    }
}

const std::vector<std::string>& export_csv_columns() {
    static const std::vector<std::string> columns = {"run_id",
                                                     "run_uuid",
                                                     "run_started_at",
                                                     "run_status",
                                                     "hostname",
                                                     "fingerprint",
                                                     "suite",
                                                     "tags",
                                                     "tool_version",
                                                     "git_sha",
                                                     "result_id",
                                                     "benchmark",
                                                     "params",
                                                     "family",
                                                     "device",
                                                     "backend",
                                                     "implementation",
                                                     "status",
                                                     "verified",
                                                     "sample_unit",
                                                     "sample_count",
                                                     "min",
                                                     "median",
                                                     "mean",
                                                     "stddev",
                                                     "q1",
                                                     "q3",
                                                     "iqr",
                                                     "max",
                                                     "headline_quantity",
                                                     "headline_best",
                                                     "headline_median",
                                                     "headline_unit",
                                                     "metric",
                                                     "metric_value",
                                                     "metric_unit",
                                                     "metric_direction"};
    return columns;
}

std::string render_export(const std::vector<RunWithResults>& runs, const ExportSelection& selection,
                          ExportFormat format, const std::string& generated_at) {
    validate_selection(selection);
    std::optional<Pattern> filter;
    if (!selection.filter.empty()) {
        filter = Pattern::compile(selection.filter, "--filter");
    }
    const Pattern* f = filter ? &*filter : nullptr;
    const auto in_time = [&selection](const StoredRun& run) {
        return selection.since.empty() || run.info.started_at >= selection.since;
    };

    if (format == ExportFormat::json) {
        json out_runs = json::array();
        for (const auto& rw : runs) {
            if (!in_time(rw.run))
                continue;
            json results = json::array();
            for (const auto& sr : rw.results) {
                if (selected(sr.result, f))
                    results.push_back(result_json(sr));
            }
            if (results.empty() && f != nullptr)
                continue;
            json run = run_json(rw.run);
            run["results"] = std::move(results);
            out_runs.push_back(std::move(run));
        }
        const json doc = {{"schema", "assay.export/1"},
                          {"generated_at", generated_at},
                          {"selection", {{"filter", selection.filter}, {"since", selection.since}}},
                          {"runs", out_runs}};
        return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
    }

    std::string out = join(export_csv_columns(), ",") + "\n";
    for (const auto& rw : runs) {
        const StoredRun& run = rw.run;
        if (!in_time(run))
            continue;
        const std::vector<std::string> run_cols = {
            std::to_string(run.id), run.info.uuid,   run.info.started_at, to_string(run.status),
            run.hostname,           run.fingerprint, run.info.suite,      join(run.info.tags, ";"),
            run.info.tool_version,  run.info.git_sha};
        for (const auto& sr : rw.results) {
            const Result& r = sr.result;
            if (!selected(r, f))
                continue;
            const bool has = r.stats.count > 0;
            const auto stat = [has](double v) { return has ? number(v) : std::string(); };
            const Headline h = headline_of(r);
            std::vector<std::string> cols = run_cols;
            for (const std::string& v : {std::to_string(sr.id),
                                         r.bench_case.benchmark,
                                         r.bench_case.canonical_params(),
                                         r.bench_case.family(),
                                         r.device,
                                         r.backend,
                                         r.implementation,
                                         std::string(to_string(r.status)),
                                         std::string(r.verified ? "1" : "0"),
                                         r.unit,
                                         std::to_string(r.stats.count),
                                         stat(r.stats.min),
                                         stat(r.stats.median),
                                         stat(r.stats.mean),
                                         stat(r.stats.stddev),
                                         stat(r.stats.q1),
                                         stat(r.stats.q3),
                                         stat(r.stats.iqr),
                                         stat(r.stats.max),
                                         h.available ? h.quantity : "",
                                         h.available ? number(h.best) : "",
                                         h.available ? number(h.median) : "",
                                         h.available ? h.unit : ""}) {
                cols.push_back(v);
            }
            const auto emit = [&out, &cols](const std::vector<std::string>& metric_cols) {
                std::string line;
                for (const auto& c : cols)
                    line += (line.empty() ? "" : ",") + csv_field(c);
                for (const auto& c : metric_cols)
                    line += "," + csv_field(c);
                out += line + "\n";
            };
            if (r.metrics.empty()) {
                emit({"", "", "", ""});
            }
            for (const Metric& m : r.metrics) {
                emit({m.name, number(m.value), m.unit, to_string(m.direction)});
            }
        }
    }
    return out;
}

}  // namespace assay
