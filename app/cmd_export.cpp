// assay export: a selection of stored results as CSV or JSON (columns: docs/export.md).
#include <memory>

#include <fmt/format.h>

#include "app/cli_common.hpp"
#include "app/commands.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "reports/export.hpp"
#include "store/store.hpp"

namespace assay::cli {

Action add_export_command(CLI::App& app) {
    struct Opts {
        std::string db = "assay.db";
        std::string format = "csv";
        std::string output;
        std::int64_t run_id = 0;
        std::string host;
        std::string tag;
        ExportSelection selection;
    };
    auto o = std::make_shared<Opts>();
    auto* cmd = app.add_subcommand(
        "export", "Export stored results as CSV (one row per result and metric) or JSON");
    add_db_option(*cmd, o->db);
    cmd->add_option("--format", o->format, "csv or json")->capture_default_str();
    cmd->add_option("-o,--output", o->output, "Write to FILE instead of stdout");
    cmd->add_option("--run", o->run_id, "Only this run id")->check(run_id());
    cmd->add_option("--host", o->host, "Only runs of this hostname");
    cmd->add_option("--tag", o->tag, "Only runs with this tag");
    cmd->add_option("--filter", o->selection.filter,
                    "Only cases whose id (benchmark/params) matches this regex");
    cmd->add_option("--since", o->selection.since,
                    "Only runs started at or after this UTC ISO-8601 time");
    return [o]() -> int {
        const ExportFormat format = export_format_from_string(o->format);
        validate_selection(o->selection);
        const Store store = Store::open(o->db, OpenMode::read_only);
        RunFilter filter;
        if (o->run_id > 0) {
            filter.run_id = o->run_id;
        }
        filter.hostname = o->host;
        filter.tag = o->tag;
        auto listed = store.list_runs(filter);
        if (o->run_id > 0 && listed.empty()) {
            throw InputError(fmt::format("no run {} in {}", o->run_id, o->db));
        }
        std::vector<RunWithResults> runs;
        for (auto& run : listed) {
            if (!o->selection.since.empty() && run.info.started_at < o->selection.since) {
                continue;  // no need to read its results
            }
            auto results = store.results_for_run(run.id);
            runs.push_back({std::move(run), std::move(results), {}});
        }
        warn_unreadable_rows(store);
        write_output(o->output, render_export(runs, o->selection, format, utc_now_iso8601()));
        return kOk;
    };
}

}  // namespace assay::cli
