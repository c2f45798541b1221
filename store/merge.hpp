#pragma once
/// Ingest: merging other Assay stores and Google Benchmark JSON files into a store, keeping
/// provenance (schema table `ingest`, run.ingest_id, run.source_run_id). Runs are identified by
/// their uuid, so ingesting the same file twice adds nothing. Only final runs (complete or
/// incomplete) are copied; a run still running is left for a later ingest, which also finishes
/// a run an older version copied while it was running. Everything copied is validated first
/// (names, params, sample blobs, environment JSON): a bad row refuses the whole file. Every source
/// is merged in one write transaction: a bad file stores nothing, and concurrent writers wait (busy
/// timeout and retried BEGIN IMMEDIATE) instead of losing rows.
#include <cstdint>
#include <filesystem>
#include <string>

#include "store/store.hpp"

namespace assay {

/// What one ingested file contributed.
struct IngestSummary {
    std::filesystem::path source;
    std::string kind;                ///< "assay" or "gbench"
    std::int64_t runs_added = 0;     ///< runs new to the target
    std::int64_t runs_present = 0;   ///< runs whose uuid the target already held (final)
    std::int64_t runs_updated = 0;   ///< runs the target held as 'running', now finished
    std::int64_t runs_running = 0;   ///< source runs still running: not copied (ingest later)
    std::int64_t results_added = 0;  ///< results of the added runs
    std::int64_t ingest_id = 0;      ///< row of the `ingest` table; 0 when nothing was added
};

/// What kind of file `path` is, from its first bytes: "assay" (an SQLite file), "gbench" (JSON
/// text). Throws InputError when the file cannot be read or is neither.
std::string detect_ingest_kind(const std::filesystem::path& path);

/// Merges every run of the Assay store at `source` (any schema version up to
/// Store::kSchemaVersion; older ones are read through a migrated temporary copy, the source is
/// never written) into `target`. Hosts are matched by (machine_id, hostname), hw_configs by
/// fingerprint, cases by (benchmark, params); results, metrics, tags and ceilings are copied
/// with their ids remapped. Throws SchemaTooNewError for a newer source, StoreError /
/// InputError for a file that is not an Assay store; nothing is stored then.
IngestSummary ingest_assay_store(Store& target, const std::filesystem::path& source);

/// Imports a Google Benchmark JSON file (see store/gbench_import.hpp) as one run. Throws
/// InputError naming the file and the problem for malformed JSON; nothing is stored then.
IngestSummary ingest_gbench_json(Store& target, const std::filesystem::path& source);

/// detect_ingest_kind() then the matching ingest_* function.
IngestSummary ingest_file(Store& target, const std::filesystem::path& source);

}  // namespace assay
