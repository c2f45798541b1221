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
    Process(const std::vector<std::string>& args, const std::string& scratch_prefix);
    pid_t pid() const { return pid_; }
    ProcessResult wait();

  private:
    pid_t pid_ = -1;
    std::string out_path_, err_path_;
};

/// Runs `assay <args...>` to completion.
ProcessResult run_assay(const std::vector<std::string>& args);

/// Number of non-empty lines in s.
int line_count(const std::string& s);

}  // namespace assay::test
