// assay regress: nightly regression tracking over the stored history. Reads the store; never
// measures. Exit codes: 0 no confirmed regression, 1 confirmed regression, 2 usage, 3 bad DB.
#include <iostream>

#include <fmt/format.h>

#include "app/cli_common.hpp"
#include "app/commands.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "reports/regress_report.hpp"
#include "store/history.hpp"
#include "store/store.hpp"

namespace assay::cli {

namespace {

constexpr const char* kRegressFooter =
    R"(Series: (case, device, metric, host class, build class); see docs/regress.md.
Verdicts: the newest run of every series is gated against the last --window runs of its
current segment (after the last change point): robust z >= --z AND relative change >=
--min-effect, in the bad direction of the metric. One run beyond the gate is SUSPECT (listed,
warned on stderr, exit 0); the next run beyond it too CONFIRMS it (exit 1). A change point
(E-divisive means, Welch t-test p < --pvalue) among the newest runs also confirms.
Benjamini-Hochberg at --fdr across all series decides which findings are reported.
Exit codes: 0 no confirmed regression (suspects and improvements allowed), 1 confirmed
regression, 2 usage error, 3 missing/corrupt/too-new database, 4 internal error.)";

}  // namespace

Action add_regress_command(CLI::App& app) {
    struct Opts {
        std::string db = "assay.db";
        std::size_t window = 30;
        std::size_t min_history = 8;
        double min_effect_pct = 2.0;
        double z = 3.5;
        double pvalue = 1e-5;
        std::size_t cp_window = 50;
        double fdr = 0.05;
        std::string host;
        std::string tag;
        std::string filter;
        std::string metric;
        std::string since;
        std::string format = "md";
        std::string output;
    };
    auto o = std::make_shared<Opts>();
    auto* cmd = app.add_subcommand(
        "regress", "Find regressions in the stored nightly history (gate + change points)");
    cmd->footer(kRegressFooter);
    add_db_option(*cmd, o->db);
    cmd->add_option("--window", o->window, "Baseline: the last N runs of the current segment")
        ->capture_default_str()
        ->check(whole_number_in(3, 100000));
    cmd->add_option("--min-history", o->min_history,
                    "Fewer baseline runs than this: not gated (insufficient history)")
        ->capture_default_str()
        ->check(whole_number_in(2, 100000));
    cmd->add_option("--min-effect", o->min_effect_pct,
                    "Minimum relative change in percent to report")
        ->capture_default_str()
        ->check(number_in(0, 1000));
    cmd->add_option("--z", o->z, "Robust z (median/MAD) a run must reach")
        ->capture_default_str()
        ->check(number_in(0.5, 1000));
    cmd->add_option("--pvalue", o->pvalue, "Change-point significance (Welch t-test)")
        ->capture_default_str()
        ->check(number_in(1e-12, 0.5));
    cmd->add_option("--cp-window", o->cp_window, "Change-point detection window (runs)")
        ->capture_default_str()
        ->check(whole_number_in(6, 100000));
    cmd->add_option("--fdr", o->fdr, "Benjamini-Hochberg false discovery rate across series")
        ->capture_default_str()
        ->check(number_in(1e-9, 1));
    cmd->add_option("--host", o->host, "Only runs of this hostname");
    cmd->add_option("--tag", o->tag, "Only runs with this tag (e.g. nightly)");
    cmd->add_option("--since", o->since, "Only runs started at or after this ISO-8601 time");
    cmd->add_option("--filter", o->filter, "Only cases whose id matches this regex");
    cmd->add_option("--metric", o->metric,
                    "Follow this metric (e.g. gflop_per_s.median) instead of the headline");
    cmd->add_option("--format", o->format, "md or json")->capture_default_str();
    cmd->add_option("-o,--output", o->output, "Write to FILE instead of stdout");
    return [o]() -> int {
        if (o->format != "md" && o->format != "markdown" && o->format != "json") {
            throw UsageError(
                fmt::format("unknown regress format '{}' (expected md or json)", o->format));
        }
        if (o->min_history > o->window) {
            throw UsageError(
                fmt::format("--min-history {} exceeds --window {}", o->min_history, o->window));
        }
        RegressOptions ro;
        ro.gate.window = o->window;
        ro.gate.min_history = o->min_history;
        ro.gate.z = o->z;
        ro.gate.min_effect = o->min_effect_pct / 100.0;
        ro.change_points.window = o->cp_window;
        ro.change_points.max_pvalue = o->pvalue;
        ro.fdr = o->fdr;
        ro.case_filter = o->filter;

        HistoryFilter hf;
        hf.hostname = o->host;
        hf.tag = o->tag;
        hf.since = o->since;
        RegressContext ctx;
        if (o->metric.empty()) {
            hf.metrics = default_regress_metrics();
            ctx.metric_note = "headline median (throughput metric, else time per execution)";
        } else {
            hf.metrics = {o->metric};
            hf.fallback_to_time = o->metric == "time.median";
            if (hf.fallback_to_time) {
                hf.metrics.clear();
            }
            ctx.metric_note = o->metric;
        }
        Store store = Store::open(o->db, OpenMode::read_only);
        const History history = load_history(store, hf);
        warn_unreadable_rows(store);
        const RegressAnalysis analysis = analyze_history(history, ro);
        if (analysis.findings.empty()) {
            throw UsageError(fmt::format(
                "no series to check in {} (no finished runs match --host/--tag/--since/--filter"
                "/--metric)",
                o->db));
        }
        ctx.db_path = o->db;
        ctx.generated_at = utc_now_iso8601();
        ctx.options = ro;
        write_output(o->output, o->format == "json"
                                    ? render_regress_json(analysis, history, ctx)
                                    : render_regress_markdown(analysis, history, ctx));
        if (analysis.suspects > 0) {
            std::cerr << fmt::format(
                "warning: {} suspect regression(s) not yet confirmed; the next run decides\n",
                analysis.suspects);
        }
        if (analysis.has_regression()) {
            std::cerr << fmt::format("regression: {} series regressed (confirmed)\n",
                                     analysis.regressions);
            return 1;
        }
        return kOk;
    };
}

}  // namespace assay::cli
