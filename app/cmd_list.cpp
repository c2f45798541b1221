// assay list: the benchmarks this host would run, with skip reasons and aarch64 status.
#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "app/cli_common.hpp"
#include "app/commands.hpp"
#include "app/suite.hpp"
#include "benches/catalog.hpp"
#include "collect/harness.hpp"
#include "probes/probe.hpp"

namespace assay::cli {

Action add_list_command(CLI::App& app) {
    struct Opts {
        std::string filter;
        std::string suite = "all";
        bool json = false;
    };
    auto opts = std::make_shared<Opts>();
    auto* cmd =
        app.add_subcommand("list", "List the benchmarks for this host (and why any are skipped)");
    cmd->add_option("--filter", opts->filter, "Regex on the full benchmark name");
    cmd->add_option("--suite", opts->suite, "quick, full or all")->capture_default_str();
    cmd->add_flag("--json", opts->json, "Machine-readable output");
    return [opts]() {
        ProbeOptions po;
        po.query_gpus = true;
        const HostInfo host = probe_host(po);
        const auto catalog = suite_selection(build_catalog(host), opts->suite);
        const auto selected = select_benchmarks(catalog, opts->filter);
        if (opts->json) {
            nlohmann::json j = nlohmann::json::array();
            for (const auto* d : selected) {
                j.push_back({{"name", d->full_name()},
                             {"benchmark", d->bench_case.benchmark},
                             {"params", d->bench_case.params},
                             {"device", d->device},
                             {"backend", d->backend},
                             {"suites", d->suites},
                             {"runnable", d->skip_reason.empty()},
                             {"skip_reason", d->skip_reason},
                             {"aarch64", d->aarch64}});
            }
            write_output("", j.dump(2) + "\n");
            return kOk;
        }
        std::string out;
        for (const auto* d : selected) {
            std::string suites;
            for (const auto& s : d->suites)
                suites += (suites.empty() ? "" : ",") + s;
            out +=
                fmt::format("{}\n    suites: {}; {}; aarch64: {}\n", d->full_name(), suites,
                            d->skip_reason.empty() ? "runnable here" : "skipped: " + d->skip_reason,
                            d->aarch64);
        }
        out += fmt::format("{} benchmark(s)\n", selected.size());
        write_output("", out);
        return kOk;
    };
}

}  // namespace assay::cli
