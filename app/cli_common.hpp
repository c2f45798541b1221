#pragma once
/// Shared pieces of the `assay` CLI: exit codes, output files, interruption, progress.
#include <atomic>
#include <csignal>
#include <cstdint>
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

/// Writes text to `path`, or to stdout when path is empty or "-", and flushes it. Throws
/// InputError naming the path (or stdout) when it cannot be written or flushed (a full disk,
/// /dev/full, a closed pipe): output that did not arrive is never a success.
void write_output(const std::string& path, const std::string& text);

/// Flushes std::cout and throws InputError when anything written to it was lost. main() calls
/// it before returning so that no path can end with exit 0 after a failed write.
void check_stdout();

/// SIGINT/SIGTERM -> a flag the harness polls. The first signal asks for a clean stop; the
/// handler then restores the default action so a second one terminates at once.
void install_interrupt_handlers();
/// The signal that asked us to stop, or 0.
int interrupt_signal();

/// Progress lines go to stderr only when it is a terminal, unless forced on or off.
bool progress_enabled(bool force_on, bool force_off);

/// The command line as one shell-quoted string (stored as run provenance).
std::string joined_command_line(int argc, char** argv);

// Validators for every numeric option. CLI11's own (Range, PositiveNumber) let NaN through
// (every comparison with NaN is false) and accept infinities and wrapped negative counts; these
// refuse them with one line naming the value, e.g. "--z: must be a number in [0.5, 1000], got
// 'nan'" (CLI11 prefixes the option's name).

/// A finite, normal (or zero) number in [min, max]; `open_min` / `open_max` exclude the bound.
CLI::Validator number_in(double min, double max, bool open_min = false, bool open_max = false);
/// Seconds in (0, 1 day].
CLI::Validator seconds();
/// A whole decimal number (digits only: no sign, fraction, exponent or hex) in [min, max].
CLI::Validator whole_number_in(std::uint64_t min, std::uint64_t max);
/// A count: a whole number in [1, 10^9].
CLI::Validator count();
/// A stored run id: a whole number in [1, 2^63-1].
CLI::Validator run_id();
/// A transform: a byte size > 0 with an optional binary unit ("512MiB", "2GiB", "4096"),
/// replaced by the number of bytes.
CLI::Validator size_bytes();

/// One stderr line when the store's readers skipped rows they could not decode (a DB written
/// by an older version or by hand): how many, and the first few. Nothing when all rows read.
void warn_unreadable_rows(const Store& store);

/// Registers --db with the default ./assay.db.
CLI::Option* add_db_option(CLI::App& cmd, std::string& db);

}  // namespace assay::cli
