#include "store/merge.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/case.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/sha256.hpp"
#include "store/gbench_import.hpp"
#include "store/sqlite.hpp"

namespace assay {

namespace fs = std::filesystem;

namespace {

constexpr int kBusyTimeoutMs = 10000;

std::string read_bytes(const fs::path& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        throw InputError(fmt::format("'{}' is a directory, not a file to ingest", path.string()));
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw InputError(
            fmt::format("cannot read '{}': no such file or not readable", path.string()));
    }
    std::ostringstream bytes;
    bytes << in.rdbuf();
    if (in.bad()) {
        throw InputError(fmt::format("cannot read '{}': read error", path.string()));
    }
    return bytes.str();
}

bool is_sqlite_file(std::string_view bytes) {
    static constexpr std::string_view kMagic("SQLite format 3\0", 16);
    return bytes.substr(0, kMagic.size()) == kMagic;
}

std::string kind_of(const fs::path& path, std::string_view bytes) {
    if (is_sqlite_file(bytes)) {
        return "assay";
    }
    if (bytes.substr(0, 3) == "\xEF\xBB\xBF") {
        bytes.remove_prefix(3);  // a UTF-8 byte order mark
    }
    const auto first = bytes.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos && bytes[first] == '{') {
        return "gbench";
    }
    throw InputError(fmt::format(
        "'{}' is neither an Assay database nor Google Benchmark JSON (--benchmark_out_format=json)",
        path.string()));
}

/// Where a source came from, as recorded in the `ingest` table.
struct Provenance {
    std::string source_path;
    std::string kind;
    std::string sha256;
    bool keep_source_run_id = true;  ///< false when the source ids mean nothing (a temp store)
};

/// A temporary file removed (with its WAL/SHM) on destruction.
class TempDb {
  public:
    TempDb() {
        const fs::path dir = fs::temp_directory_path();
        path_ = dir / fmt::format("assay-ingest-{}-{}.db", ::getpid(), make_uuid_v4());
    }
    ~TempDb() {
        std::error_code ec;
        for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
            fs::remove(path_.string() + suffix, ec);
        }
    }
    TempDb(const TempDb&) = delete;
    TempDb& operator=(const TempDb&) = delete;
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

std::int64_t query_int(sqlite::Database& db, const std::string& sql, std::string_view what) {
    sqlite::Statement st(db, sql, what);
    return st.step() ? st.get_int64(0) : 0;
}

/// A source file is foreign input: nothing its schema names may run on this connection
/// (trusted_schema off: no function with side effects in a view, index or default), and the
/// connection refuses writes that could corrupt a database (defensive mode).
void harden(sqlite::Database& src) {
    sqlite3_db_config(src.handle(), SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
    sqlite3_db_config(src.handle(), SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
}

/// An Assay store holds Assay's tables (and their indexes), nothing else: a view or trigger
/// would run its SQL while the source is copied, an unknown table would be carried along.
void check_source_schema(sqlite::Database& src, const fs::path& source) {
    static const std::set<std::string> kTables = {
        "host", "hw_config", "run", "run_tag", "case", "result", "metric", "ceiling", "ingest"};
    sqlite::Statement st(src,
                         "SELECT type, name FROM sqlite_master WHERE type != 'index' ORDER BY "
                         "type, name",
                         fmt::format("reading the schema of '{}'", source.string()));
    while (st.step()) {
        const std::string type = st.get_text(0);
        const std::string name = st.get_text(1);
        if (type == "table" && (kTables.count(name) != 0 || name.rfind("sqlite_", 0) == 0)) {
            continue;
        }
        throw InputError(fmt::format(
            "'{}' is not a plain Assay store: it holds the {} '{}', which Assay never creates",
            source.string(), type == "table" ? "unknown table" : type, name.substr(0, 80)));
    }
}

/// Opens `source` read-only and checks it is an Assay store this build can read (Assay's
/// tables only, passing SQLite's quick_check); returns its schema version. Throws InputError /
/// SchemaTooNewError otherwise.
std::int64_t check_source(sqlite::Database& src, const fs::path& source) {
    std::int64_t app_id = 0;
    std::int64_t version = 0;
    std::int64_t tables = 0;
    sqlite3_stmt* st = nullptr;
    int rc = sqlite3_prepare_v2(src.handle(),
                                "SELECT (SELECT * FROM pragma_application_id), (SELECT * FROM "
                                "pragma_user_version), (SELECT count(*) FROM sqlite_master)",
                                -1, &st, nullptr);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            app_id = sqlite3_column_int64(st, 0);
            version = sqlite3_column_int64(st, 1);
            tables = sqlite3_column_int64(st, 2);
        }
    }
    const std::string message = sqlite3_errmsg(src.handle());
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) {
        throw InputError(
            fmt::format("'{}' is not a readable Assay database ({})", source.string(), message));
    }
    if (app_id != Store::kApplicationId || tables == 0 || version == 0) {
        throw InputError(fmt::format(
            "'{}' is an SQLite database but not an Assay store (application_id {:#010x}, "
            "schema version {})",
            source.string(), static_cast<std::uint32_t>(app_id), version));
    }
    if (version > Store::kSchemaVersion) {
        throw SchemaTooNewError(fmt::format(
            "'{}' has schema version {}, newer than this assay supports ({}): upgrade assay "
            "to ingest it",
            source.string(), version, Store::kSchemaVersion));
    }
    check_source_schema(src, source);
    sqlite::Statement check(src, "PRAGMA quick_check(1)",
                            fmt::format("checking '{}'", source.string()));
    std::string verdict = check.step() ? check.get_text(0) : std::string("no answer");
    if (verdict != "ok") {
        // "*** in database main ***\nOn tree page 4 cell 0: ...": one line, without the banner.
        if (const auto nl = verdict.find('\n');
            verdict.rfind("***", 0) == 0 && nl != verdict.npos) {
            verdict.erase(0, nl + 1);
        }
        std::replace_if(
            verdict.begin(), verdict.end(),
            [](char c) { return static_cast<unsigned char>(c) < 0x20; }, ' ');
        throw InputError(fmt::format("'{}' is a damaged SQLite database (quick_check: {})",
                                     source.string(), verdict.substr(0, 200)));
    }
    return version;
}

/// Copies the whole of `from` (one consistent snapshot, WAL included) into schema `schema` of
/// `to` with the online backup API.
void backup_into(sqlite::Database& to, const char* schema, sqlite::Database& from,
                 const fs::path& source) {
    sqlite3_backup* b = sqlite3_backup_init(to.handle(), schema, from.handle(), "main");
    if (b == nullptr) {
        to.fail(fmt::format("copying '{}' for ingest", source.string()));
    }
    int rc = SQLITE_OK;
    do {
        rc = sqlite3_backup_step(b, -1);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
            sqlite3_sleep(20);
        }
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        throw StoreError(
            fmt::format("copying '{}' for ingest: {}", source.string(), sqlite3_errstr(rc)));
    }
}

std::string quoted(const std::string& identifier) {
    std::string out = "\"";
    for (const char c : identifier) {
        out += c;
        if (c == '"') {
            out += '"';
        }
    }
    return out + "\"";
}

std::vector<std::string> columns_of(sqlite::Database& db, const std::string& schema,
                                    const std::string& table) {
    sqlite::Statement st(db, "SELECT name FROM pragma_table_info(?1, ?2) ORDER BY cid",
                         fmt::format("reading the columns of {}.{}", schema, table));
    st.bind(1, table).bind(2, schema);
    std::vector<std::string> out;
    while (st.step()) {
        out.push_back(st.get_text(0));
    }
    return out;
}

/// "INSERT INTO main.<table> (cols) SELECT exprs <from_where>": every column of the target
/// table except id, from the source row `s` unless `remap` gives its expression. Built from
/// the live schemas so columns added by later migrations are copied too.
std::string copy_statement(sqlite::Database& db, const std::string& table,
                           const std::vector<std::pair<std::string, std::string>>& remap,
                           const std::string& from_where, const std::string& conflict = {}) {
    const auto src_cols = columns_of(db, "src", table);
    const std::set<std::string> in_src(src_cols.begin(), src_cols.end());
    std::string cols;
    std::string exprs;
    for (const auto& col : columns_of(db, "main", table)) {
        if (col == "id") {
            continue;
        }
        std::string expr;
        bool mapped = false;
        for (const auto& [name, e] : remap) {
            if (name == col) {
                expr = e;
                mapped = true;
            }
        }
        if (!mapped) {
            if (in_src.count(col) == 0) {
                continue;  // left to the column's default
            }
            expr = "s." + quoted(col);
        }
        cols += (cols.empty() ? "" : ", ") + quoted(col);
        exprs += (exprs.empty() ? "" : ", ") + expr;
    }
    return fmt::format("INSERT INTO main.{} ({}) SELECT {} {} {}", quoted(table), cols, exprs,
                       from_where, conflict);
}

/// "UPDATE main.run AS d SET col = s.col, ... FROM src.run s JOIN m_run m ...": the refreshed
/// runs take every column of their finished source row except their identity (id, uuid,
/// hw_config_id), with this ingest's provenance.
std::string refresh_statement(sqlite::Database& db, std::int64_t ingest_id,
                              const std::string& source_run_id) {
    const auto src_cols = columns_of(db, "src", "run");
    const std::set<std::string> in_src(src_cols.begin(), src_cols.end());
    std::string sets;
    for (const auto& col : columns_of(db, "main", "run")) {
        std::string expr;
        if (col == "id" || col == "uuid" || col == "hw_config_id") {
            continue;
        } else if (col == "ingest_id") {
            expr = std::to_string(ingest_id);
        } else if (col == "source_run_id") {
            expr = source_run_id;
        } else if (in_src.count(col) != 0) {
            expr = "s." + quoted(col);
        } else {
            continue;
        }
        sets += (sets.empty() ? "" : ", ") + quoted(col) + " = " + expr;
    }
    return fmt::format(
        "UPDATE main.run AS d SET {} FROM src.run AS s JOIN m_run AS m ON m.src_id = s.id "
        "WHERE m.refresh = 1 AND d.id = m.dst_id",
        sets);
}

/// Limits on what a source may bring (the same as a Google Benchmark import's).
constexpr std::size_t kMaxNameBytes = 512;
constexpr std::size_t kMaxParamsBytes = 4096;

/// A stored name fit for a one-line message.
std::string shown(const std::string& text) {
    std::string out;
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        out += c < 0x20 || c == 0x7f ? std::string("?") : std::string(1, ch);
        if (out.size() >= 80) {
            return out + "...";
        }
    }
    return out;
}

/// Checks every row the merge is about to copy (the runs of m_run, their results and cases)
/// and rewrites the cases' params in today's canonical encoding (params written before it,
/// e.g. "arg0=1,2", are decoded the legacy way). Throws InputError naming the source and the
/// row: nothing is written then. The source is a private copy, so rewriting it is safe.
void validate_and_canonicalise(sqlite::Database& db, const fs::path& source,
                               const std::string& what) {
    const auto refuse = [&source](const std::string& row, const std::string& problem) {
        throw InputError(fmt::format("'{}': {}: {}", source.string(), row, problem));
    };
    {
        sqlite::Statement st(db,
                             "SELECT s.uuid, s.environment_json FROM src.run s JOIN m_run m ON "
                             "m.src_id = s.id ORDER BY s.id",
                             what + " (checking runs)");
        while (st.step()) {
            const std::string uuid = st.get_text(0);
            const std::string row = fmt::format("run '{}'", shown(uuid));
            if (uuid.empty() || uuid.size() > 128) {
                refuse(row, "the run's uuid is empty or longer than 128 bytes");
            }
            try {
                const auto env = nlohmann::json::parse(st.get_text(1));
                (void)env.get<std::map<std::string, std::string>>();
            } catch (const nlohmann::json::exception& e) {
                refuse(row, fmt::format("malformed environment_json ({})", e.what()));
            }
        }
    }
    {
        sqlite::Statement st(
            db,
            "SELECT r.id, ru.uuid, c.benchmark, c.params, r.sample_count, r.samples, "
            "coalesce(r.wall_seconds, 0) FROM src.result r JOIN m_run m ON m.src_id = r.run_id "
            "JOIN src.run ru ON ru.id = r.run_id JOIN src.\"case\" c ON c.id = r.case_id "
            "ORDER BY r.id",
            what + " (checking results)");
        while (st.step()) {
            const std::string benchmark = st.get_text(2);
            const std::string row = fmt::format("run '{}': result {} ('{}')", shown(st.get_text(1)),
                                                st.get_int64(0), shown(benchmark));
            if (benchmark.empty() || benchmark.size() > kMaxNameBytes) {
                refuse(row, fmt::format("the benchmark name is empty or longer than {} bytes",
                                        kMaxNameBytes));
            }
            for (const char ch : benchmark) {
                if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) {
                    refuse(row, "the benchmark name contains a control character");
                }
            }
            const std::string params = st.get_text(3);
            if (params.size() > kMaxParamsBytes) {
                refuse(row, fmt::format("the case params are {} bytes, longer than {}",
                                        params.size(), kMaxParamsBytes));
            }
            try {
                (void)Case::parse_params(params);
            } catch (const Error& e) {
                refuse(row, e.what());
            }
            const std::int64_t count = st.get_int64(4);
            std::vector<double> samples;
            try {
                samples = decode_sample_blob(st.get_blob(5));
            } catch (const Error& e) {
                refuse(row, e.what());
            }
            if (count < 0 || samples.size() != static_cast<std::uint64_t>(count)) {
                refuse(row, fmt::format("sample_count {} but the samples blob holds {}", count,
                                        samples.size()));
            }
            for (const double v : samples) {
                if (!std::isfinite(v)) {
                    refuse(row, fmt::format("a sample is {}, expected a finite number", v));
                }
            }
            if (!std::isfinite(st.get_double(6))) {
                refuse(row, "wall_seconds is not finite");
            }
        }
    }
    // Canonical params: what parse_params() reads, written in today's encoding.
    std::vector<std::pair<std::int64_t, std::string>> rewrites;
    {
        sqlite::Statement st(db,
                             "SELECT id, params FROM src.\"case\" WHERE id IN (SELECT r.case_id "
                             "FROM src.result r JOIN m_run m ON m.src_id = r.run_id)",
                             what + " (reading cases)");
        while (st.step()) {
            const std::string params = st.get_text(1);
            const std::string canonical = Case{"", Case::parse_params(params)}.canonical_params();
            if (canonical != params) {
                rewrites.emplace_back(st.get_int64(0), canonical);
            }
        }
    }
    sqlite::Statement update(db, "UPDATE src.\"case\" SET params = ?2 WHERE id = ?1",
                             what + " (canonical case params)");
    for (const auto& [id, params] : rewrites) {
        update.bind(1, id).bind(2, params).run();
        update.reset();
    }
}

/// Merges the (current-schema) store attached as `src` into main, inside one transaction.
IngestSummary merge_attached(Store& target, const Provenance& prov, const fs::path& source) {
    auto& db = target.database();
    IngestSummary summary;
    summary.source = source;
    summary.kind = prov.kind;
    const std::string what = fmt::format("ingesting '{}'", source.string());

    sqlite::Transaction tx(db);
    db.exec(
        "DROP TABLE IF EXISTS temp.m_run; DROP TABLE IF EXISTS temp.m_host; "
        "DROP TABLE IF EXISTS temp.m_config; DROP TABLE IF EXISTS temp.m_case; "
        "DROP TABLE IF EXISTS temp.m_result;"
        // Only final runs are copied: a run still going would be kept partial for good. A
        // run the target holds as 'running' (copied by an older version) is refreshed in
        // place (refresh = 1, same row id) when the source brings it finished.
        "CREATE TEMP TABLE m_run (src_id INTEGER PRIMARY KEY, dst_id INTEGER, "
        "refresh INTEGER NOT NULL DEFAULT 0);"
        "INSERT INTO m_run (src_id) SELECT id FROM src.run WHERE status != 'running' AND uuid "
        "NOT IN (SELECT uuid FROM main.run);"
        "INSERT INTO m_run (src_id, dst_id, refresh) SELECT s.id, d.id, 1 FROM src.run s JOIN "
        "main.run d ON d.uuid = s.uuid WHERE s.status != 'running' AND d.status = 'running';",
        what + " (new runs)");
    const std::int64_t total = query_int(db, "SELECT count(*) FROM src.run", what);
    summary.runs_added = query_int(db, "SELECT count(*) FROM m_run WHERE refresh = 0", what);
    summary.runs_updated = query_int(db, "SELECT count(*) FROM m_run WHERE refresh = 1", what);
    summary.runs_running = query_int(db,
                                     "SELECT count(*) FROM src.run WHERE status = 'running' AND "
                                     "uuid NOT IN (SELECT uuid FROM main.run WHERE status != "
                                     "'running')",
                                     what);
    summary.runs_present = total - summary.runs_added - summary.runs_updated - summary.runs_running;
    if (summary.runs_added == 0 && summary.runs_updated == 0) {
        return summary;  // nothing new: the transaction rolls back, the target is unchanged
    }
    validate_and_canonicalise(db, source, what);

    sqlite::Statement ingest(db,
                             "INSERT INTO main.ingest (source_path, source_kind, source_sha256, "
                             "ingested_at, runs_added, runs_present) VALUES (?1, ?2, ?3, ?4, ?5, "
                             "?6)",
                             what + " (provenance)");
    ingest.bind(1, prov.source_path)
        .bind(2, prov.kind)
        .bind(3, prov.sha256)
        .bind(4, utc_now_iso8601())
        .bind(5, summary.runs_added + summary.runs_updated)
        .bind(6, summary.runs_present)
        .run();
    summary.ingest_id = db.last_insert_rowid();

    // Hosts and hw_configs of the new runs: matched by identity, created when missing.
    db.exec(
        "INSERT INTO main.host (machine_id, hostname, first_seen) "
        "SELECT h.machine_id, h.hostname, min(h.first_seen) FROM src.host h "
        "JOIN src.hw_config c ON c.host_id = h.id JOIN src.run r ON r.hw_config_id = c.id "
        "JOIN m_run m ON m.src_id = r.id WHERE true GROUP BY h.machine_id, h.hostname "
        "ON CONFLICT (machine_id, hostname) DO NOTHING;"
        "CREATE TEMP TABLE m_host AS SELECT s.id AS src_id, d.id AS dst_id FROM src.host s "
        "JOIN main.host d ON d.machine_id = s.machine_id AND d.hostname = s.hostname;",
        what + " (hosts)");
    db.exec(copy_statement(db, "hw_config", {{"host_id", "mh.dst_id"}},
                           "FROM src.hw_config s JOIN m_host mh ON mh.src_id = s.host_id "
                           "WHERE s.id IN (SELECT r.hw_config_id FROM src.run r JOIN m_run m ON "
                           "m.src_id = r.id)",
                           "ON CONFLICT (host_id, fingerprint) DO NOTHING") +
                ";"
                "CREATE TEMP TABLE m_config AS SELECT s.id AS src_id, d.id AS dst_id FROM "
                "src.hw_config s JOIN m_host mh ON mh.src_id = s.host_id JOIN main.hw_config d "
                "ON d.host_id = mh.dst_id AND d.fingerprint = s.fingerprint;",
            what + " (hw_configs)");

    // Runs, with their provenance, then their tags. A refreshed run keeps its row and host
    // configuration; what it held while running is replaced by the finished version.
    const std::string source_run_id = prov.keep_source_run_id ? "s.id" : "NULL";
    if (summary.runs_updated > 0) {
        db.exec(refresh_statement(db, summary.ingest_id, source_run_id) +
                    ";"
                    "DELETE FROM main.ceiling WHERE run_id IN (SELECT dst_id FROM m_run WHERE "
                    "refresh = 1);"
                    // Metrics explicitly too: the cascade needs foreign keys on.
                    "DELETE FROM main.metric WHERE result_id IN (SELECT id FROM main.result "
                    "WHERE run_id IN (SELECT dst_id FROM m_run WHERE refresh = 1));"
                    "DELETE FROM main.result WHERE run_id IN (SELECT dst_id FROM m_run WHERE "
                    "refresh = 1);"
                    "DELETE FROM main.run_tag WHERE run_id IN (SELECT dst_id FROM m_run WHERE "
                    "refresh = 1);",
                what + " (finished runs)");
    }
    db.exec(copy_statement(db, "run",
                           {{"hw_config_id", "mc.dst_id"},
                            {"ingest_id", std::to_string(summary.ingest_id)},
                            {"source_run_id", source_run_id}},
                           "FROM src.run s JOIN m_run m ON m.src_id = s.id AND m.refresh = 0 "
                           "JOIN m_config mc ON mc.src_id = s.hw_config_id ORDER BY s.id") +
                ";"
                "UPDATE m_run SET dst_id = (SELECT d.id FROM main.run d JOIN src.run s ON "
                "s.uuid = d.uuid WHERE s.id = m_run.src_id) WHERE refresh = 0;"
                "INSERT OR IGNORE INTO main.run_tag (run_id, tag) SELECT m.dst_id, t.tag FROM "
                "src.run_tag t JOIN m_run m ON m.src_id = t.run_id;",
            what + " (runs)");
    const std::int64_t runs_copied =
        query_int(db, "SELECT count(*) FROM m_run WHERE dst_id IS NOT NULL", what);
    if (runs_copied != summary.runs_added + summary.runs_updated) {
        throw StoreError(
            fmt::format("{}: {} of {} new runs could not be copied (a run without its hw_config?)",
                        what, summary.runs_added + summary.runs_updated - runs_copied,
                        summary.runs_added + summary.runs_updated));
    }

    // Cases are shared by every run: matched by (benchmark, params).
    db.exec(
        "INSERT INTO main.\"case\" (benchmark, params, family) SELECT c.benchmark, c.params, "
        "c.family FROM src.\"case\" c WHERE c.id IN (SELECT r.case_id FROM src.result r JOIN "
        "m_run m ON m.src_id = r.run_id) ON CONFLICT (benchmark, params) DO NOTHING;"
        "CREATE TEMP TABLE m_case AS SELECT s.id AS src_id, d.id AS dst_id FROM src.\"case\" s "
        "JOIN main.\"case\" d ON d.benchmark = s.benchmark AND d.params = s.params;",
        what + " (cases)");
    db.exec(copy_statement(db, "result", {{"run_id", "mr.dst_id"}, {"case_id", "mc.dst_id"}},
                           "FROM src.result s JOIN m_run mr ON mr.src_id = s.run_id JOIN m_case "
                           "mc ON mc.src_id = s.case_id ORDER BY s.id") +
                ";"
                "CREATE TEMP TABLE m_result (src_id INTEGER PRIMARY KEY, dst_id INTEGER);"
                "INSERT INTO m_result SELECT s.id, d.id FROM src.result s JOIN m_run mr ON "
                "mr.src_id = s.run_id JOIN m_case mc ON mc.src_id = s.case_id JOIN main.result d "
                "ON d.run_id = mr.dst_id AND d.case_id = mc.dst_id AND d.device = s.device AND "
                "d.backend = s.backend;",
            what + " (results)");
    summary.results_added = query_int(db, "SELECT count(*) FROM m_result", what);
    const std::int64_t source_results = query_int(
        db, "SELECT count(*) FROM src.result WHERE run_id IN (SELECT src_id FROM m_run)", what);
    if (summary.results_added != source_results) {
        throw StoreError(fmt::format("{}: copied {} of {} results", what, summary.results_added,
                                     source_results));
    }
    db.exec(copy_statement(db, "metric", {{"result_id", "m.dst_id"}},
                           "FROM src.metric s JOIN m_result m ON m.src_id = s.result_id "
                           "ORDER BY s.id") +
                ";" +
                copy_statement(db, "ceiling",
                               {{"run_id", "mr.dst_id"},
                                {"source_result_id",
                                 "(SELECT x.dst_id FROM m_result x WHERE x.src_id = "
                                 "s.source_result_id)"}},
                               "FROM src.ceiling s JOIN m_run mr ON mr.src_id = s.run_id "
                               "ORDER BY s.id") +
                ";",
            what + " (metrics and ceilings)");
    db.exec(
        "DROP TABLE temp.m_run; DROP TABLE temp.m_host; DROP TABLE temp.m_config; "
        "DROP TABLE temp.m_case; DROP TABLE temp.m_result;",
        what + " (cleanup)");
    tx.commit();
    return summary;
}

/// A source up to this size is copied into memory (no temporary file, no fsync): per-node
/// campaign DBs are a few hundred KiB. Larger ones go through a temporary file.
constexpr std::uintmax_t kInMemoryCopyBytes = 256ull << 20;

/// Makes a current-schema snapshot of the Assay store `source` available as schema "src" of the
/// target's connection, for the lifetime of the object. The source is only ever read.
class SourceSnapshot {
  public:
    SourceSnapshot(Store& target, const fs::path& source, std::uintmax_t size_bytes)
        : db_(target.database()) {
        try {
            copy(source, size_bytes);
        } catch (...) {
            detach();
            throw;
        }
    }
    /// Attaches an existing current-schema file (a staging store made by this process).
    SourceSnapshot(Store& target, const fs::path& staged) : db_(target.database()) {
        attach(staged);
    }
    ~SourceSnapshot() { detach(); }
    SourceSnapshot(const SourceSnapshot&) = delete;
    SourceSnapshot& operator=(const SourceSnapshot&) = delete;

  private:
    void copy(const fs::path& source, std::uintmax_t size_bytes) {
        sqlite::Database src(source, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX);
        harden(src);
        sqlite3_busy_timeout(src.handle(), kBusyTimeoutMs);
        const std::int64_t version = check_source(src, source);
        if (version == Store::kSchemaVersion && size_bytes <= kInMemoryCopyBytes) {
            db_.exec("ATTACH DATABASE ':memory:' AS src", "attaching an in-memory copy");
            attached_ = true;
            backup_into(db_, "src", src, source);
            return;
        }
        // Older layouts are migrated on a temporary copy by the store's own migrations.
        temp_.emplace();
        sqlite::Statement vacuum(src, "VACUUM INTO ?1",
                                 fmt::format("copying '{}' for ingest", source.string()));
        vacuum.bind(1, temp_->path().string()).run();
        (void)Store::open(temp_->path(), OpenMode::read_write);
        attach(temp_->path());
    }
    void detach() noexcept {
        if (attached_) {
            sqlite3_exec(db_.handle(), "DETACH DATABASE src", nullptr, nullptr, nullptr);
            attached_ = false;
        }
    }
    void attach(const fs::path& path) {
        sqlite::Statement attach(db_, "ATTACH DATABASE ?1 AS src",
                                 fmt::format("attaching '{}'", path.string()));
        attach.bind(1, path.string()).run();
        attached_ = true;
    }
    sqlite::Database& db_;
    std::optional<TempDb> temp_;
    bool attached_ = false;
};

}  // namespace

std::string detect_ingest_kind(const fs::path& path) {
    return kind_of(path, read_bytes(path));
}

IngestSummary ingest_assay_store(Store& target, const fs::path& source) {
    const std::string bytes = read_bytes(source);
    if (!is_sqlite_file(bytes)) {
        throw InputError(fmt::format("'{}' is not an SQLite database", source.string()));
    }
    if (fs::weakly_canonical(source) == fs::weakly_canonical(target.path())) {
        throw UsageError(
            fmt::format("'{}' is the target database itself: nothing to ingest", source.string()));
    }
    // Destroyed (DETACH) after merge_attached's transaction has ended.
    const SourceSnapshot snapshot(target, source, bytes.size());
    return merge_attached(
        target,
        {fs::absolute(source).lexically_normal().string(), "assay", sha256_hex(bytes), true},
        source);
}

IngestSummary ingest_gbench_json(Store& target, const fs::path& source) {
    const std::string text = read_bytes(source);
    // Parsed completely before anything is written: a malformed file stores nothing.
    const GbenchImport imported = parse_gbench_json(text, source.string());
    const TempDb copy;
    {
        Store staging = Store::open(copy.path(), OpenMode::create_read_write);
        write_gbench_run(staging, imported);
    }
    const SourceSnapshot snapshot(target, copy.path());
    return merge_attached(
        target,
        {fs::absolute(source).lexically_normal().string(), "gbench", sha256_hex(text), false},
        source);
}

IngestSummary ingest_file(Store& target, const fs::path& source) {
    const std::string kind = detect_ingest_kind(source);
    return kind == "assay" ? ingest_assay_store(target, source)
                           : ingest_gbench_json(target, source);
}

}  // namespace assay
