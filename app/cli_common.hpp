#pragma once
/// Shared pieces of the `assay` CLI: exit codes, output files, interruption, progress.
#include <atomic>
#include <csignal>
#include <filesystem>
#include <string>

#include <CLI/CLI.hpp>

namespace assay {
class Store;
}

namespace assay::cli {

/// Exit codes are categories, never counts (documented in README and `assay --help`).
enum ExitCode : int {
    kOk = 0,
    kBenchmarkFailed = 1,  ///< the run finished but a benchmark failed (e.g. wrong output)
    kUsage = 2,            ///< bad flags, unknown subcommand, nothing selected
    kInputError = 3,     ///< bad file: DB missing/corrupt/too new, unreadable XML, unwritable path
    kInternal = 4,       ///< a bug: an unexpected exception
    kInterrupted = 130,  ///< SIGINT (SIGTERM gives 143): run stored as incomplete
};

/// Writes text to `path`, or to stdout when path is empty or "-". Throws InputError naming the
/// path when it cannot be written.
void write_output(const std::string& path, const std::string& text);

/// SIGINT/SIGTERM -> a flag the harness polls. The first signal asks for a clean stop; the
/// handler then restores the default action so a second one terminates at once.
void install_interrupt_handlers();
/// The signal that asked us to stop, or 0.
int interrupt_signal();

/// Progress lines go to stderr only when it is a terminal, unless forced on or off.
bool progress_enabled(bool force_on, bool force_off);

/// The command line as one shell-quoted string (stored as run provenance).
std::string joined_command_line(int argc, char** argv);

/// CLI::PositiveNumber with a readable message ("must be a positive number, got '-1'"); the
/// stock one prints its upper bound, DBL_MAX, in full.
const CLI::Validator& positive_number();

/// One stderr line when the store's readers skipped rows they could not decode (a DB written
/// by an older version or by hand): how many, and the first few. Nothing when all rows read.
void warn_unreadable_rows(const Store& store);

/// Registers --db with the default ./assay.db.
CLI::Option* add_db_option(CLI::App& cmd, std::string& db);

}  // namespace assay::cli
