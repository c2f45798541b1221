#pragma once
/// One function per subcommand: each registers its options on the parent and returns the
/// action to run after parsing (the action returns the process exit code).
#include <functional>

#include <CLI/CLI.hpp>

namespace assay::cli {

using Action = std::function<int()>;

Action add_probe_command(CLI::App& app);
Action add_list_command(CLI::App& app);
Action add_run_command(CLI::App& app, int argc, char** argv);
Action add_report_command(CLI::App& app);
/// `assay report compare`, registered on the report command.
Action add_report_compare_command(CLI::App& report);
Action add_regress_command(CLI::App& app);
Action add_qualify_command(CLI::App& app);
Action add_fleet_command(CLI::App& app);
Action add_ingest_command(CLI::App& app);
Action add_export_command(CLI::App& app);

}  // namespace assay::cli
