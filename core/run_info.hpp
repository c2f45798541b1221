#pragma once
/// A run's provenance and lifecycle, and the records the store hands back to reports.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace assay {

enum class RunStatus {
    running,     ///< in progress (or the process died: see StoredRun::status_note)
    complete,    ///< every selected benchmark ran (results may still be failed/skipped)
    incomplete,  ///< interrupted (SIGINT/SIGTERM) or the process died; completed results kept
};
const char* to_string(RunStatus s);
RunStatus run_status_from_string(const std::string& s);  ///< throws InputError

/// Provenance captured when a run starts.
struct RunInfo {
    std::string uuid;
    std::string started_at;  ///< UTC ISO-8601
    std::string tool_version;
    std::string git_sha;  ///< with "+dirty" when built from a modified tree
    std::string compiler;
    std::string compiler_flags;
    std::string build_type;
    std::string command_line;
    std::string suite;  ///< "quick", "full", ...
    std::vector<std::string> tags;
    std::int64_t pid = 0;  ///< of the assay process (to detect dead runs)
    /// Library versions and environment facts, e.g. {"hwloc","2.9.0"}, {"governor","performance"}.
    std::map<std::string, std::string> environment;
};

/// A run as stored, joined with its host.
struct StoredRun {
    std::int64_t id = 0;
    RunInfo info;
    std::string finished_at;  ///< empty while running
    RunStatus status = RunStatus::running;
    std::string status_note;  ///< e.g. "interrupted by SIGINT"
    std::int64_t host_id = 0;
    std::string hostname;
    std::int64_t hw_config_id = 0;
    std::string fingerprint;
};

struct StoredResult {
    std::int64_t id = 0;
    std::int64_t run_id = 0;
    Result result;
};

}  // namespace assay
