#include "store/store.hpp"

#include <signal.h>
#include <sqlite3.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <system_error>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "store/sqlite.hpp"

namespace assay {

namespace fs = std::filesystem;

namespace {

struct Migration {
    int version;
    const char* name;
    const char* sql;
};

// Generated from store/schema/NNN_*.sql (see embed_migrations.cmake), in version order.
constexpr Migration kMigrations[] = {
#include "migrations.inc"
};

constexpr int kBusyTimeoutMs = 10000;

/// What the file says about itself, read before anything is written.
struct Header {
    bool has_tables = false;
    std::int64_t application_id = 0;
    std::int64_t user_version = 0;
};

/// Throws the StoreError for a failed read of the file's header or schema. SQLITE_NOTADB (a
/// file that is not a database at all) gets its own message.
[[noreturn]] void throw_read_error(const sqlite::Database& db, int rc, const std::string& message) {
    const std::string path = db.path().string();
    if ((rc & 0xff) == SQLITE_NOTADB) {
        throw StoreError(fmt::format("'{}' is not an SQLite database ({})", path, message));
    }
    if ((rc & 0xff) == SQLITE_CORRUPT) {
        throw StoreError(fmt::format("'{}' is a corrupt SQLite database ({})", path, message));
    }
    throw StoreError(fmt::format("cannot read database '{}': {}", path, message));
}

/// Runs a query returning one row of integers with the raw API, so the failure code can be
/// told apart. One statement is one read transaction: the values are one consistent snapshot.
std::vector<std::int64_t> query_ints(const sqlite::Database& db, const char* sql, int columns) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db.handle(), sql, -1, &stmt, nullptr);
    std::vector<std::int64_t> values(static_cast<std::size_t>(columns), 0);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW) {
            for (int c = 0; c < columns; ++c) {
                values[static_cast<std::size_t>(c)] = sqlite3_column_int64(stmt, c);
            }
            rc = SQLITE_OK;
        }
    }
    // The message must be read before finalize, which may reset it.
    const std::string message = sqlite3_errmsg(db.handle());
    sqlite3_finalize(stmt);
    if (rc != SQLITE_OK && rc != SQLITE_DONE) {
        throw_read_error(db, rc, message);
    }
    return values;
}

std::int64_t query_int(const sqlite::Database& db, const char* sql) {
    return query_ints(db, sql, 1)[0];
}

std::string query_text(sqlite::Database& db, const char* sql) {
    sqlite::Statement st(db, sql, sql);
    return st.step() ? st.get_text(0) : std::string();
}

Header read_header(const sqlite::Database& db) {
    const auto v = query_ints(db,
                              "SELECT (SELECT count(*) FROM sqlite_master), (SELECT * FROM "
                              "pragma_application_id), (SELECT * FROM pragma_user_version)",
                              3);
    return Header{v[0] > 0, v[1], v[2]};
}

[[noreturn]] void throw_too_new(const fs::path& path, std::int64_t version) {
    throw SchemaTooNewError(fmt::format(
        "'{}' has schema version {}, newer than this assay supports ({}): upgrade assay",
        path.string(), version, Store::kSchemaVersion));
}

/// Switches the file to WAL. Changing the journal mode needs an exclusive lock and SQLite
/// answers SQLITE_BUSY at once (without the busy handler) while another process holds the
/// file, e.g. when several processes open a new store together; so retry up to the busy timeout.
void enable_wal(sqlite::Database& db) {
    if (query_text(db, "PRAGMA journal_mode") == "wal") {
        return;
    }
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
    auto backoff = std::chrono::milliseconds(5);
    for (;;) {
        const int rc =
            sqlite3_exec(db.handle(), "PRAGMA journal_mode = WAL", nullptr, nullptr, nullptr);
        if (rc == SQLITE_OK) {
            return;
        }
        if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) {
            db.fail("switching to WAL journal mode");
        }
        if (Clock::now() >= deadline) {
            db.fail(
                fmt::format("switching to WAL journal mode (gave up after {} ms)", kBusyTimeoutMs));
        }
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(200));
    }
}

/// Applies every migration newer than the file, all in one BEGIN IMMEDIATE transaction.
int migrate(sqlite::Database& db) {
    sqlite::Transaction tx(db);
    // Re-read inside the write lock: another process may have migrated the file meanwhile.
    const std::int64_t current = query_int(db, "PRAGMA user_version");
    if (current > Store::kSchemaVersion) {
        throw_too_new(db.path(), current);
    }
    int version = static_cast<int>(current);
    int expected = 1;
    for (const Migration& m : kMigrations) {
        if (m.version != expected++) {
            throw StoreError(fmt::format("{}: migration '{}' is out of sequence (version {})",
                                         db.path().string(), m.name, m.version));
        }
        if (m.version <= version) {
            continue;
        }
        db.exec(m.sql, fmt::format("applying migration {}", m.name));
        db.exec(fmt::format("PRAGMA user_version = {}", m.version),
                fmt::format("setting schema version {}", m.version));
        version = m.version;
    }
    db.exec(fmt::format("PRAGMA application_id = {}", Store::kApplicationId),
            "setting application_id");
    tx.commit();
    return version;
}

std::vector<unsigned char> encode_samples(const std::vector<double>& samples) {
    // Little-endian IEEE-754 regardless of the host's byte order.
    std::vector<unsigned char> out(samples.size() * 8);
    for (std::size_t i = 0; i < samples.size(); ++i) {
        const auto bits = std::bit_cast<std::uint64_t>(samples[i]);
        for (std::size_t b = 0; b < 8; ++b) {
            out[i * 8 + b] = static_cast<unsigned char>(bits >> (8 * b));
        }
    }
    return out;
}

std::string environment_to_json(const std::map<std::string, std::string>& env) {
    const nlohmann::json j = env;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::map<std::string, std::string> environment_from_json(const std::string& text,
                                                         std::int64_t run_id) {
    try {
        return nlohmann::json::parse(text).get<std::map<std::string, std::string>>();
    } catch (const nlohmann::json::exception& e) {
        throw StoreError(fmt::format("run {}: malformed environment_json: {}", run_id, e.what()));
    }
}

std::string join_lines(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& line : lines) {
        if (!out.empty()) {
            out += '\n';
        }
        out += line;
    }
    return out;
}

std::optional<std::string> non_empty(const std::string& s) {
    return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

/// A statistic column: NULL for an empty sample set reads as 0 (SampleStats' default), NULL
/// otherwise is a NaN that SQLite could not store.
double stat_column(const sqlite::Statement& st, int column, std::size_t count) {
    if (!st.is_null(column)) {
        return st.get_double(column);
    }
    return count == 0 ? 0.0 : std::numeric_limits<double>::quiet_NaN();
}

void bind_stat(sqlite::Statement& st, int index, double value, std::size_t count) {
    if (count == 0) {
        st.bind_null(index);
    } else {
        st.bind(index, value);
    }
}

}  // namespace

std::vector<double> decode_sample_blob(const std::vector<unsigned char>& bytes) {
    if (bytes.size() % 8 != 0) {
        throw StoreError(
            fmt::format("samples blob has {} bytes, not a multiple of 8", bytes.size()));
    }
    std::vector<double> out(bytes.size() / 8);
    for (std::size_t i = 0; i < out.size(); ++i) {
        std::uint64_t bits = 0;
        for (std::size_t b = 0; b < 8; ++b) {
            bits |= static_cast<std::uint64_t>(bytes[i * 8 + b]) << (8 * b);
        }
        out[i] = std::bit_cast<double>(bits);
    }
    return out;
}

struct Store::Impl {
    Impl(sqlite::Database database, int version)
        : db(std::move(database)), schema_version(version) {}
    sqlite::Database db;
    int schema_version = 0;
    mutable std::vector<std::string> unreadable;
    mutable std::set<std::string> unreadable_seen;
};

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;

int Store::schema_version() const {
    return impl_->schema_version;
}
const fs::path& Store::path() const {
    return impl_->db.path();
}

Store Store::open(const fs::path& path, OpenMode mode) {
    std::error_code ec;
    const auto status = fs::status(path, ec);
    const bool exists = fs::exists(status);
    if (!exists && mode != OpenMode::create_read_write) {
        throw StoreError(fmt::format("database '{}' does not exist", path.string()));
    }
    if (exists && fs::is_directory(status)) {
        throw StoreError(fmt::format("'{}' is a directory, not a database file", path.string()));
    }
    if (!exists) {
        const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
        if (!fs::is_directory(dir, ec)) {
            throw StoreError(
                fmt::format("cannot create database '{}': directory '{}' does not exist",
                            path.string(), dir.string()));
        }
    }

    // One Store per thread, so SQLite's own per-connection mutex is not needed.
    int flags = SQLITE_OPEN_NOMUTEX;
    switch (mode) {
        case OpenMode::read_only:
            flags |= SQLITE_OPEN_READONLY;
            break;
        case OpenMode::read_write:
            flags |= SQLITE_OPEN_READWRITE;
            break;
        case OpenMode::create_read_write:
            flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
            break;
    }
    sqlite::Database db(path, flags);
    sqlite3_busy_timeout(db.handle(), kBusyTimeoutMs);

    // Everything up to the migration only reads, so a rejected file stays byte-for-byte as is.
    const Header h = read_header(db);
    const bool foreign = h.application_id != kApplicationId &&
                         (h.has_tables || h.application_id != 0 || h.user_version != 0);
    if (foreign) {
        throw StoreError(fmt::format(
            "'{}' is not an Assay database (application_id {:#010x}, expected {:#010x})",
            path.string(), static_cast<std::uint32_t>(h.application_id),
            static_cast<std::uint32_t>(kApplicationId)));
    }
    if (h.user_version > kSchemaVersion) {
        throw_too_new(path, h.user_version);
    }
    db.exec("PRAGMA foreign_keys = ON", "enabling foreign keys");

    int version = static_cast<int>(h.user_version);
    if (mode == OpenMode::read_only) {
        if (version == 0) {
            throw StoreError(fmt::format(
                "'{}' is an empty database, not an Assay store yet: open it read-write to "
                "initialise it",
                path.string()));
        }
        if (version < kSchemaVersion) {
            throw StoreError(fmt::format(
                "'{}' has schema version {}, older than this assay's ({}): open it read-write "
                "once to migrate it",
                path.string(), version, kSchemaVersion));
        }
        return Store(std::make_unique<Impl>(std::move(db), version));
    }

    // SQLite silently falls back to read-only when the file is not writable.
    if (sqlite3_db_readonly(db.handle(), "main") == 1) {
        throw StoreError(
            fmt::format("cannot open database '{}' for writing: permission denied (open it "
                        "read-only instead)",
                        path.string()));
    }
    enable_wal(db);
    db.exec("PRAGMA synchronous = NORMAL", "setting synchronous = NORMAL");
    if (version < kSchemaVersion) {
        version = migrate(db);
    }
    return Store(std::make_unique<Impl>(std::move(db), version));
}

std::int64_t Store::record_host(const HostInfo& host) {
    const HostIdentity& id = host.identity;
    if (host.fingerprint.empty()) {
        throw UsageError(fmt::format("record_host: host '{}' has no fingerprint", id.hostname));
    }
    auto& db = impl_->db;
    sqlite::Transaction tx(db);

    sqlite::Statement insert_host(
        db,
        "INSERT INTO host (machine_id, hostname, first_seen) "
        "VALUES (?1, ?2, ?3) ON CONFLICT (machine_id, hostname) DO NOTHING",
        fmt::format("recording host '{}'", id.hostname));
    insert_host.bind(1, id.machine_id).bind(2, id.hostname).bind(3, utc_now_iso8601()).run();
    sqlite::Statement find_host(db, "SELECT id FROM host WHERE machine_id = ?1 AND hostname = ?2",
                                fmt::format("looking up host '{}'", id.hostname));
    find_host.bind(1, id.machine_id).bind(2, id.hostname);
    if (!find_host.step()) {
        db.fail(fmt::format("host '{}' vanished after insert", id.hostname));
    }
    const std::int64_t host_id = find_host.get_int64(0);

    const std::string what =
        fmt::format("recording hw_config {} of host '{}'", host.fingerprint, id.hostname);
    sqlite::Statement find_config(
        db, "SELECT id FROM hw_config WHERE host_id = ?1 AND fingerprint = ?2", what);
    find_config.bind(1, host_id).bind(2, host.fingerprint);
    if (find_config.step()) {
        const std::int64_t config_id = find_config.get_int64(0);
        tx.commit();
        return config_id;
    }
    sqlite::Statement insert_config(
        db,
        "INSERT INTO hw_config (host_id, fingerprint, fingerprint_keys, probe_json, cpu_model, "
        "instance_type, first_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        what);
    insert_config.bind(1, host_id)
        .bind(2, host.fingerprint)
        .bind(3, join_lines(host.fingerprint_keys))
        .bind(4, to_json(host))
        .bind(5, non_empty(host.cpu.model_name))
        .bind(6, non_empty(id.product_name))
        .bind(7, utc_now_iso8601())
        .run();
    const std::int64_t config_id = db.last_insert_rowid();
    tx.commit();
    return config_id;
}

std::int64_t Store::begin_run(std::int64_t hw_config_id, const RunInfo& info) {
    auto& db = impl_->db;
    const std::string uuid = info.uuid.empty() ? make_uuid_v4() : info.uuid;
    const std::string what = fmt::format("starting run {}", uuid);
    sqlite::Transaction tx(db);
    sqlite::Statement insert(
        db,
        "INSERT INTO run (uuid, hw_config_id, started_at, status, tool_version, git_sha, "
        "compiler, compiler_flags, build_type, command_line, suite, pid, environment_json) "
        "VALUES (?1, ?2, ?3, 'running', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        what);
    insert.bind(1, uuid)
        .bind(2, hw_config_id)
        .bind(3, info.started_at.empty() ? utc_now_iso8601() : info.started_at)
        .bind(4, info.tool_version)
        .bind(5, info.git_sha)
        .bind(6, info.compiler)
        .bind(7, info.compiler_flags)
        .bind(8, info.build_type)
        .bind(9, info.command_line)
        .bind(10, info.suite)
        .bind(11, info.pid)
        .bind(12, environment_to_json(info.environment))
        .run();
    const std::int64_t run_id = db.last_insert_rowid();
    // OR IGNORE: a tag given twice is still one tag.
    sqlite::Statement tag(db, "INSERT OR IGNORE INTO run_tag (run_id, tag) VALUES (?1, ?2)",
                          what + " (tags)");
    for (const auto& t : info.tags) {
        tag.bind(1, run_id).bind(2, t).run();
        tag.reset();
    }
    tx.commit();
    return run_id;
}

std::int64_t Store::add_result(std::int64_t run_id, const Result& result) {
    const Case& c = result.bench_case;
    const std::string what = fmt::format("storing result {} ({}, {}) of run {}", c.id(),
                                         result.device, result.backend, run_id);
    if (result.stats.count != result.samples.size()) {
        throw UsageError(fmt::format("{}: stats describe {} samples but {} were given", what,
                                     result.stats.count, result.samples.size()));
    }
    auto& db = impl_->db;
    sqlite::Transaction tx(db);

    const std::string params = c.canonical_params();
    sqlite::Statement insert_case(db,
                                  "INSERT INTO \"case\" (benchmark, params, family) VALUES (?1, "
                                  "?2, ?3) ON CONFLICT (benchmark, params) DO NOTHING",
                                  what + " (case)");
    insert_case.bind(1, c.benchmark).bind(2, params).bind(3, c.family()).run();
    sqlite::Statement find_case(db, "SELECT id FROM \"case\" WHERE benchmark = ?1 AND params = ?2",
                                what + " (case)");
    find_case.bind(1, c.benchmark).bind(2, params);
    if (!find_case.step()) {
        db.fail(what + ": case vanished after insert");
    }
    const std::int64_t case_id = find_case.get_int64(0);

    sqlite::Statement insert(
        db,
        "INSERT INTO result (run_id, case_id, device, backend, status, message, unit, "
        "sample_count, samples, min, median, mean, stddev, q1, q3, iqr, max, verified, "
        "verification, started_at, wall_seconds, implementation) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
        "?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
        what);
    const SampleStats& s = result.stats;
    const std::size_t n = result.samples.size();
    insert.bind(1, run_id)
        .bind(2, case_id)
        .bind(3, result.device)
        .bind(4, result.backend)
        .bind(5, to_string(result.status))
        .bind(6, result.message)
        .bind(7, result.unit)
        .bind(8, static_cast<std::int64_t>(n));
    if (n == 0) {
        insert.bind_null(9);
    } else {
        insert.bind_blob(9, encode_samples(result.samples));
    }
    bind_stat(insert, 10, s.min, n);
    bind_stat(insert, 11, s.median, n);
    bind_stat(insert, 12, s.mean, n);
    bind_stat(insert, 13, s.stddev, n);
    bind_stat(insert, 14, s.q1, n);
    bind_stat(insert, 15, s.q3, n);
    bind_stat(insert, 16, s.iqr, n);
    bind_stat(insert, 17, s.max, n);
    insert.bind(18, result.verified ? 1 : 0)
        .bind(19, result.verification)
        .bind(20, result.started_at)
        .bind(21, result.wall_seconds)
        .bind(22, result.implementation)
        .run();
    const std::int64_t result_id = db.last_insert_rowid();

    sqlite::Statement metric(db,
                             "INSERT INTO metric (result_id, name, value, unit, direction) VALUES "
                             "(?1, ?2, ?3, ?4, ?5)",
                             what + " (metric)");
    for (const Metric& m : result.metrics) {
        metric.bind(1, result_id).bind(2, m.name);
        if (std::isnan(m.value)) {
            metric.bind_null(3);
        } else {
            metric.bind(3, m.value);
        }
        metric.bind(4, m.unit).bind(5, to_string(m.direction)).run();
        metric.reset();
    }
    tx.commit();
    return result_id;
}

void Store::add_ceilings(std::int64_t run_id, const std::vector<Ceiling>& ceilings,
                         const std::vector<std::int64_t>& result_ids) {
    auto& db = impl_->db;
    const std::string what = fmt::format("storing ceilings of run {}", run_id);
    sqlite::Transaction tx(db);
    sqlite::Statement insert(
        db,
        "INSERT OR REPLACE INTO ceiling (run_id, device, name, value, unit, direction, basis, "
        "source_result_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        what);
    for (const Ceiling& c : ceilings) {
        insert.bind(1, run_id).bind(2, c.device).bind(3, c.name);
        if (std::isnan(c.value)) {
            insert.bind_null(4);
        } else {
            insert.bind(4, c.value);
        }
        insert.bind(5, c.unit).bind(6, to_string(c.direction)).bind(7, c.basis);
        const bool has_source = c.source_index >= 0 &&
                                static_cast<std::size_t>(c.source_index) < result_ids.size() &&
                                result_ids[static_cast<std::size_t>(c.source_index)] > 0;
        if (has_source) {
            insert.bind(8, result_ids[static_cast<std::size_t>(c.source_index)]);
        } else {
            insert.bind_null(8);
        }
        insert.run();
        insert.reset();
    }
    tx.commit();
}

std::vector<StoredCeiling> Store::ceilings_for_run(std::int64_t run_id) const {
    auto& db = impl_->db;
    const std::string what = fmt::format("reading ceilings of run {}", run_id);
    sqlite::Statement st(db,
                         "SELECT device, name, value, unit, direction, basis, source_result_id "
                         "FROM ceiling WHERE run_id = ?1 ORDER BY id",
                         what);
    st.bind(1, run_id);
    std::vector<StoredCeiling> out;
    while (st.step()) {
        StoredCeiling sc;
        sc.run_id = run_id;
        sc.ceiling.device = st.get_text(0);
        sc.ceiling.name = st.get_text(1);
        sc.ceiling.value =
            st.is_null(2) ? std::numeric_limits<double>::quiet_NaN() : st.get_double(2);
        sc.ceiling.unit = st.get_text(3);
        sc.ceiling.direction = direction_from_string(st.get_text(4));
        sc.ceiling.basis = st.get_text(5);
        sc.source_result_id = st.is_null(6) ? 0 : st.get_int64(6);
        out.push_back(std::move(sc));
    }
    return out;
}

std::vector<StoredCeiling> Store::latest_ceilings(std::int64_t hw_config_id,
                                                  std::int64_t exclude_run_id) const {
    auto& db = impl_->db;
    const std::string what =
        fmt::format("reading the latest ceilings of hw_config {}", hw_config_id);
    // Newest = the run started last (ISO-8601 text sorts by time), then the highest run id.
    sqlite::Statement st(
        db,
        "SELECT c.run_id, c.device, c.name, c.value, c.unit, c.direction, c.basis, "
        "c.source_result_id FROM ceiling c JOIN run r ON r.id = c.run_id "
        "WHERE r.hw_config_id = ?1 AND r.id != ?2 "
        "ORDER BY c.device, c.name, r.started_at DESC, r.id DESC",
        what);
    st.bind(1, hw_config_id).bind(2, exclude_run_id);
    std::vector<StoredCeiling> out;
    while (st.step()) {
        StoredCeiling sc;
        sc.run_id = st.get_int64(0);
        sc.ceiling.device = st.get_text(1);
        sc.ceiling.name = st.get_text(2);
        if (!out.empty() && out.back().ceiling.device == sc.ceiling.device &&
            out.back().ceiling.name == sc.ceiling.name) {
            continue;  // an older value of the same ceiling
        }
        sc.ceiling.value =
            st.is_null(3) ? std::numeric_limits<double>::quiet_NaN() : st.get_double(3);
        sc.ceiling.unit = st.get_text(4);
        sc.ceiling.direction = direction_from_string(st.get_text(5));
        sc.ceiling.basis = st.get_text(6);
        sc.source_result_id = st.is_null(7) ? 0 : st.get_int64(7);
        out.push_back(std::move(sc));
    }
    return out;
}

void Store::add_metrics(std::int64_t result_id, const std::vector<Metric>& metrics) {
    auto& db = impl_->db;
    const std::string what = fmt::format("adding metrics to result {}", result_id);
    sqlite::Transaction tx(db);
    sqlite::Statement insert(db,
                             "INSERT OR REPLACE INTO metric (result_id, name, value, unit, "
                             "direction) VALUES (?1, ?2, ?3, ?4, ?5)",
                             what);
    for (const Metric& m : metrics) {
        insert.bind(1, result_id).bind(2, m.name);
        if (std::isnan(m.value)) {
            insert.bind_null(3);
        } else {
            insert.bind(3, m.value);
        }
        insert.bind(4, m.unit).bind(5, to_string(m.direction)).run();
        insert.reset();
    }
    tx.commit();
}

sqlite::Database& Store::database() {
    return impl_->db;
}
const sqlite::Database& Store::database() const {
    return impl_->db;
}

void Store::finish_run(std::int64_t run_id, RunStatus status, const std::string& note) {
    auto& db = impl_->db;
    const std::string what = fmt::format("finishing run {}", run_id);
    sqlite::Transaction tx(db);
    sqlite::Statement update(
        db, "UPDATE run SET status = ?2, status_note = ?3, finished_at = ?4 WHERE id = ?1", what);
    update.bind(1, run_id)
        .bind(2, to_string(status))
        .bind(3, note)
        .bind(4, utc_now_iso8601())
        .run();
    if (db.changes() == 0) {
        throw StoreError(fmt::format("{}: {}: no such run", db.path().string(), what));
    }
    tx.commit();
}

std::string Store::library_version() {
    return sqlite3_libversion();
}

void Store::merge_run_environment(std::int64_t run_id,
                                  const std::map<std::string, std::string>& entries) {
    auto& db = impl_->db;
    const std::string what = fmt::format("updating the environment of run {}", run_id);
    sqlite::Transaction tx(db);
    sqlite::Statement select(db, "SELECT environment_json FROM run WHERE id = ?1", what);
    select.bind(1, run_id);
    if (!select.step()) {
        throw StoreError(fmt::format("{}: {}: no such run", db.path().string(), what));
    }
    std::map<std::string, std::string> env;
    try {
        env = environment_from_json(select.get_text(0), run_id);
    } catch (const StoreError& e) {
        throw StoreError(fmt::format("{}: {}", db.path().string(), e.what()));
    }
    for (const auto& [key, value] : entries) {
        env[key] = value;
    }
    sqlite::Statement update(db, "UPDATE run SET environment_json = ?2 WHERE id = ?1", what);
    update.bind(1, run_id).bind(2, environment_to_json(env)).run();
    tx.commit();
}

int Store::mark_dead_runs_incomplete(const std::string& hostname) {
    auto& db = impl_->db;
    const std::string what = fmt::format("marking dead runs on '{}' incomplete", hostname);
    sqlite::Transaction tx(db);
    sqlite::Statement running(db,
                              "SELECT r.id, r.pid FROM run r JOIN hw_config c ON c.id = "
                              "r.hw_config_id JOIN host h ON h.id = c.host_id "
                              "WHERE r.status = 'running' AND h.hostname = ?1 ORDER BY r.id",
                              what);
    running.bind(1, hostname);
    std::vector<std::pair<std::int64_t, std::int64_t>> dead;
    while (running.step()) {
        const std::int64_t pid = running.get_int64(1);
        // pid <= 0 would address a process group, never one process; such runs are left alone.
        if (pid <= 0 || pid > std::numeric_limits<pid_t>::max()) {
            continue;
        }
        // EPERM means the process exists under another user: it is alive.
        if (kill(static_cast<pid_t>(pid), 0) == -1 && errno == ESRCH) {
            dead.emplace_back(running.get_int64(0), pid);
        }
    }
    sqlite::Statement update(db,
                             "UPDATE run SET status = 'incomplete', status_note = ?2, "
                             "finished_at = ?3 WHERE id = ?1 AND status = 'running'",
                             what);
    int changed = 0;
    for (const auto& [run_id, pid] : dead) {
        update.bind(1, run_id)
            .bind(2, fmt::format("process {} ended without finishing the run", pid))
            .bind(3, utc_now_iso8601())
            .run();
        changed += static_cast<int>(db.changes());
        update.reset();
    }
    tx.commit();
    return changed;
}

std::vector<StoredRun> Store::list_runs(const RunFilter& filter) const {
    auto& db = impl_->db;
    sqlite::Statement st(
        db,
        "SELECT r.id, r.uuid, r.started_at, r.finished_at, r.status, r.status_note, "
        "r.tool_version, r.git_sha, r.compiler, r.compiler_flags, r.build_type, r.command_line, "
        "r.suite, r.pid, r.environment_json, h.id, h.hostname, c.id, c.fingerprint "
        "FROM run r JOIN hw_config c ON c.id = r.hw_config_id JOIN host h ON h.id = c.host_id "
        "WHERE (?1 IS NULL OR r.id = ?1) AND (?2 = '' OR h.hostname = ?2) AND (?3 = '' OR "
        "EXISTS (SELECT 1 FROM run_tag t WHERE t.run_id = r.id AND t.tag = ?3)) "
        "ORDER BY r.started_at DESC, r.id DESC LIMIT ?4",
        "listing runs");
    st.bind(1, filter.run_id)
        .bind(2, filter.hostname)
        .bind(3, filter.tag)
        .bind(4, filter.limit == 0 ? std::int64_t{-1} : static_cast<std::int64_t>(filter.limit));
    sqlite::Statement tags(db, "SELECT tag FROM run_tag WHERE run_id = ?1 ORDER BY tag",
                           "listing run tags");
    std::vector<StoredRun> out;
    while (st.step()) {
        StoredRun r;
        r.id = st.get_int64(0);
        r.info.uuid = st.get_text(1);
        r.info.started_at = st.get_text(2);
        r.finished_at = st.get_text(3);
        try {
            r.status = run_status_from_string(st.get_text(4));
        } catch (const Error& e) {
            note_unreadable(fmt::format("run {}: {} (skipped)", r.id, e.what()));
            continue;
        }
        r.status_note = st.get_text(5);
        r.info.tool_version = st.get_text(6);
        r.info.git_sha = st.get_text(7);
        r.info.compiler = st.get_text(8);
        r.info.compiler_flags = st.get_text(9);
        r.info.build_type = st.get_text(10);
        r.info.command_line = st.get_text(11);
        r.info.suite = st.get_text(12);
        r.info.pid = st.get_int64(13);
        try {
            r.info.environment = environment_from_json(st.get_text(14), r.id);
        } catch (const Error& e) {
            note_unreadable(fmt::format("{} (read without its environment)", e.what()));
        }
        r.host_id = st.get_int64(15);
        r.hostname = st.get_text(16);
        r.hw_config_id = st.get_int64(17);
        r.fingerprint = st.get_text(18);
        tags.bind(1, r.id);
        while (tags.step()) {
            r.info.tags.push_back(tags.get_text(0));
        }
        tags.reset();
        out.push_back(std::move(r));
    }
    return out;
}

std::vector<StoredResult> Store::results_for_run(std::int64_t run_id) const {
    auto& db = impl_->db;
    const std::string what = fmt::format("reading results of run {}", run_id);
    sqlite::Statement st(
        db,
        "SELECT r.id, c.benchmark, c.params, r.device, r.backend, r.status, r.message, r.unit, "
        "r.sample_count, r.samples, r.min, r.median, r.mean, r.stddev, r.q1, r.q3, r.iqr, r.max, "
        "r.verified, r.verification, r.started_at, r.wall_seconds, r.implementation "
        "FROM result r JOIN \"case\" c ON c.id = r.case_id WHERE r.run_id = ?1 ORDER BY r.id",
        what);
    st.bind(1, run_id);
    sqlite::Statement metrics(db,
                              "SELECT name, value, unit, direction FROM metric WHERE result_id = "
                              "?1 ORDER BY id",
                              what + " (metrics)");
    std::vector<StoredResult> out;
    while (st.step()) {
        StoredResult sr;
        sr.id = st.get_int64(0);
        sr.run_id = run_id;
        Result& r = sr.result;
        try {
            r.bench_case.benchmark = st.get_text(1);
            r.bench_case.params = Case::parse_params(st.get_text(2));
            r.status = result_status_from_string(st.get_text(5));
            const std::int64_t count = st.get_int64(8);
            r.samples = decode_sample_blob(st.get_blob(9));
            if (count < 0 || r.samples.size() != static_cast<std::uint64_t>(count)) {
                throw StoreError(fmt::format("sample_count {} but the blob holds {} samples", count,
                                             r.samples.size()));
            }
            r.stats.count = r.samples.size();
        } catch (const Error& e) {
            note_unreadable(
                fmt::format("result {} of run {}: {} (skipped)", sr.id, run_id, e.what()));
            continue;
        }
        const std::size_t count = r.stats.count;
        r.device = st.get_text(3);
        r.backend = st.get_text(4);
        r.message = st.get_text(6);
        r.unit = st.get_text(7);
        r.stats.min = stat_column(st, 10, count);
        r.stats.median = stat_column(st, 11, count);
        r.stats.mean = stat_column(st, 12, count);
        r.stats.stddev = stat_column(st, 13, count);
        r.stats.q1 = stat_column(st, 14, count);
        r.stats.q3 = stat_column(st, 15, count);
        r.stats.iqr = stat_column(st, 16, count);
        r.stats.max = stat_column(st, 17, count);
        r.verified = st.get_int64(18) != 0;
        r.verification = st.get_text(19);
        r.started_at = st.get_text(20);
        r.wall_seconds = st.is_null(21) ? 0.0 : st.get_double(21);
        r.implementation = st.get_text(22);
        metrics.bind(1, sr.id);
        while (metrics.step()) {
            Metric m;
            m.name = metrics.get_text(0);
            m.value = metrics.is_null(1) ? std::numeric_limits<double>::quiet_NaN()
                                         : metrics.get_double(1);
            m.unit = metrics.get_text(2);
            try {
                m.direction = direction_from_string(metrics.get_text(3));
            } catch (const Error& e) {
                note_unreadable(fmt::format("metric '{}' of result {}: {} (read as none)", m.name,
                                            sr.id, e.what()));
            }
            r.metrics.push_back(std::move(m));
        }
        metrics.reset();
        out.push_back(std::move(sr));
    }
    return out;
}

std::vector<std::string> Store::unreadable_rows() const {
    return impl_->unreadable;
}

void Store::note_unreadable(const std::string& line) const {
    if (impl_->unreadable_seen.insert(line).second) {
        impl_->unreadable.push_back(line);
    }
}

std::vector<StoredHost> Store::hosts() const {
    auto& db = impl_->db;
    sqlite::Statement st(db,
                         "SELECT h.id, h.hostname, h.machine_id, c.id, c.fingerprint, "
                         "c.first_seen, c.probe_json FROM hw_config c JOIN host h ON h.id = "
                         "c.host_id ORDER BY h.id, c.id",
                         "listing hosts");
    std::vector<StoredHost> out;
    while (st.step()) {
        StoredHost h;
        h.host_id = st.get_int64(0);
        h.hostname = st.get_text(1);
        h.machine_id = st.get_text(2);
        h.hw_config_id = st.get_int64(3);
        h.fingerprint = st.get_text(4);
        h.first_seen = st.get_text(5);
        h.probe_json = st.get_text(6);
        out.push_back(std::move(h));
    }
    return out;
}

}  // namespace assay
