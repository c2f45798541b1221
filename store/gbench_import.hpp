#pragma once
/// Import of Google Benchmark JSON (`--benchmark_out_format=json`) from any project, so users
/// can track their own benchmarks next to Assay's. One file becomes one run:
///   context    -> a host (hostname = context.host_name, machine_id derived from it, a minimal
///                 HostInfo that says it came from a Google Benchmark context) and the run's
///                 provenance (executable, date, library build type/version, load average),
///                 tagged "gbench"; the run uuid is derived from the file's sha256, so importing
///                 the same file twice adds nothing.
///   benchmark  -> a case "gbench.<name before the first '/'>" with params from the name's
///                 '/'-separated arguments (positional "argN", named "k:v", threads, timing
///                 mode) plus exe=<executable's file name>; samples = the per-repetition
///                 real_time per iteration, in seconds; cpu_time, iterations and user counters
///                 become metrics (median over repetitions). When only aggregates are present
///                 (--benchmark_report_aggregates_only) they are kept as metrics and the result
///                 has no samples.
#include <string>
#include <vector>

#include "core/host_info.hpp"
#include "core/result.hpp"
#include "core/run_info.hpp"

namespace assay {

class Store;

/// A parsed Google Benchmark file, ready to store.
struct GbenchImport {
    HostInfo host;
    RunInfo run;
    std::vector<Result> results;
};

/// Parses the text of a Google Benchmark JSON file; `source_name` names it in errors and in
/// the run's provenance. Throws InputError ("'<source_name>': <problem>") on malformed input.
GbenchImport parse_gbench_json(const std::string& text, const std::string& source_name);

/// Stores `imported` as one complete run in `store` (host, run, results). Not one transaction:
/// callers that need atomicity write into a staging store and merge it (store/merge.hpp).
void write_gbench_run(Store& store, const GbenchImport& imported);

}  // namespace assay
