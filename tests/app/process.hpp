#pragma once
// Runs the assay binary as a child process for end-to-end tests.
#include <sys/types.h>

#include <string>
#include <vector>

namespace assay::test {

struct ProcessResult {
    int exit_code = -1;  ///< exit status, or 128 + signal when killed by one
    std::string out;     ///< stdout
    std::string err;     ///< stderr
};

/// A started child whose stdout/stderr go to files; wait() collects them.
class Process {
  public:
    /// `stdout_path`, when given, receives the child's stdout instead of a scratch file (e.g.
    /// /dev/full to test write failures); result.out is then empty.
    Process(const std::vector<std::string>& args, const std::string& scratch_prefix,
            const std::string& stdout_path = {});
    pid_t pid() const { return pid_; }
    ProcessResult wait();

  private:
    pid_t pid_ = -1;
    std::string out_path_, err_path_;
    bool own_stdout_ = true;
};

/// Runs `assay <args...>` to completion.
ProcessResult run_assay(const std::vector<std::string>& args);
/// Runs `assay <args...>` with its stdout opened on `stdout_path` (e.g. /dev/full).
ProcessResult run_assay_stdout_to(const std::vector<std::string>& args,
                                  const std::string& stdout_path);

/// A fresh scratch path `<test tmp>/<dir>/<pid>_<name>` (the file and its SQLite -wal/-shm
/// removed, the folder created).
std::string scratch_path(const std::string& dir, const std::string& name);

/// Number of non-empty lines in s.
int line_count(const std::string& s);

}  // namespace assay::test
