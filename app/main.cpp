// assay: the composition root. Parses the command line, dispatches to one subcommand, and turns
// every error into one line on stderr and a categorised exit code.
#include <iostream>
#include <map>

#include <fmt/format.h>

#include "app/cli_common.hpp"
#include "app/commands.hpp"
#include "assay_build_info.hpp"
#include "core/error.hpp"

namespace {

constexpr const char* kFooter = R"(Exit codes:
  0    success
  1    a benchmark failed (wrong output / error) - results are stored
  2    usage error (bad flag, unknown subcommand, nothing selected)
  3    bad input: DB missing, corrupt or newer schema; unreadable file; unwritable path
  4    internal error
  130  interrupted by SIGINT (143: SIGTERM); the run is stored as incomplete)";

}  // namespace

int main(int argc, char** argv) {
    using namespace assay::cli;
    CLI::App app{"assay: hardware benchmarking and fleet characterization (probe, run, report)"};
    app.set_version_flag(
        "--version",
        fmt::format("assay {} (git {}, {} {}{})", assay::build_info::version,
                    assay::build_info::git_sha, assay::build_info::compiler,
                    assay::build_info::build_type, assay::build_info::cuda ? ", CUDA" : ""));
    app.footer(kFooter);
    app.require_subcommand(1);

    std::map<std::string, Action> actions;
    actions["probe"] = add_probe_command(app);
    actions["list"] = add_list_command(app);
    actions["run"] = add_run_command(app, argc, argv);
    actions["report"] = add_report_command(app);
    actions["regress"] = add_regress_command(app);
    actions["qualify"] = add_qualify_command(app);
    actions["fleet"] = add_fleet_command(app);
    actions["ingest"] = add_ingest_command(app);
    actions["export"] = add_export_command(app);

    // CLI11 would say "A subcommand is required" for a mistyped one; name the culprit instead.
    if (argc > 1 && argv[1][0] != '-' && !actions.count(argv[1])) {
        std::cerr << "assay: error: unknown subcommand '" << argv[1]
                  << "' (expected probe, list, run, report, regress, qualify, fleet, ingest or "
                     "export; see "
                     "assay --help)\n";
        return kUsage;
    }

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help / --version arrive as ParseErrors whose exit code is success; CLI11 prints the
        // help of the subcommand that asked for it.
        if (e.get_exit_code() == 0) {
            return app.exit(e);
        }
        std::cerr << "assay: error: " << e.what() << " (see assay --help)\n";
        return kUsage;
    }

    try {
        const int code = actions.at(app.get_subcommands().front()->get_name())();
        check_stdout();  // output that never arrived is not a success
        return code;
    } catch (const assay::UsageError& e) {
        std::cerr << "assay: error: " << e.what() << "\n";
        return kUsage;
    } catch (const assay::Error& e) {
        std::cerr << "assay: error: " << e.what() << "\n";
        return kInputError;
    } catch (const std::exception& e) {
        std::cerr << "assay: internal error: " << e.what() << "\n";
        return kInternal;
    }
}
