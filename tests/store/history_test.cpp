// History queries (store/history) and the schema-3 migration of stores written before it.
#include "store/history.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "core/sha256.hpp"
#include "core/stats.hpp"

namespace fs = std::filesystem;
using namespace assay;

namespace {

fs::path history_db(const std::string& name) {
    const fs::path dir = fs::path(ASSAY_TEST_TMP) / "history";
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

std::vector<std::string> query_column(const fs::path& p, const std::string& sql) {
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

HostInfo host(const std::string& hostname, const std::string& cpu, const std::string& driver) {
    HostInfo h;
    h.identity.hostname = hostname;
    h.identity.machine_id = "mid-" + hostname;
    h.cpu.arch = "x86_64";
    h.cpu.model_name = cpu;
    h.topology.packages = 1;
    h.topology.cores = 2;
    h.gpu.driver_version = driver;
    h.fingerprint_keys = {"cpu=" + cpu, "driver=" + driver};
    h.fingerprint = sha256_hex(h.fingerprint_keys[0] + "\n" + h.fingerprint_keys[1] + "\n");
    h.probed_at = "2026-01-01T00:00:00.000Z";
    return h;
}

RunInfo run_info(int night, const std::string& tag = "nightly") {
    RunInfo info;
    info.uuid = fmt::format("00000000-0000-4000-8000-{:012d}", night);
    info.started_at = fmt::format("2026-03-{:02d}T02:00:00.000Z", night);
    info.tool_version = "0.1.0";
    info.git_sha = fmt::format("sha{}", night);  // nightly builds: same build class
    info.compiler = "GNU 12.2.0";
    info.build_type = "Release";
    info.tags = {tag};
    info.environment = {{"openblas", "0.3.21"}};
    return info;
}

Result triad(double gb_per_s, double seconds) {
    Result r;
    r.bench_case = {"stream.triad", {{"dtype", "f64"}}};
    r.device = "cpu";
    r.backend = "cpu.native";
    r.status = ResultStatus::ok;
    r.samples = {seconds, seconds * 1.01};
    r.stats = summarize(r.samples);
    r.verified = true;
    r.metrics = {
        {"bandwidth_stream_gb_per_s.best", gb_per_s * 1.02, "GB/s", Direction::higher_is_better},
        {"bandwidth_stream_gb_per_s.median", gb_per_s, "GB/s", Direction::higher_is_better},
        {"bandwidth_write_allocate_gb_per_s.median", gb_per_s * 1.5, "GB/s",
         Direction::higher_is_better}};
    return r;
}

Result timed(const std::string& benchmark, double seconds) {
    Result r;
    r.bench_case = {benchmark, {}};
    r.device = "cpu";
    r.backend = "cpu.native";
    r.status = ResultStatus::ok;
    r.samples = {seconds, seconds, seconds * 1.1};
    r.stats = summarize(r.samples);
    r.verified = true;
    return r;
}

/// The longest series of `case_id` following `metric`, or nullptr.
const HistorySeries* find_series(const History& h, const std::string& case_id,
                                 const std::string& metric) {
    const HistorySeries* best = nullptr;
    for (const auto& s : h.series) {
        if (s.key.case_id == case_id && s.key.metric == metric &&
            (best == nullptr || s.points.size() > best->points.size())) {
            best = &s;
        }
    }
    return best;
}

const std::vector<std::string> kMetrics = {"bandwidth_stream_gb_per_s.median",
                                           "bandwidth_write_allocate_gb_per_s.median"};

}  // namespace

TEST_CASE("history: series group runs of one host class and build class, oldest first",
          "[history]") {
    const fs::path p = history_db("series");
    {
        Store s = Store::open(p, OpenMode::create_read_write);
        const auto a = s.record_host(host("node-a", "EPYC 9R14", "550"));
        const auto b = s.record_host(host("node-b", "EPYC 9R14", "560"));   // same class
        const auto c = s.record_host(host("node-c", "Xeon 8488C", "550"));  // another class
        // Inserted out of time order: the history sorts by start time.
        for (int night : {3, 1, 2, 4}) {
            const auto config = night == 4 ? b : a;
            const auto run = s.begin_run(config, run_info(night));
            s.add_result(run, triad(40.0 + night, 0.01));
            s.add_result(run, timed("lat.chase", 1e-7 * night));
            s.finish_run(run, RunStatus::complete);
        }
        const auto other = s.begin_run(c, run_info(5));
        s.add_result(other, triad(80, 0.005));
        s.finish_run(other, RunStatus::complete);
        // Still running (or died): never part of the history.
        const auto running = s.begin_run(a, run_info(6));
        s.add_result(running, triad(1, 1));
        // A failed result is not a point.
        const auto r7 = s.begin_run(a, run_info(7, "adhoc"));
        Result failed = triad(5, 0.1);
        failed.status = ResultStatus::failed;
        s.add_result(r7, failed);
        s.finish_run(r7, RunStatus::incomplete, "interrupted");
    }
    Store s = Store::open(p, OpenMode::read_only);
    HistoryFilter f;
    f.metrics = kMetrics;
    const History h = load_history(s, f);
    CHECK(h.runs.size() == 6);  // everything but the running one
    const auto* bw = find_series(h, "stream.triad/dtype=f64", kMetrics[0]);
    REQUIRE(bw != nullptr);
    REQUIRE(bw->points.size() == 4);  // nights 1-4 on node-a and node-b: one class
    CHECK(bw->points[0].value == 41.0);
    CHECK(bw->points[3].value == 44.0);
    CHECK(bw->direction == Direction::higher_is_better);
    CHECK(bw->unit == "GB/s");
    // The preferred metric wins: no write-allocate series for the same results.
    CHECK(find_series(h, "stream.triad/dtype=f64", kMetrics[1]) == nullptr);
    // The other host class is its own series.
    int triad_series = 0;
    for (const auto& series : h.series) {
        triad_series += series.key.case_id == "stream.triad/dtype=f64" ? 1 : 0;
    }
    CHECK(triad_series == 2);
    // Time fallback for results without a throughput metric.
    const auto* lat = find_series(h, "lat.chase", "time.median");
    REQUIRE(lat != nullptr);
    CHECK(lat->points.size() == 4);
    CHECK(lat->direction == Direction::lower_is_better);
    CHECK(lat->points[1].value == Approx(2e-7));

    SECTION("filters: host, tag, since, no fallback") {
        HistoryFilter by_host = f;
        by_host.hostname = "node-b";
        const History hb = load_history(s, by_host);
        REQUIRE(hb.series.size() == 2);
        CHECK(hb.series[0].points.size() == 1);
        HistoryFilter by_tag = f;
        by_tag.tag = "adhoc";
        CHECK(load_history(s, by_tag).series.empty());  // its only result failed
        HistoryFilter since = f;
        since.since = "2026-03-03";
        const History hl = load_history(s, since);
        const auto* late = find_series(hl, "stream.triad/dtype=f64", kMetrics[0]);
        REQUIRE(late != nullptr);
        CHECK(late->points.size() == 2);
        HistoryFilter no_time = f;
        no_time.fallback_to_time = false;
        const History hn = load_history(s, no_time);
        CHECK(find_series(hn, "lat.chase", "time.median") == nullptr);
    }
}

TEST_CASE("history: a version-2 store migrates and gains the history indexes", "[history]") {
    const fs::path p = history_db("v2-fixture");
    const fs::path dir(ASSAY_SCHEMA_DIR);
    exec_sql(p, slurp(dir / "001_initial.sql"));
    exec_sql(p, slurp(dir / "002_ceilings.sql"));
    exec_sql(p,
             "PRAGMA user_version = 2; PRAGMA application_id = 1095979865;"
             "INSERT INTO host VALUES (1, 'mid', 'old-host', '2026-01-01T00:00:00Z');"
             "INSERT INTO hw_config (id, host_id, fingerprint, fingerprint_keys, probe_json, "
             "first_seen) VALUES (1, 1, 'fp', 'k', '{}', '2026-01-01T00:00:00Z');"
             "INSERT INTO run (id, uuid, hw_config_id, started_at, status) VALUES "
             "(1, 'u-1', 1, '2026-01-01T00:00:00Z', 'complete'),"
             "(2, 'u-2', 1, '2026-01-02T00:00:00Z', 'complete');"
             "INSERT INTO \"case\" VALUES (1, 'stream.triad', 'dtype=f64', 'stream');"
             "INSERT INTO result (id, run_id, case_id, device, backend, status, verified) VALUES "
             "(1, 1, 1, 'cpu', 'cpu.native', 'ok', 1), (2, 2, 1, 'cpu', 'cpu.native', 'ok', 1);"
             "INSERT INTO metric (result_id, name, value, unit, direction) VALUES "
             "(1, 'bandwidth_stream_gb_per_s.median', 40.5, 'GB/s', 'higher'),"
             "(2, 'bandwidth_stream_gb_per_s.median', 39.5, 'GB/s', 'higher');");
    CHECK_THROWS_AS(Store::open(p, OpenMode::read_only), StoreError);
    {
        Store s = Store::open(p, OpenMode::read_write);
        CHECK(s.schema_version() == Store::kSchemaVersion);
    }
    const auto indexes =
        query_column(p, "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name");
    for (const char* name : {"metric_name_result", "run_config_started", "result_run_status"}) {
        CHECK(std::find(indexes.begin(), indexes.end(), name) != indexes.end());
    }
    // The nightly metric query is answered from the covering index.
    const auto plan =
        query_column(p,
                     "EXPLAIN QUERY PLAN SELECT m.result_id, m.value FROM metric m WHERE m.name IN "
                     "('bandwidth_stream_gb_per_s.median')");
    REQUIRE_FALSE(plan.empty());
    Store s = Store::open(p, OpenMode::read_only);
    HistoryFilter f;
    f.metrics = kMetrics;
    const History h = load_history(s, f);
    REQUIRE(h.series.size() == 1);
    CHECK(h.series[0].points.size() == 2);
    CHECK(h.series[0].points[1].value == 39.5);
    // '{}' is no HostInfo: such a host keeps a class of its own, from its fingerprint.
    CHECK(h.series[0].key.host_class.rfind("fp:", 0) == 0);
}
