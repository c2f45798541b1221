#include "store/store.hpp"

#include <sqlite3.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/sha256.hpp"
#include "core/stats.hpp"

namespace fs = std::filesystem;
using namespace assay;

namespace {

/// A fresh path under ASSAY_TEST_TMP; any earlier file (and its WAL/SHM) is removed.
fs::path temp_db(const std::string& name) {
    const fs::path dir = fs::path(ASSAY_TEST_TMP) / "store";
    fs::create_directories(dir);
    const fs::path p = dir / (name + "-" + std::to_string(getpid()) + ".db");
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
        fs::remove(p.string() + suffix);
    }
    return p;
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
}

void write_file(const fs::path& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << bytes;
}

/// Runs SQL on a raw connection (the test's own view of the file, bypassing Store).
void raw_exec(const fs::path& p, const std::string& sql) {
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

/// Rows of a one-column query, as text.
std::vector<std::string> raw_query(const fs::path& p, const std::string& sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2(p.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    std::vector<std::string> rows;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char* t = sqlite3_column_text(st, 0);
        rows.emplace_back(t != nullptr ? reinterpret_cast<const char*>(t) : "NULL");
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rows;
}

HostInfo make_host(const std::string& fingerprint_suffix = "a") {
    HostInfo h;
    h.identity.hostname = "bench-01";
    h.identity.machine_id = "0123456789abcdef";
    h.identity.product_name = "m7a.large";
    h.cpu.model_name = "AMD EPYC 9R14";
    h.cpu.arch = "x86_64";
    h.fingerprint_keys = {"cpu.model=AMD EPYC 9R14", "cpu.cores=2", "driver=" + fingerprint_suffix};
    std::string joined;
    for (const auto& k : h.fingerprint_keys) {
        joined += k + "\n";
    }
    h.fingerprint = sha256_hex(joined);
    h.probed_at = "2026-01-01T00:00:00.000Z";
    return h;
}

RunInfo make_run_info(std::int64_t pid) {
    RunInfo info;
    info.uuid = "11111111-2222-4333-8444-" + std::to_string(100000000000 + pid);
    info.started_at = "2026-01-02T03:04:05.678Z";
    info.tool_version = "0.1.0";
    info.git_sha = "abc123+dirty";
    info.compiler = "GCC 12.2";
    info.compiler_flags = "-O2 -march=native";
    info.build_type = "RelWithDebInfo";
    info.command_line = "assay run --tag nightly --tag \"quoted\"";
    info.suite = "quick";
    info.tags = {"nightly", "x\"y"};
    info.pid = pid;
    info.environment = {{"hwloc", "2.9.0"}, {"governor", "performance"}, {"odd", "a\"b\\c\nd\te"}};
    return info;
}

Result make_ok_result() {
    Result r;
    r.bench_case.benchmark = "stream.triad";
    r.bench_case.params = {{"dtype", "f64"}, {"placement", "all_cores"}};
    r.device = "cpu";
    r.backend = "cpu.native";
    r.status = ResultStatus::ok;
    r.unit = "s";
    // Values that a text round trip would mangle: subnormal, 1/3, a 17-digit value, -0.0.
    r.samples = {1.0 / 3.0, 0.1 + 0.2, 4.9406564584124654e-324, 123456789.12345678, -0.0, 2.5e-3};
    r.stats = summarize(r.samples);
    r.verified = true;
    r.verification = "max rel error 1e-15 <= 1e-12";
    r.implementation = "avx512 streaming stores";
    r.metrics = {{"bandwidth_stream_gb_per_s.best", 41.25, "GB/s", Direction::higher_is_better},
                 {"time.median", 2.5e-3, "s", Direction::lower_is_better},
                 {"threads", 2, "threads", Direction::none}};
    r.started_at = "2026-01-02T03:04:06.000Z";
    r.wall_seconds = 1.75;
    return r;
}

Result make_failed_result() {
    Result r;
    r.bench_case.benchmark = "gemm.sgemm";
    r.bench_case.params = {{"m", "1024"}, {"n", "1024"}};
    r.device = "cpu";
    r.backend = "cpu.blas";
    r.status = ResultStatus::failed;
    r.message = "verification failed: element 17 differs";
    r.samples = {0.5, 0.25};
    r.stats = summarize(r.samples);
    r.verified = false;
    r.verification = "element 17: 3.0 vs 2.0";
    r.wall_seconds = 0.5;
    return r;
}

Result make_skipped_result() {
    Result r;
    r.bench_case.benchmark = "gemm.hgemm";
    r.device = "cuda:0";
    r.backend = "cuda";
    r.status = ResultStatus::skipped;
    r.message = "no CUDA device";
    return r;
}

bool bit_equal(const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::bit_cast<std::uint64_t>(a[i]) != std::bit_cast<std::uint64_t>(b[i])) {
            return false;
        }
    }
    return true;
}

void check_same(const Result& got, const Result& want) {
    CHECK(got.bench_case == want.bench_case);
    CHECK(got.device == want.device);
    CHECK(got.backend == want.backend);
    CHECK(got.status == want.status);
    CHECK(got.message == want.message);
    CHECK(got.unit == want.unit);
    CHECK(bit_equal(got.samples, want.samples));
    CHECK(got.stats.count == want.stats.count);
    CHECK(got.stats.min == want.stats.min);
    CHECK(got.stats.max == want.stats.max);
    CHECK(got.stats.mean == want.stats.mean);
    CHECK(got.stats.median == want.stats.median);
    CHECK(got.stats.stddev == want.stats.stddev);
    CHECK(got.stats.q1 == want.stats.q1);
    CHECK(got.stats.q3 == want.stats.q3);
    CHECK(got.stats.iqr == want.stats.iqr);
    CHECK(got.verified == want.verified);
    CHECK(got.implementation == want.implementation);
    CHECK(got.started_at == want.started_at);
    CHECK(got.wall_seconds == want.wall_seconds);
    REQUIRE(got.metrics.size() == want.metrics.size());
    for (std::size_t i = 0; i < got.metrics.size(); ++i) {
        CHECK(got.metrics[i].name == want.metrics[i].name);
        CHECK(got.metrics[i].value == want.metrics[i].value);
        CHECK(got.metrics[i].unit == want.metrics[i].unit);
        CHECK(got.metrics[i].direction == want.metrics[i].direction);
    }
}

/// A pid that certainly belonged to a process that has ended (and been reaped).
pid_t dead_pid() {
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        _exit(0);
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    return child;
}

}  // namespace

TEST_CASE("store: a new store is migrated to the current schema with STRICT tables and WAL",
          "[store]") {
    const fs::path p = temp_db("migrate");
    {
        Store s = Store::open(p, OpenMode::create_read_write);
        CHECK(s.schema_version() == Store::kSchemaVersion);
        CHECK(s.path() == p);
    }
    CHECK(raw_query(p, "PRAGMA user_version") ==
          std::vector<std::string>{std::to_string(Store::kSchemaVersion)});
    CHECK(raw_query(p, "PRAGMA application_id") ==
          std::vector<std::string>{std::to_string(0x41535359)});
    CHECK(raw_query(p, "PRAGMA journal_mode") == std::vector<std::string>{"wal"});
    const auto strict = raw_query(
        p, "SELECT name FROM pragma_table_list WHERE schema = 'main' AND strict = 1 ORDER BY name");
    CHECK(strict == std::vector<std::string>{"case", "ceiling", "host", "hw_config", "ingest",
                                             "metric", "result", "run", "run_tag"});
    // Every table in the file is one of those (nothing non-STRICT slipped in).
    CHECK(raw_query(p, "SELECT count(*) FROM sqlite_master WHERE type = 'table'") ==
          std::vector<std::string>{"9"});

    // Reopening an up-to-date store (any mode) neither fails nor re-migrates.
    Store again = Store::open(p, OpenMode::read_write);
    CHECK(again.schema_version() == Store::kSchemaVersion);
    Store ro = Store::open(p, OpenMode::read_only);
    CHECK(ro.schema_version() == Store::kSchemaVersion);
    CHECK(ro.list_runs().empty());
}

TEST_CASE("store: runs and results round-trip exactly", "[store]") {
    const fs::path p = temp_db("roundtrip");
    const HostInfo host = make_host();
    const RunInfo info = make_run_info(getpid());
    const Result ok = make_ok_result();
    const Result failed = make_failed_result();
    const Result skipped = make_skipped_result();
    std::int64_t run_id = 0;
    std::int64_t config_id = 0;
    {
        Store s = Store::open(p, OpenMode::create_read_write);
        config_id = s.record_host(host);
        run_id = s.begin_run(config_id, info);
        s.add_result(run_id, ok);
        s.add_result(run_id, failed);
        s.add_result(run_id, skipped);
        s.finish_run(run_id, RunStatus::complete, "all done");
    }
    Store s = Store::open(p, OpenMode::read_only);
    const auto runs = s.list_runs();
    REQUIRE(runs.size() == 1);
    const StoredRun& r = runs[0];
    CHECK(r.id == run_id);
    CHECK(r.info.uuid == info.uuid);
    CHECK(r.info.started_at == info.started_at);
    CHECK(r.info.tool_version == info.tool_version);
    CHECK(r.info.git_sha == info.git_sha);
    CHECK(r.info.compiler == info.compiler);
    CHECK(r.info.compiler_flags == info.compiler_flags);
    CHECK(r.info.build_type == info.build_type);
    CHECK(r.info.command_line == info.command_line);
    CHECK(r.info.suite == info.suite);
    CHECK(r.info.pid == info.pid);
    CHECK(r.info.environment == info.environment);
    auto tags = r.info.tags;
    std::sort(tags.begin(), tags.end());
    auto want_tags = info.tags;
    std::sort(want_tags.begin(), want_tags.end());
    CHECK(tags == want_tags);
    CHECK(r.status == RunStatus::complete);
    CHECK(r.status_note == "all done");
    CHECK_FALSE(r.finished_at.empty());
    CHECK(r.hostname == "bench-01");
    CHECK(r.hw_config_id == config_id);
    CHECK(r.fingerprint == host.fingerprint);

    const auto results = s.results_for_run(run_id);
    REQUIRE(results.size() == 3);
    CHECK(results[0].run_id == run_id);
    CHECK(results[0].id < results[1].id);
    check_same(results[0].result, ok);
    check_same(results[1].result, failed);
    check_same(results[2].result, skipped);

    const auto hosts = s.hosts();
    REQUIRE(hosts.size() == 1);
    CHECK(hosts[0].hostname == "bench-01");
    CHECK(hosts[0].machine_id == "0123456789abcdef");
    CHECK(hosts[0].hw_config_id == config_id);
    CHECK(hosts[0].fingerprint == host.fingerprint);
    // probe_json is the full HostInfo (core's to_json), kept for "what changed".
    const HostInfo probed = host_info_from_json(hosts[0].probe_json);
    CHECK(probed.fingerprint == host.fingerprint);
    CHECK(probed.identity.product_name == "m7a.large");
    CHECK_FALSE(hosts[0].first_seen.empty());

    CHECK(raw_query(p,
                    "SELECT fingerprint_keys || '|' || cpu_model || '|' || instance_type "
                    "FROM hw_config") ==
          std::vector<std::string>{
              "cpu.model=AMD EPYC 9R14\ncpu.cores=2\ndriver=a|AMD EPYC 9R14|m7a.large"});
    // The BLOB layout is part of the schema: little-endian doubles, 8 bytes each.
    CHECK(raw_query(p, "SELECT hex(substr(samples, 33, 8)) FROM result WHERE sample_count = 6") ==
          std::vector<std::string>{"0000000000000080"});  // -0.0
    CHECK(raw_query(p, "SELECT family FROM \"case\" ORDER BY id") ==
          std::vector<std::string>{"stream", "gemm", "gemm"});
}

TEST_CASE("store: list_runs filters by run id, hostname and tag, newest first", "[store]") {
    const fs::path p = temp_db("filter");
    Store s = Store::open(p, OpenMode::create_read_write);
    const auto config = s.record_host(make_host());
    RunInfo a = make_run_info(1);
    a.started_at = "2026-01-01T00:00:00.000Z";
    a.tags = {"nightly"};
    RunInfo b = make_run_info(2);
    b.started_at = "2026-01-03T00:00:00.000Z";
    b.tags = {"adhoc"};
    const auto id_a = s.begin_run(config, a);
    const auto id_b = s.begin_run(config, b);

    const auto all = s.list_runs();
    REQUIRE(all.size() == 2);
    CHECK(all[0].id == id_b);
    CHECK(all[1].id == id_a);
    RunFilter by_tag;
    by_tag.tag = "nightly";
    REQUIRE(s.list_runs(by_tag).size() == 1);
    CHECK(s.list_runs(by_tag)[0].id == id_a);
    RunFilter by_id;
    by_id.run_id = id_a;
    REQUIRE(s.list_runs(by_id).size() == 1);
    CHECK(s.list_runs(by_id)[0].info.tags == std::vector<std::string>{"nightly"});
    RunFilter other_host;
    other_host.hostname = "elsewhere";
    CHECK(s.list_runs(other_host).empty());
    RunFilter limited;
    limited.limit = 1;
    REQUIRE(s.list_runs(limited).size() == 1);
    CHECK(s.list_runs(limited)[0].id == id_b);
}

TEST_CASE("store: record_host reuses a hw_config and adds one when the fingerprint changes",
          "[store]") {
    const fs::path p = temp_db("hosts");
    Store s = Store::open(p, OpenMode::create_read_write);
    const HostInfo host = make_host("a");
    const auto first = s.record_host(host);
    CHECK(s.record_host(host) == first);

    const HostInfo upgraded = make_host("b");  // e.g. a new driver
    REQUIRE(upgraded.fingerprint != host.fingerprint);
    const auto second = s.record_host(upgraded);
    CHECK(second != first);

    const auto hosts = s.hosts();
    REQUIRE(hosts.size() == 2);
    CHECK(hosts[0].host_id == hosts[1].host_id);
    CHECK(hosts[0].hw_config_id == first);
    CHECK(hosts[1].hw_config_id == second);
    CHECK(hosts[1].fingerprint == upgraded.fingerprint);

    HostInfo no_fingerprint = host;
    no_fingerprint.fingerprint.clear();
    CHECK_THROWS_AS(s.record_host(no_fingerprint), UsageError);
}

TEST_CASE("store: an interrupted run survives and dead runs become incomplete", "[store]") {
    const fs::path p = temp_db("interrupted");
    const pid_t gone = dead_pid();
    std::int64_t dead_run = 0;
    std::int64_t live_run = 0;
    {
        Store s = Store::open(p, OpenMode::create_read_write);
        const auto config = s.record_host(make_host());
        dead_run = s.begin_run(config, make_run_info(gone));
        s.add_result(dead_run, make_ok_result());
        live_run = s.begin_run(config, make_run_info(getpid()));
        // No finish_run: the Store goes away as if the process had died.
    }
    Store s = Store::open(p, OpenMode::read_write);
    RunFilter f;
    f.run_id = dead_run;
    REQUIRE(s.list_runs(f).size() == 1);
    CHECK(s.list_runs(f)[0].status == RunStatus::running);
    CHECK(s.results_for_run(dead_run).size() == 1);

    CHECK(s.mark_dead_runs_incomplete("some-other-host") == 0);
    CHECK(s.mark_dead_runs_incomplete("bench-01") == 1);
    const StoredRun dead = s.list_runs(f)[0];
    CHECK(dead.status == RunStatus::incomplete);
    CHECK(dead.status_note ==
          "process " + std::to_string(gone) + " ended without finishing the run");
    CHECK_FALSE(dead.finished_at.empty());
    CHECK(s.results_for_run(dead_run).size() == 1);

    f.run_id = live_run;
    CHECK(s.list_runs(f)[0].status == RunStatus::running);
    // Idempotent: nothing left to change.
    CHECK(s.mark_dead_runs_incomplete("bench-01") == 0);
}

TEST_CASE("store: a duplicate result is rejected and leaves the first one intact", "[store]") {
    const fs::path p = temp_db("duplicate");
    Store s = Store::open(p, OpenMode::create_read_write);
    const auto run = s.begin_run(s.record_host(make_host()), make_run_info(getpid()));
    const Result first = make_ok_result();
    s.add_result(run, first);

    Result dup = make_ok_result();
    dup.samples = {9.0};
    dup.stats = summarize(dup.samples);
    dup.metrics.push_back({"extra", 1.0, "x", Direction::none});
    CHECK_THROWS_AS(s.add_result(run, dup), StoreError);

    const auto results = s.results_for_run(run);
    REQUIRE(results.size() == 1);
    check_same(results[0].result, first);
    // The rolled-back transaction left no orphan metric rows.
    CHECK(raw_query(p, "SELECT count(*) FROM metric") == std::vector<std::string>{"3"});
    CHECK(raw_query(p, "SELECT count(*) FROM result") == std::vector<std::string>{"1"});

    // The same case on another device is a different result.
    Result other_device = make_ok_result();
    other_device.device = "cpu:numa1";
    CHECK_NOTHROW(s.add_result(run, other_device));
    CHECK(s.results_for_run(run).size() == 2);
    CHECK(raw_query(p, "SELECT count(*) FROM \"case\"") == std::vector<std::string>{"1"});
}

TEST_CASE("store: writes to unknown runs or configs fail with StoreError", "[store]") {
    const fs::path p = temp_db("unknown");
    Store s = Store::open(p, OpenMode::create_read_write);
    CHECK_THROWS_AS(s.begin_run(12345, make_run_info(getpid())), StoreError);
    CHECK_THROWS_AS(s.add_result(999, make_ok_result()), StoreError);
    CHECK_THROWS_AS(s.finish_run(999, RunStatus::complete), StoreError);
    Result bad_stats = make_ok_result();
    bad_stats.stats.count = 1;
    const auto run = s.begin_run(s.record_host(make_host()), make_run_info(getpid()));
    CHECK_THROWS_AS(s.add_result(run, bad_stats), UsageError);
    CHECK(s.results_for_run(run).empty());
}

TEST_CASE("store: a read-only store refuses writes", "[store]") {
    const fs::path p = temp_db("readonly");
    { Store::open(p, OpenMode::create_read_write); }
    const std::string before = read_file(p);
    Store s = Store::open(p, OpenMode::read_only);
    CHECK_THROWS_AS(s.record_host(make_host()), StoreError);
    CHECK(read_file(p) == before);
}

TEST_CASE("store: bad inputs are rejected and leave the file unchanged", "[store]") {
    SECTION("missing file, read_only and read_write") {
        const fs::path p = temp_db("missing");
        for (OpenMode mode : {OpenMode::read_only, OpenMode::read_write}) {
            try {
                Store::open(p, mode);
                FAIL("open of a missing file succeeded");
            } catch (const StoreError& e) {
                CHECK(std::string(e.what()) == "database '" + p.string() + "' does not exist");
            }
            CHECK_FALSE(fs::exists(p));
        }
    }
    SECTION("garbage file") {
        const fs::path p = temp_db("garbage");
        std::string garbage(4096, '\0');
        for (std::size_t i = 0; i < garbage.size(); ++i) {
            garbage[i] = static_cast<char>((i * 7919u + 13u) & 0xffu);
        }
        write_file(p, garbage);
        for (OpenMode mode :
             {OpenMode::read_only, OpenMode::read_write, OpenMode::create_read_write}) {
            try {
                Store::open(p, mode);
                FAIL("garbage opened");
            } catch (const StoreError& e) {
                CHECK(std::string(e.what()) ==
                      "'" + p.string() + "' is not an SQLite database (file is not a database)");
            }
            CHECK(read_file(p) == garbage);
        }
    }
    SECTION("an SQLite database of another application") {
        const fs::path p = temp_db("foreign");
        raw_exec(p,
                 "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); "
                 "INSERT INTO notes (body) VALUES ('hello');");
        const std::string before = sha256_hex(read_file(p));
        for (OpenMode mode :
             {OpenMode::read_only, OpenMode::read_write, OpenMode::create_read_write}) {
            try {
                Store::open(p, mode);
                FAIL("foreign database opened");
            } catch (const StoreError& e) {
                CHECK_THAT(e.what(),
                           Catch::StartsWith("'" + p.string() +
                                             "' is not an Assay database (application_id"));
            }
            CHECK(sha256_hex(read_file(p)) == before);
        }
        CHECK_FALSE(fs::exists(p.string() + "-wal"));
    }
    SECTION("a store from a newer assay") {
        const fs::path p = temp_db("too-new");
        { Store::open(p, OpenMode::create_read_write); }
        raw_exec(p, "PRAGMA user_version = 99;");
        const std::string before = sha256_hex(read_file(p));
        for (OpenMode mode :
             {OpenMode::read_only, OpenMode::read_write, OpenMode::create_read_write}) {
            try {
                Store::open(p, mode);
                FAIL("newer schema opened");
            } catch (const SchemaTooNewError& e) {
                CHECK(std::string(e.what()) ==
                      "'" + p.string() +
                          "' has schema version 99, newer than this assay supports (" +
                          std::to_string(Store::kSchemaVersion) +
                          "): upgrade "
                          "assay");
            }
            CHECK(sha256_hex(read_file(p)) == before);
        }
    }
    SECTION("an empty file is initialised read-write but refused read-only") {
        const fs::path p = temp_db("empty");
        write_file(p, "");
        CHECK_THROWS_AS(Store::open(p, OpenMode::read_only), StoreError);
        CHECK(fs::file_size(p) == 0);
        CHECK(Store::open(p, OpenMode::read_write).schema_version() == Store::kSchemaVersion);
    }
    SECTION("a directory that does not exist") {
        const fs::path dir = fs::path(ASSAY_TEST_TMP) / "store" / "no-such-dir";
        fs::remove_all(dir);
        const fs::path p = dir / "assay.db";
        try {
            Store::open(p, OpenMode::create_read_write);
            FAIL("created a store in a missing directory");
        } catch (const StoreError& e) {
            const std::string what = e.what();
            CHECK(what.find(p.string()) != std::string::npos);
            CHECK(what.find("does not exist") != std::string::npos);
        }
        CHECK_FALSE(fs::exists(dir));
    }
    SECTION("a directory instead of a file") {
        const fs::path p = temp_db("is-dir");
        fs::create_directories(p);
        CHECK_THROWS_AS(Store::open(p, OpenMode::create_read_write), StoreError);
        fs::remove(p);
    }
}

TEST_CASE("store: several processes can create and write one new file at once", "[store]") {
    const fs::path p = temp_db("concurrent");
    constexpr int kWriters = 4;
    std::vector<pid_t> children;
    for (int i = 0; i < kWriters; ++i) {
        const pid_t child = fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            int code = 0;
            try {
                Store s = Store::open(p, OpenMode::create_read_write);
                const auto config = s.record_host(make_host());
                const auto run = s.begin_run(config, make_run_info(getpid()));
                s.add_result(run, make_ok_result());
                s.finish_run(run, RunStatus::complete);
            } catch (const std::exception& e) {
                std::fprintf(stderr, "writer %d: %s\n", static_cast<int>(getpid()), e.what());
                code = 1;
            }
            _exit(code);
        }
        children.push_back(child);
    }
    for (const pid_t child : children) {
        int status = 0;
        REQUIRE(waitpid(child, &status, 0) == child);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
    }
    Store s = Store::open(p, OpenMode::read_only);
    const auto runs = s.list_runs();
    REQUIRE(runs.size() == static_cast<std::size_t>(kWriters));
    for (const auto& r : runs) {
        CHECK(r.status == RunStatus::complete);
        CHECK(s.results_for_run(r.id).size() == 1);
    }
    CHECK(s.hosts().size() == 1);
}

TEST_CASE("store: a version-1 store with results migrates to the current schema", "[store]") {
    const fs::path p = temp_db("v1-fixture");
    // The fixture: exactly what assay with schema 1 wrote (its migration file), plus one run with
    // a result and a metric inserted as that version's code did.
    raw_exec(p, read_file(fs::path(ASSAY_SCHEMA_DIR) / "001_initial.sql"));
    raw_exec(p,
             "PRAGMA user_version = 1; PRAGMA application_id = 1095979865;"
             "INSERT INTO host VALUES (1, 'mid', 'old-host', '2026-01-01T00:00:00Z');"
             "INSERT INTO hw_config (id, host_id, fingerprint, fingerprint_keys, probe_json, "
             "first_seen) VALUES (1, 1, 'fp', 'k', '{}', '2026-01-01T00:00:00Z');"
             "INSERT INTO run (id, uuid, hw_config_id, started_at, status) VALUES "
             "(1, 'u-1', 1, '2026-01-01T00:00:00Z', 'complete');"
             "INSERT INTO \"case\" VALUES (1, 'stream.triad', 'dtype=f64', 'stream');"
             "INSERT INTO result (id, run_id, case_id, device, backend, status, verified) VALUES "
             "(1, 1, 1, 'cpu', 'cpu.native', 'ok', 1);"
             "INSERT INTO metric (result_id, name, value, unit, direction) VALUES "
             "(1, 'bandwidth_stream_gb_per_s.best', 40.5, 'GB/s', 'higher');");
    REQUIRE(Store::kApplicationId == 1095979865);

    // Read-only refuses to migrate and leaves the file as it was.
    const std::string before = sha256_hex(read_file(p));
    CHECK_THROWS_AS(Store::open(p, OpenMode::read_only), StoreError);
    CHECK(sha256_hex(read_file(p)) == before);

    Store s = Store::open(p, OpenMode::read_write);
    CHECK(s.schema_version() == Store::kSchemaVersion);
    const auto results = s.results_for_run(1);
    REQUIRE(results.size() == 1);
    CHECK(results[0].result.implementation.empty());
    REQUIRE(results[0].result.find_metric("bandwidth_stream_gb_per_s.best") != nullptr);
    CHECK(results[0].result.find_metric("bandwidth_stream_gb_per_s.best")->value == 40.5);
    CHECK(s.ceilings_for_run(1).empty());
    // The migrated store accepts version-2 data.
    Ceiling c{"cpu",  "mem.bandwidth.dram.triad.all_cores", 40.5,
              "GB/s", Direction::higher_is_better,          "best of 1 DRAM-sized STREAM result",
              0};
    s.add_ceilings(1, {c}, {1});
    const auto stored = s.ceilings_for_run(1);
    REQUIRE(stored.size() == 1);
    CHECK(stored[0].source_result_id == 1);
}

TEST_CASE("store: ceilings round-trip and point at their result", "[store]") {
    const fs::path p = temp_db("ceilings");
    Store s = Store::open(p, OpenMode::create_read_write);
    const auto config = s.record_host(make_host());
    const auto run = s.begin_run(config, make_run_info(getpid()));
    const auto result_id = s.add_result(run, make_ok_result());
    const std::vector<Ceiling> ceilings = {
        {"cpu", "mem.bandwidth.read.L1d.one_core", 123.25, "GB/s", Direction::higher_is_better,
         "max of 3 mem.sweep points labelled L1d (best per point)", 0},
        {"cpu", "mem.latency.DRAM.thp", 98.5, "ns", Direction::lower_is_better, "median of 2", -1},
        {"cuda:0", "gemm.bf16", std::numeric_limits<double>::quiet_NaN(), "GFLOP/s",
         Direction::higher_is_better, "", 7}};  // index 7: no such result -> no source
    s.add_ceilings(run, ceilings, {result_id});
    // Storing a name again for the same run and device replaces it.
    Ceiling again = ceilings[1];
    again.value = 97.0;
    s.add_ceilings(run, {again}, {result_id});

    const auto got = s.ceilings_for_run(run);
    REQUIRE(got.size() == 3);
    std::map<std::string, StoredCeiling> by_name;
    for (const auto& sc : got) {
        by_name[sc.ceiling.device + "/" + sc.ceiling.name] = sc;
    }
    const auto& l1 = by_name.at("cpu/mem.bandwidth.read.L1d.one_core");
    CHECK(l1.ceiling.value == 123.25);
    CHECK(l1.ceiling.unit == "GB/s");
    CHECK(l1.ceiling.direction == Direction::higher_is_better);
    CHECK(l1.ceiling.basis == ceilings[0].basis);
    CHECK(l1.source_result_id == result_id);
    const auto& lat = by_name.at("cpu/mem.latency.DRAM.thp");
    CHECK(lat.ceiling.value == 97.0);
    CHECK(lat.ceiling.direction == Direction::lower_is_better);
    CHECK(lat.source_result_id == 0);
    CHECK(std::isnan(by_name.at("cuda:0/gemm.bf16").ceiling.value));
    CHECK(by_name.at("cuda:0/gemm.bf16").source_result_id == 0);
    CHECK(s.ceilings_for_run(run + 1).empty());
}

TEST_CASE("store: latest_ceilings keeps the newest value per ceiling of one hw_config", "[store]") {
    const fs::path p = temp_db("latest_ceilings");
    Store s = Store::open(p, OpenMode::create_read_write);
    const auto config = s.record_host(make_host("a"));
    const auto other_config = s.record_host(make_host("b"));
    RunInfo first = make_run_info(getpid());
    first.started_at = "2026-11-01T00:00:00Z";
    RunInfo second = first;
    second.uuid = make_uuid_v4();
    second.started_at = "2026-11-02T00:00:00Z";
    RunInfo foreign_info = second;
    foreign_info.uuid = make_uuid_v4();
    const auto old_run = s.begin_run(config, first);
    const auto new_run = s.begin_run(config, second);
    const auto foreign_run = s.begin_run(other_config, foreign_info);
    const Ceiling gemm{"cpu", "gemm.f32", 100.0, "GFLOP/s", Direction::higher_is_better, "", -1};
    const Ceiling dram{"cpu",  "mem.bandwidth.dram.sum.all_cores", 30.0,
                       "GB/s", Direction::higher_is_better,        "",
                       -1};
    Ceiling newer_gemm = gemm;
    newer_gemm.value = 110.0;
    Ceiling foreign = gemm;
    foreign.value = 999.0;
    s.add_ceilings(old_run, {gemm, dram}, {});
    s.add_ceilings(new_run, {newer_gemm}, {});
    s.add_ceilings(foreign_run, {foreign}, {});

    const auto latest = s.latest_ceilings(config);
    REQUIRE(latest.size() == 2);
    std::map<std::string, StoredCeiling> by_name;
    for (const auto& sc : latest) {
        by_name[sc.ceiling.name] = sc;
    }
    CHECK(by_name.at("gemm.f32").ceiling.value == 110.0);  // the newer run's, not another host's
    CHECK(by_name.at("gemm.f32").run_id == new_run);
    CHECK(by_name.at("mem.bandwidth.dram.sum.all_cores").run_id == old_run);
    // Excluding the newest run falls back to the older value.
    const auto without_new = s.latest_ceilings(config, new_run);
    REQUIRE(without_new.size() == 2);
    for (const auto& sc : without_new) {
        CHECK(sc.run_id == old_run);
    }
}

TEST_CASE("store: add_metrics adds to a stored result and replaces a name", "[store]") {
    const fs::path p = temp_db("add_metrics");
    Store s = Store::open(p, OpenMode::create_read_write);
    const auto config = s.record_host(make_host());
    const auto run = s.begin_run(config, make_run_info(getpid()));
    const Result original = make_ok_result();
    const auto id = s.add_result(run, original);
    s.add_metrics(id, {{"percent_of_ceiling.best", 55.0, "%", Direction::higher_is_better}});
    s.add_metrics(id, {{"percent_of_ceiling.best", 56.5, "%", Direction::higher_is_better},
                       {"ceiling.gemm.f32", 200.0, "GFLOP/s", Direction::none}});
    const auto results = s.results_for_run(run);
    REQUIRE(results.size() == 1);
    const Result& got = results[0].result;
    CHECK(got.metrics.size() == original.metrics.size() + 2);
    REQUIRE(got.find_metric("percent_of_ceiling.best") != nullptr);
    CHECK(got.find_metric("percent_of_ceiling.best")->value == 56.5);
    CHECK(got.find_metric("ceiling.gemm.f32")->unit == "GFLOP/s");
    CHECK_THROWS_AS(s.add_metrics(id + 100, {{"x", 1.0, "", Direction::none}}), StoreError);
}

TEST_CASE("store: a row that cannot be decoded is skipped and noted, the rest still reads",
          "[store]") {
    const fs::path p = temp_db("poisoned");
    std::int64_t run = 0;
    {
        Store s = Store::open(p, OpenMode::create_read_write);
        run = s.begin_run(s.record_host(make_host()), make_run_info(1));
        s.add_result(run, make_ok_result());
        Result other = make_ok_result();
        other.bench_case.benchmark = "stream.copy";
        s.add_result(run, other);
        Result third = make_ok_result();
        third.bench_case.benchmark = "stream.add";
        s.add_result(run, third);
        Result fourth = make_ok_result();
        fourth.bench_case.benchmark = "stream.scale";
        s.add_result(run, fourth);
        s.finish_run(run, RunStatus::complete);
    }
    // What older versions (or a hand edit) could leave behind.
    raw_exec(p,
             "UPDATE \"case\" SET params = 'x' WHERE benchmark = 'stream.copy';"
             "UPDATE result SET samples = x'00010203040506' WHERE case_id = (SELECT id FROM "
             "\"case\" WHERE benchmark = 'stream.add');"
             "UPDATE result SET sample_count = 99 WHERE case_id = (SELECT id FROM \"case\" "
             "WHERE benchmark = 'stream.scale');"
             "UPDATE run SET environment_json = '{not json';");
    const Store s = Store::open(p, OpenMode::read_only);
    const auto runs = s.list_runs();
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].info.environment.empty());
    const auto results = s.results_for_run(runs[0].id);
    REQUIRE(results.size() == 1);
    check_same(results[0].result, make_ok_result());
    const auto notes = s.unreadable_rows();
    REQUIRE(notes.size() == 4);
    CHECK_THAT(notes[0], Catch::Contains("malformed environment_json"));
    CHECK_THAT(notes[1], Catch::Contains("malformed case parameters 'x'"));
    CHECK_THAT(notes[2], Catch::Contains("samples blob has 7 bytes"));
    CHECK_THAT(notes[3], Catch::Contains("sample_count 99 but the blob holds 6"));
    for (const auto& n : notes) {
        CHECK(n.find('\n') == std::string::npos);
    }
    // Read again: each row is noted once.
    (void)s.results_for_run(runs[0].id);
    CHECK(s.unreadable_rows().size() == 4);
}

TEST_CASE("store: params of any text round-trip, and legacy comma params still read", "[store]") {
    const fs::path p = temp_db("params");
    Store s = Store::open(p, OpenMode::create_read_write);
    const auto run = s.begin_run(s.record_host(make_host()), make_run_info(1));
    Result r = make_ok_result();
    r.bench_case.benchmark = "gbench.BM_x";
    r.bench_case.params = {{"arg0", "1,2"}, {"k=v", "50%"}, {"nl", "a\nb"}};
    s.add_result(run, r);
    CHECK(raw_query(p, "SELECT params FROM \"case\"") ==
          std::vector<std::string>{"arg0=1%2C2,k%3Dv=50%25,nl=a%0Ab"});
    raw_exec(p, "UPDATE \"case\" SET params = 'arg0=1,2,exe=bench'");
    const auto got = s.results_for_run(run);
    REQUIRE(got.size() == 1);
    CHECK(got[0].result.bench_case.params == Params{{"arg0", "1,2"}, {"exe", "bench"}});
    CHECK(s.unreadable_rows().empty());
}
