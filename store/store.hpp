#pragma once
/// The result store: one SQLite file (WAL, foreign keys, STRICT tables, busy timeout), with
/// forward-only migrations keyed by PRAGMA user_version. sqlite3 never leaves this module.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/ceiling.hpp"
#include "core/host_info.hpp"
#include "core/run_info.hpp"

namespace assay {

namespace sqlite {
class Database;
}

enum class OpenMode {
    /// The file must exist and be an Assay store at exactly kSchemaVersion; nothing is
    /// written and nothing is migrated (an older store must be opened read-write once first).
    read_only,
    read_write,         ///< the file must exist; migrated to the current schema if older
    create_read_write,  ///< created when missing; migrated to the current schema if older
};

/// What a stored hw_config looks like to callers.
struct StoredHost {
    std::int64_t host_id = 0;
    std::string hostname;
    std::string machine_id;
    std::int64_t hw_config_id = 0;
    std::string fingerprint;
    std::string first_seen;
    std::string probe_json;  ///< the full HostInfo JSON kept for "what changed"
};

struct RunFilter {
    std::optional<std::int64_t> run_id;
    std::string hostname;   ///< empty = any
    std::string tag;        ///< empty = any
    std::size_t limit = 0;  ///< 0 = all (newest first)
};

/// The samples of a result as stored: little-endian IEEE-754 doubles. Throws StoreError when
/// the blob's size is not a multiple of 8.
std::vector<double> decode_sample_blob(const std::vector<unsigned char>& bytes);

/// Not thread-safe; one Store per thread. Several processes may use one file at once.
class Store {
  public:
    /// The schema version this build writes.
    static constexpr int kSchemaVersion = 4;
    /// PRAGMA application_id of every Assay store: "ASSY".
    static constexpr std::int32_t kApplicationId = 0x41535359;

    /// Throws StoreError (missing / unreadable / not a database / unwritable) or
    /// SchemaTooNewError. A failed open never modifies the file.
    static Store open(const std::filesystem::path& path, OpenMode mode);
    ~Store();
    Store(Store&&) noexcept;
    Store& operator=(Store&&) noexcept;

    int schema_version() const;
    /// The SQLite library version in use (run provenance).
    static std::string library_version();
    const std::filesystem::path& path() const;

    /// Finds or creates the host (machine_id + hostname) and its hw_config (fingerprint);
    /// returns the hw_config id. The probe JSON is stored the first time a fingerprint is seen.
    std::int64_t record_host(const HostInfo& host);

    /// Creates a run in status "running"; returns its id.
    std::int64_t begin_run(std::int64_t hw_config_id, const RunInfo& info);
    /// Stores one result and its metrics in one transaction; returns the result id.
    std::int64_t add_result(std::int64_t run_id, const Result& result);
    /// Stores the run's ceilings in one transaction (a name already stored for the run and
    /// device is replaced). result_ids[i] is the stored id of the result at Ceiling::source_index
    /// i (0 = not stored); out-of-range indices store no source.
    void add_ceilings(std::int64_t run_id, const std::vector<Ceiling>& ceilings,
                      const std::vector<std::int64_t>& result_ids);
    std::vector<StoredCeiling> ceilings_for_run(std::int64_t run_id) const;
    /// The newest stored value of every ceiling (device, name) measured on `hw_config_id` by a
    /// run other than `exclude_run_id` (0 = none excluded): a run that did not measure a
    /// ceiling itself can still be related to the host's last measured one.
    std::vector<StoredCeiling> latest_ceilings(std::int64_t hw_config_id,
                                               std::int64_t exclude_run_id = 0) const;
    /// Adds metrics to a stored result (a name already present is replaced), in one
    /// transaction: figures derived after the run, e.g. the fraction of a ceiling.
    void add_metrics(std::int64_t result_id, const std::vector<Metric>& metrics);
    /// Marks the run complete or incomplete (with a note, e.g. "interrupted by SIGINT").
    void finish_run(std::int64_t run_id, RunStatus status, const std::string& note = {});
    /// Adds or replaces entries of the run's environment (e.g. counter availability learnt
    /// while measuring), in one transaction.
    void merge_run_environment(std::int64_t run_id,
                               const std::map<std::string, std::string>& entries);
    /// Runs still "running" whose process (pid on this hostname) is gone become "incomplete".
    /// Returns how many were changed.
    int mark_dead_runs_incomplete(const std::string& hostname);

    /// Readers never let one bad row take a whole report down: a run or result that cannot be
    /// decoded (written by an older version, or by hand) is skipped, or read without the part
    /// that cannot be decoded, and noted in unreadable_rows().
    std::vector<StoredRun> list_runs(const RunFilter& filter = {}) const;
    std::vector<StoredResult> results_for_run(std::int64_t run_id) const;
    std::vector<StoredHost> hosts() const;

    /// One line per row skipped (or partly read) by the readers since open, e.g. "result 7 of
    /// run 2: samples blob has 7 bytes, not a multiple of 8"; each row once, in order.
    std::vector<std::string> unreadable_rows() const;
    /// Adds a line to unreadable_rows() (for the store module's own readers: history).
    void note_unreadable(const std::string& line) const;

    /// The connection, for the store module's own extensions (history, merge); sqlite.hpp is
    /// private to the store module, so nothing outside it can use this.
    sqlite::Database& database();
    const sqlite::Database& database() const;

  private:
    struct Impl;
    explicit Store(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace assay
