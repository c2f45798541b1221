// assay report compare: hosts side by side from one or more stores. Reads stores; never measures.
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "app/cli_common.hpp"
#include "app/commands.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "reports/compare/compare_html.hpp"
#include "reports/compare/compare_model.hpp"
#include "reports/compare/compare_render.hpp"
#include "reports/compare/price.hpp"
#include "store/store.hpp"

namespace assay::cli {

Action add_report_compare_command(CLI::App& report) {
    struct Opts {
        std::vector<std::string> dbs;
        std::vector<std::string> hosts;
        std::string baseline;
        std::string format = "md";
        std::string output;
        std::string prices;
        std::string family;
        bool per_backend = false;
        std::size_t resamples = 2000;
    };
    auto o = std::make_shared<Opts>();
    auto* cmd = report.add_subcommand(
        "compare",
        "Compare hosts side by side: ratios with bootstrap CIs and verdicts, host cards, "
        "rooflines, per-$ and per-W, LLM projections");
    cmd->add_option("--db", o->dbs,
                    "Result store (SQLite file); repeat to compare several stores without "
                    "ingesting (default ./assay.db)");
    cmd->add_option("--host", o->hosts,
                    "Host to compare (repeatable): hostname:X, fingerprint:PREFIX, instance:TYPE, "
                    "run:N or a bare hostname; default every host with a complete run");
    cmd->add_option("--baseline", o->baseline,
                    "Baseline host (same selector syntax); default the first host");
    cmd->add_option("--format", o->format, "md, csv, json or html")->capture_default_str();
    cmd->add_option("-o,--output", o->output, "Write to FILE instead of stdout");
    cmd->add_option("--prices", o->prices,
                    "Price table (TOML, see examples/prices.example.toml) for per-$ columns");
    cmd->add_option("--family", o->family, "Only benchmark families matching this regex");
    cmd->add_flag("--per-backend", o->per_backend,
                  "One row per backend instead of each device's best backend");
    cmd->add_option("--resamples", o->resamples, "Bootstrap resamples for the CIs")
        ->capture_default_str()
        ->check(whole_number_in(100, 100000));
    return [o]() -> int {
        const CompareFormat format = compare_format_from_string(o->format);
        CompareOptions opts;
        for (const std::string& h : o->hosts) {
            opts.hosts.push_back(parse_host_selector(h));
        }
        if (!o->baseline.empty()) {
            opts.baseline = parse_host_selector(o->baseline);
        }
        opts.family_regex = o->family;
        opts.per_backend = o->per_backend;
        opts.generated_at = utc_now_iso8601();
        opts.bootstrap_resamples = o->resamples;
        std::vector<PriceEntry> prices;
        if (!o->prices.empty()) {
            prices = load_price_table(o->prices);
            opts.prices = &prices;
            opts.price_table_path = o->prices;
        }
        std::vector<std::string> paths = o->dbs;
        if (paths.empty()) {
            paths.push_back("assay.db");
        }
        std::vector<Store> stores;
        stores.reserve(paths.size());
        for (const std::string& p : paths) {
            stores.push_back(Store::open(p, OpenMode::read_only));
        }
        std::vector<CompareSource> sources;
        for (std::size_t i = 0; i < stores.size(); ++i) {
            sources.push_back({&stores[i], paths[i]});
        }
        const CompareModel model = build_compare_model(sources, opts);
        for (const Store& s : stores) {
            warn_unreadable_rows(s);
        }
        std::string text;
        switch (format) {
            case CompareFormat::markdown:
                text = render_compare_markdown(model);
                break;
            case CompareFormat::csv:
                text = render_compare_csv(model);
                break;
            case CompareFormat::json:
                text = render_compare_json(model);
                break;
            case CompareFormat::html:
                text = render_compare_html(model);
                break;
        }
        write_output(o->output, text);
        return kOk;
    };
}

}  // namespace assay::cli
