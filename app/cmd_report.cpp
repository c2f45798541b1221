// assay report: stored runs per host with their results. Reads the store; never measures.
#include <filesystem>

#include <fmt/format.h>

#include "app/cli_common.hpp"
#include "app/commands.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "reports/run_report.hpp"
#include "store/store.hpp"

namespace assay::cli {

Action add_report_command(CLI::App& app) {
    struct Opts {
        std::string db = "assay.db";
        std::string format = "md";
        std::string output;
        std::int64_t run_id = 0;
        std::string host;
        std::string tag;
        std::size_t last = 0;
    };
    auto o = std::make_shared<Opts>();
    auto* cmd =
        app.add_subcommand("report", "Report stored runs per host (best, median, noise, verified)");
    add_db_option(*cmd, o->db);
    cmd->add_option("--format", o->format, "md or json")->capture_default_str();
    cmd->add_option("-o,--output", o->output, "Write to FILE instead of stdout");
    cmd->add_option("--run", o->run_id, "Only this run id")->check(run_id());
    cmd->add_option("--host", o->host, "Only runs of this hostname");
    cmd->add_option("--tag", o->tag, "Only runs with this tag");
    cmd->add_option("--last", o->last, "Only the newest N runs")->check(count());
    // `assay report compare ...` is a subcommand of report with its own options.
    const Action compare = add_report_compare_command(*cmd);
    CLI::App* compare_cmd = cmd->get_subcommand("compare");
    return [o, compare, compare_cmd]() -> int {
        if (compare_cmd->parsed()) {
            return compare();
        }
        const ReportFormat format = report_format_from_string(o->format);
        const Store store = Store::open(o->db, OpenMode::read_only);
        RunFilter filter;
        if (o->run_id > 0)
            filter.run_id = o->run_id;
        filter.hostname = o->host;
        filter.tag = o->tag;
        filter.limit = o->last;
        std::vector<RunWithResults> runs;
        for (auto& run : store.list_runs(filter)) {
            auto results = store.results_for_run(run.id);
            auto ceilings = store.ceilings_for_run(run.id);
            runs.push_back({std::move(run), std::move(results), std::move(ceilings)});
        }
        if (o->run_id > 0 && runs.empty()) {
            throw InputError(fmt::format("no run {} in {}", o->run_id, o->db));
        }
        warn_unreadable_rows(store);
        const ReportContext ctx{o->db, utc_now_iso8601()};
        write_output(o->output, render_run_report(runs, ctx, format));
        return kOk;
    };
}

}  // namespace assay::cli
