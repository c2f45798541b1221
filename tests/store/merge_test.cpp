// Ingest of other Assay stores: idempotent, remapped, with provenance, refusing newer schemas.
#include "store/merge.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "core/sha256.hpp"
#include "core/stats.hpp"
#include "store/store.hpp"

namespace fs = std::filesystem;
using namespace assay;

namespace {

fs::path merge_db(const std::string& name) {
    const fs::path dir = fs::path(ASSAY_TEST_TMP) / "merge";
    fs::create_directories(dir);
    const fs::path p = dir / (name + "-" + std::to_string(getpid()) + ".db");
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
        fs::remove(p.string() + suffix);
    }
    return p;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
}

void exec_sql(const fs::path& p, const std::string& sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(p.c_str(), &db) == SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    const std::string msg = err != nullptr ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    INFO(msg);
    REQUIRE(rc == SQLITE_OK);
}

std::string query_one(const fs::path& p, const std::string& sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2(p.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    INFO(sql);
    REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    std::string out = "<no row>";
    if (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char* t = sqlite3_column_text(st, 0);
        out = t != nullptr ? reinterpret_cast<const char*>(t) : "NULL";
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

long count_rows(const fs::path& p, const std::string& table) {
    return std::stol(query_one(p, "SELECT count(*) FROM " + table));
}

HostInfo host_named(const std::string& hostname, const std::string& driver = "1") {
    HostInfo h;
    h.identity.hostname = hostname;
    h.identity.machine_id = "mid-" + hostname;
    h.cpu.model_name = "AMD EPYC 9R14";
    h.fingerprint_keys = {"cpu.model=AMD EPYC 9R14", "driver=" + driver};
    h.fingerprint = sha256_hex(h.fingerprint_keys[0] + "\n" + h.fingerprint_keys[1] + "\n");
    h.probed_at = "2026-01-01T00:00:00.000Z";
    return h;
}

Result result_for(const std::string& benchmark, double seconds) {
    Result r;
    r.bench_case.benchmark = benchmark;
    r.bench_case.params = {{"dtype", "f64"}};
    r.device = "cpu";
    r.backend = "cpu.native";
    r.status = ResultStatus::ok;
    r.samples = {seconds, seconds * 1.01, seconds * 0.99};
    r.stats = summarize(r.samples);
    r.verified = true;
    r.metrics = {{"bandwidth_gb_per_s.best", 1.0 / seconds, "GB/s", Direction::higher_is_better}};
    return r;
}

/// A store with `runs` complete runs of host `hostname`, each with two results, one ceiling
/// and a tag; uuids are "<hostname>-<i>".
void make_source(const fs::path& p, const std::string& hostname, int runs) {
    Store s = Store::open(p, OpenMode::create_read_write);
    const auto config = s.record_host(host_named(hostname));
    for (int i = 0; i < runs; ++i) {
        RunInfo info;
        info.uuid = hostname + "-" + std::to_string(i);
        info.started_at = "2026-02-0" + std::to_string(i + 1) + "T00:00:00Z";
        info.tags = {"campaign:test", "node:" + hostname};
        const auto run = s.begin_run(config, info);
        const auto r1 = s.add_result(run, result_for("stream.triad", 0.001 * (i + 1)));
        const auto r2 = s.add_result(run, result_for("stream.copy", 0.002));
        Ceiling c{"cpu",  "mem.bandwidth.dram.triad.all_cores", 1000.0 / (i + 1),
                  "GB/s", Direction::higher_is_better,          "test",
                  1};
        s.add_ceilings(run, {c}, {r1, r2});
        s.finish_run(run, RunStatus::complete);
    }
}

/// Ingesting a 1-run store of "node-a" altered by `sql` into `target` must be refused with one
/// line that starts with "'<source><prefix>" and contains `expected`.
void check_refused(const fs::path& target, const fs::path& source, const std::string& sql,
                   const std::string& prefix, const std::string& expected) {
    INFO(sql);
    make_source(source, "node-a", 1);
    exec_sql(source, sql);
    Store store = Store::open(target, OpenMode::read_write);
    try {
        ingest_file(store, source);
        FAIL("ingested");
    } catch (const InputError& e) {
        const std::string what = e.what();
        CHECK_THAT(what, Catch::StartsWith("'" + source.string() + prefix));
        CHECK_THAT(what, Catch::Contains(expected));
        CHECK(what.find('\n') == std::string::npos);
    }
    fs::remove(source);
}

}  // namespace

TEST_CASE("merge: two stores merge with ids remapped, and ingesting again adds nothing",
          "[merge]") {
    const fs::path a = merge_db("src-a");
    const fs::path b = merge_db("src-b");
    const fs::path t = merge_db("target");
    make_source(a, "node-a", 2);
    make_source(b, "node-b", 3);
    Store target = Store::open(t, OpenMode::create_read_write);
    // The target already holds a run of its own, so source ids and target ids differ.
    {
        const auto config = target.record_host(host_named("node-a"));
        RunInfo info;
        info.uuid = "local-0";
        const auto run = target.begin_run(config, info);
        target.add_result(run, result_for("stream.triad", 0.5));
        target.finish_run(run, RunStatus::complete);
    }
    const std::string a_hash = sha256_hex(slurp(a));

    const IngestSummary sa = ingest_file(target, a);
    CHECK(sa.kind == "assay");
    CHECK(sa.runs_added == 2);
    CHECK(sa.runs_present == 0);
    CHECK(sa.results_added == 4);
    CHECK(sa.ingest_id > 0);
    const IngestSummary sb = ingest_assay_store(target, b);
    CHECK(sb.runs_added == 3);
    CHECK(sb.results_added == 6);

    CHECK(count_rows(t, "run") == 6);
    CHECK(count_rows(t, "result") == 11);
    CHECK(count_rows(t, "metric") == 11);
    CHECK(count_rows(t, "ceiling") == 5);
    CHECK(count_rows(t, "run_tag") == 10);
    // node-a is one host with one hw_config (same machine id, hostname and fingerprint).
    CHECK(count_rows(t, "host") == 2);
    CHECK(count_rows(t, "hw_config") == 2);
    // stream.triad/dtype=f64 and stream.copy/dtype=f64: cases are shared.
    CHECK(count_rows(t, "\"case\"") == 2);
    CHECK(count_rows(t, "ingest") == 2);

    // Provenance: which file, which source run.
    CHECK(query_one(t,
                    "SELECT i.source_path FROM run r JOIN ingest i ON i.id = r.ingest_id "
                    "WHERE r.uuid = 'node-b-2'") == b.string());
    CHECK(query_one(t, "SELECT source_run_id FROM run WHERE uuid = 'node-b-2'") == "3");
    CHECK(query_one(t, "SELECT source_sha256 FROM ingest WHERE source_path = '" + a.string() +
                           "'") == a_hash);
    CHECK(query_one(t, "SELECT ingest_id IS NULL FROM run WHERE uuid = 'local-0'") == "1");
    // The copied ceiling points at the copied result of its own run (remapped), not the source id.
    CHECK(query_one(t,
                    "SELECT c2.benchmark FROM ceiling c JOIN run r ON r.id = c.run_id JOIN result "
                    "x ON x.id = c.source_result_id JOIN \"case\" c2 ON c2.id = x.case_id WHERE "
                    "r.uuid = 'node-b-1' AND x.run_id = r.id") == "stream.copy");
    // Samples and statistics survive the copy bit for bit.
    const auto runs = target.list_runs();
    bool found = false;
    for (const auto& run : runs) {
        if (run.info.uuid != "node-a-1")
            continue;
        found = true;
        CHECK(run.hostname == "node-a");
        CHECK(run.status == RunStatus::complete);
        const auto results = target.results_for_run(run.id);
        REQUIRE(results.size() == 2);
        CHECK(results[0].result.samples == result_for("stream.triad", 0.002).samples);
        REQUIRE(results[0].result.find_metric("bandwidth_gb_per_s.best") != nullptr);
        CHECK(results[0].result.find_metric("bandwidth_gb_per_s.best")->value == Approx(500.0));
        CHECK(std::find(run.info.tags.begin(), run.info.tags.end(), "node:node-a") !=
              run.info.tags.end());
    }
    CHECK(found);

    // Again: nothing is added, not even a provenance row.
    const IngestSummary again = ingest_file(target, a);
    CHECK(again.runs_added == 0);
    CHECK(again.runs_present == 2);
    CHECK(again.ingest_id == 0);
    CHECK(count_rows(t, "run") == 6);
    CHECK(count_rows(t, "result") == 11);
    CHECK(count_rows(t, "ingest") == 2);
    // The source was only read.
    CHECK(sha256_hex(slurp(a)) == a_hash);
}

TEST_CASE("merge: a grown source adds only its new runs", "[merge]") {
    const fs::path a = merge_db("grow-a");
    const fs::path t = merge_db("grow-target");
    make_source(a, "node-g", 1);
    Store target = Store::open(t, OpenMode::create_read_write);
    CHECK(ingest_file(target, a).runs_added == 1);
    {
        Store s = Store::open(a, OpenMode::read_write);
        RunInfo info;
        info.uuid = "node-g-new";
        const auto run = s.begin_run(s.hosts().at(0).hw_config_id, info);
        s.add_result(run, result_for("stream.triad", 0.25));
        s.finish_run(run, RunStatus::complete);
    }
    const auto s = ingest_file(target, a);
    CHECK(s.runs_added == 1);
    CHECK(s.runs_present == 1);
    CHECK(count_rows(t, "run") == 2);
    CHECK(count_rows(t, "host") == 1);
}

TEST_CASE("merge: older-schema sources are read through a migrated copy", "[merge]") {
    const fs::path v1 = merge_db("v1-source");
    exec_sql(v1, slurp(fs::path(ASSAY_SCHEMA_DIR) / "001_initial.sql"));
    exec_sql(v1,
             "PRAGMA user_version = 1; PRAGMA application_id = 1095979865;"
             "INSERT INTO host VALUES (1, 'mid', 'old-host', '2026-01-01T00:00:00Z');"
             "INSERT INTO hw_config (id, host_id, fingerprint, fingerprint_keys, probe_json, "
             "first_seen) VALUES (1, 1, 'fp', 'k', '{}', '2026-01-01T00:00:00Z');"
             "INSERT INTO run (id, uuid, hw_config_id, started_at, status) VALUES "
             "(7, 'v1-run', 1, '2026-01-01T00:00:00Z', 'complete');"
             "INSERT INTO \"case\" VALUES (1, 'stream.triad', 'dtype=f64', 'stream');"
             "INSERT INTO result (id, run_id, case_id, device, backend, status, verified) VALUES "
             "(1, 7, 1, 'cpu', 'cpu.native', 'ok', 1);"
             "INSERT INTO metric (result_id, name, value, unit, direction) VALUES "
             "(1, 'bandwidth_stream_gb_per_s.best', 40.5, 'GB/s', 'higher');");
    const std::string before = sha256_hex(slurp(v1));
    const fs::path t = merge_db("v1-target");
    Store target = Store::open(t, OpenMode::create_read_write);
    const auto s = ingest_file(target, v1);
    CHECK(s.runs_added == 1);
    CHECK(s.results_added == 1);
    CHECK(query_one(t, "SELECT source_run_id FROM run WHERE uuid = 'v1-run'") == "7");
    CHECK(query_one(t, "SELECT value FROM metric") == "40.5");
    CHECK(query_one(t, "SELECT implementation FROM result") == "");
    // The old file is untouched: still version 1, same bytes.
    CHECK(sha256_hex(slurp(v1)) == before);
    CHECK(query_one(v1, "PRAGMA user_version") == "1");
}

TEST_CASE("merge: a v3 target migrates to v4 with ingest provenance columns", "[merge]") {
    const fs::path p = merge_db("v3-upgrade");
    for (const char* file : {"001_initial.sql", "002_ceilings.sql", "003_history.sql"}) {
        exec_sql(p, slurp(fs::path(ASSAY_SCHEMA_DIR) / file));
    }
    exec_sql(p,
             "PRAGMA user_version = 3; PRAGMA application_id = 1095979865;"
             "INSERT INTO host VALUES (1, 'mid', 'h', '2026-01-01T00:00:00Z');"
             "INSERT INTO hw_config (id, host_id, fingerprint, fingerprint_keys, probe_json, "
             "first_seen) VALUES (1, 1, 'fp', 'k', '{}', '2026-01-01T00:00:00Z');"
             "INSERT INTO run (id, uuid, hw_config_id, started_at, status) VALUES "
             "(1, 'old', 1, '2026-01-01T00:00:00Z', 'complete');");
    {
        Store s = Store::open(p, OpenMode::read_write);
        CHECK(s.schema_version() == 4);
    }
    CHECK(query_one(p, "SELECT ingest_id IS NULL AND source_run_id IS NULL FROM run") == "1");
    CHECK(count_rows(p, "ingest") == 0);
}

TEST_CASE("merge: bad sources are refused with one line and store nothing", "[merge]") {
    const fs::path t = merge_db("bad-target");
    Store target = Store::open(t, OpenMode::create_read_write);
    const auto runs_before = count_rows(t, "run");

    SECTION("newer schema") {
        const fs::path n = merge_db("newer");
        make_source(n, "node-n", 1);
        exec_sql(n, "PRAGMA user_version = 99");
        try {
            ingest_file(target, n);
            FAIL("newer schema ingested");
        } catch (const SchemaTooNewError& e) {
            CHECK_THAT(e.what(),
                       Catch::Contains("schema version 99") && Catch::Contains(n.string()));
        }
    }
    SECTION("an SQLite file that is not an Assay store") {
        const fs::path f = merge_db("foreign");
        exec_sql(f, "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);");
        CHECK_THROWS_AS(ingest_file(target, f), InputError);
    }
    SECTION("neither SQLite nor JSON") {
        const fs::path f = merge_db("text");
        std::ofstream(f) << "hello\n";
        CHECK_THROWS_WITH(ingest_file(target, f), Catch::Contains("neither an Assay database"));
    }
    SECTION("missing file") {
        CHECK_THROWS_AS(ingest_file(target, merge_db("missing")), InputError);
    }
    SECTION("the target itself") {
        CHECK_THROWS_AS(ingest_file(target, t), UsageError);
    }
    CHECK(count_rows(t, "run") == runs_before);
    CHECK(count_rows(t, "ingest") == 0);
}

TEST_CASE("merge: a source row that fails validation refuses the file, target byte-identical",
          "[merge]") {
    const fs::path t = merge_db("strict-target");
    const fs::path a = merge_db("strict-a");
    make_source(t, "local", 1);
    const std::string before = slurp(t);
    struct Poison {
        const char* sql;
        const char* expected;
    };
    for (const Poison& poison : {
             Poison{"UPDATE result SET samples = x'00010203040506' WHERE id = 1",
                    "samples blob has 7 bytes, not a multiple of 8"},
             Poison{"UPDATE result SET sample_count = 2 WHERE id = 1",
                    "sample_count 2 but the samples blob holds 3"},
             Poison{"UPDATE result SET samples = x'000000000000F87F000000000000F03F"
                    "000000000000F03F', sample_count = 3 WHERE id = 1",
                    "a sample is nan"},
             Poison{"UPDATE run SET environment_json = '{\"a\": 1}'", "malformed environment_json"},
             Poison{"UPDATE \"case\" SET params = 'x' WHERE id = 1",
                    "malformed case parameters 'x'"},
             Poison{"UPDATE \"case\" SET benchmark = printf('%.600c', 'b') WHERE id = 1",
                    "longer than 512 bytes"},
         }) {
        check_refused(t, a, poison.sql, "': run 'node-a-0'", poison.expected);
    }
    CHECK(slurp(t) == before);
}

TEST_CASE("merge: params stored before the encoding are canonicalised on ingest", "[merge]") {
    const fs::path t = merge_db("legacy-target");
    const fs::path a = merge_db("legacy-a");
    make_source(a, "node-a", 1);
    exec_sql(a, "UPDATE \"case\" SET params = 'arg0=1,2,exe=bench' WHERE id = 1");
    Store target = Store::open(t, OpenMode::create_read_write);
    REQUIRE(ingest_file(target, a).runs_added == 1);
    CHECK(query_one(t, "SELECT params FROM \"case\" WHERE benchmark = 'stream.triad'") ==
          "arg0=1%2C2,exe=bench");
    const auto results = target.results_for_run(target.list_runs().front().id);
    REQUIRE(results.size() == 2);
    CHECK(results[0].result.bench_case.params == Params{{"arg0", "1,2"}, {"exe", "bench"}});
    CHECK(target.unreadable_rows().empty());
}

TEST_CASE(
    "merge: a running run waits until it is finished, and a partial copy is finished in place",
    "[merge]") {
    const fs::path t = merge_db("running-target");
    const fs::path a = merge_db("running-a");
    std::int64_t run = 0;
    {
        Store s = Store::open(a, OpenMode::create_read_write);
        RunInfo info;
        info.uuid = "long-run";
        info.started_at = "2026-02-01T00:00:00Z";
        info.tags = {"nightly"};
        run = s.begin_run(s.record_host(host_named("node-a")), info);
        s.add_result(run, result_for("stream.triad", 0.001));
    }
    Store target = Store::open(t, OpenMode::create_read_write);
    const IngestSummary early = ingest_file(target, a);
    CHECK(early.runs_added == 0);
    CHECK(early.runs_running == 1);
    CHECK(count_rows(t, "run") == 0);

    // What an older version did: the partial run copied as 'running' with 1 of 3 results.
    const fs::path old_copy = merge_db("running-old-copy");
    fs::copy_file(a, old_copy);
    exec_sql(old_copy, "UPDATE run SET status = 'complete'");
    REQUIRE(ingest_file(target, old_copy).runs_added == 1);
    exec_sql(t, "UPDATE run SET status = 'running', status_note = 'partial copy'");
    const std::string target_run_id = query_one(t, "SELECT id FROM run");

    {
        Store s = Store::open(a, OpenMode::read_write);
        s.add_result(run, result_for("stream.copy", 0.002));
        s.add_result(run, result_for("stream.add", 0.003));
        s.finish_run(run, RunStatus::complete, "done");
    }
    const IngestSummary done = ingest_file(target, a);
    CHECK(done.runs_added == 0);
    CHECK(done.runs_updated == 1);
    CHECK(done.results_added == 3);
    CHECK(query_one(t, "SELECT id || ' ' || status || ' ' || status_note FROM run") ==
          target_run_id + " complete done");
    CHECK(count_rows(t, "result") == 3);
    CHECK(count_rows(t, "metric") == 3);
    CHECK(query_one(t, "SELECT group_concat(tag) FROM run_tag") == "nightly");
    const IngestSummary again = ingest_file(target, a);
    CHECK(again.runs_present == 1);
    CHECK(again.runs_updated == 0);
    CHECK(count_rows(t, "result") == 3);
}

TEST_CASE("merge: a source with views, triggers, unknown tables or damage is refused unread",
          "[merge]") {
    const fs::path t = merge_db("foreign-target");
    const fs::path a = merge_db("foreign-a");
    make_source(t, "local", 1);
    const std::string before = slurp(t);
    for (const auto& [sql, expected] : std::vector<std::pair<std::string, std::string>>{
             {"CREATE VIEW v AS SELECT * FROM run", "holds the view 'v'"},
             {"CREATE TRIGGER tr AFTER INSERT ON run BEGIN DELETE FROM run; END",
              "holds the trigger 'tr'"},
             {"CREATE TABLE extra (x)", "holds the unknown table 'extra'"},
         }) {
        check_refused(t, a, sql, "' is not a plain Assay store", expected);
    }
    // A damaged page: the file still opens, SQLite's quick_check finds the damage.
    make_source(a, "node-a", 3);
    exec_sql(a, "PRAGMA journal_mode = DELETE");
    std::string bytes = slurp(a);
    const std::size_t page = 4096;
    REQUIRE(bytes.size() > 4 * page);
    for (std::size_t i = 3 * page + 8; i < 3 * page + 200; ++i) {
        bytes[i] = '\x5a';
    }
    std::ofstream(a, std::ios::binary | std::ios::trunc) << bytes;
    {
        Store target = Store::open(t, OpenMode::read_write);
        try {
            ingest_file(target, a);
            FAIL("a damaged source was ingested");
        } catch (const Error& e) {
            CHECK_THAT(e.what(), Catch::Contains("is a damaged SQLite database (quick_check: "));
            CHECK(std::string(e.what()).find('\n') == std::string::npos);
        }
    }
    CHECK(slurp(t) == before);
}
