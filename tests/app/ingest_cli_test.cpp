// End-to-end `assay ingest` / `assay export` on temp databases, including several writers on
// one store at once (nothing may be lost).
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/sha256.hpp"
#include "core/stats.hpp"
#include "process.hpp"
#include "store/store.hpp"

namespace fs = std::filesystem;
using assay::test::line_count;
using assay::test::run_assay;

namespace {

fs::path ingest_tmp(const std::string& name) {
    const fs::path dir = fs::path(ASSAY_TEST_TMP) / "ingest";
    fs::create_directories(dir);
    const fs::path p = dir / (std::to_string(::getpid()) + "_" + name);
    for (const char* suffix : {"", "-wal", "-shm"}) {
        fs::remove(p.string() + suffix);
    }
    return p;
}

long scalar(const fs::path& db, const std::string& sql) {
    sqlite3* h = nullptr;
    REQUIRE(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    const long v = static_cast<long>(sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

/// A source store of `runs` runs (3 results each) from host `hostname`.
void make_node_db(const fs::path& p, const std::string& hostname, int runs) {
    using namespace assay;
    Store s = Store::open(p, OpenMode::create_read_write);
    HostInfo h;
    h.identity.hostname = hostname;
    h.identity.machine_id = "mid-" + hostname;
    h.fingerprint_keys = {"cpu.model=test"};
    h.fingerprint = sha256_hex("cpu.model=test\n");
    const auto config = s.record_host(h);
    for (int i = 0; i < runs; ++i) {
        RunInfo info;
        info.uuid = hostname + "-run-" + std::to_string(i);
        info.started_at = "2026-03-0" + std::to_string(i + 1) + "T00:00:00Z";
        info.tags = {"campaign:cli"};
        const auto run = s.begin_run(config, info);
        for (const char* bench : {"stream.triad", "stream.copy", "mem.latency"}) {
            Result r;
            r.bench_case.benchmark = bench;
            r.bench_case.params = {{"dtype", "f64"}, {"note", "say \"hi\""}};
            r.device = "cpu";
            r.backend = "cpu.native";
            r.status = ResultStatus::ok;
            r.samples = {0.001, 0.002, 0.0015};
            r.stats = summarize(r.samples);
            r.metrics = {{"bandwidth_gb_per_s.best", 42.5, "GB/s", Direction::higher_is_better}};
            s.add_result(run, r);
        }
        s.finish_run(run, RunStatus::complete);
    }
}

std::string file_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

TEST_CASE("cli ingest: per-file summary, idempotent, a bad file stops with exit 3",
          "[cli][ingest]") {
    const fs::path a = ingest_tmp("a.db");
    const fs::path b = ingest_tmp("b.db");
    const fs::path c = ingest_tmp("c.db");
    const fs::path t = ingest_tmp("fleet.db");
    make_node_db(a, "node-a", 2);
    make_node_db(b, "node-b", 1);
    make_node_db(c, "node-c", 1);

    const auto first = run_assay({"ingest", "--db", t.string(), a.string(), b.string()});
    INFO(first.err);
    CHECK(first.exit_code == 0);
    CHECK_THAT(first.out, Catch::Contains(a.string() + ": ingested 2 runs (0 already present)"));
    CHECK_THAT(first.out, Catch::Contains(b.string() + ": ingested 1 run (0 already present)"));
    CHECK(scalar(t, "SELECT count(*) FROM run") == 3);

    const auto again = run_assay({"ingest", "--db", t.string(), a.string()});
    CHECK(again.exit_code == 0);
    CHECK_THAT(again.out, Catch::Contains("ingested 0 runs (2 already present)"));
    CHECK(scalar(t, "SELECT count(*) FROM run") == 3);
    CHECK(scalar(t, "SELECT count(*) FROM result") == 9);

    const fs::path bad = ingest_tmp("bad.json");
    std::ofstream(bad) << "{\"benchmarks\": [ {\"name\": ";
    const auto mixed = run_assay({"ingest", "--db", t.string(), c.string(), bad.string()});
    CHECK(mixed.exit_code == 3);
    CHECK(line_count(mixed.err) == 1);
    CHECK_THAT(mixed.err, Catch::Contains(bad.string()));
    // The file before the bad one stays ingested.
    CHECK(scalar(t, "SELECT count(*) FROM run") == 4);

    const auto newer = ingest_tmp("newer.db");
    make_node_db(newer, "node-n", 1);
    {
        sqlite3* h = nullptr;
        REQUIRE(sqlite3_open(newer.c_str(), &h) == SQLITE_OK);
        REQUIRE(sqlite3_exec(h, "PRAGMA user_version = 99", nullptr, nullptr, nullptr) ==
                SQLITE_OK);
        sqlite3_close(h);
    }
    const auto too_new = run_assay({"ingest", "--db", t.string(), newer.string()});
    CHECK(too_new.exit_code == 3);
    CHECK(line_count(too_new.err) == 1);
    CHECK_THAT(too_new.err, Catch::Contains("newer than this assay supports"));
    CHECK(scalar(t, "SELECT count(*) FROM run") == 4);

    const auto none = run_assay({"ingest", "--db", t.string()});
    CHECK(none.exit_code == 2);
}

TEST_CASE("cli ingest: Google Benchmark JSON", "[cli][ingest]") {
    const fs::path t = ingest_tmp("gbench.db");
    const std::string fixture =
        std::string(ASSAY_SOURCE_DIR) + "/tests/store/data/gbench_sample.json";
    const auto r = run_assay({"ingest", "--db", t.string(), fixture});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out,
               Catch::Contains("ingested 1 run (0 already present) [Google Benchmark JSON]"));
    const auto again = run_assay({"ingest", "--db", t.string(), fixture});
    CHECK_THAT(again.out, Catch::Contains("ingested 0 runs (1 already present)"));
    CHECK(scalar(t, "SELECT count(*) FROM result") == 3);
    CHECK(scalar(t, "SELECT count(*) FROM run_tag WHERE tag = 'gbench'") == 1);
}

TEST_CASE("cli export: CSV and JSON of a selection", "[cli][export]") {
    const fs::path src = ingest_tmp("export-src.db");
    const fs::path t = ingest_tmp("export.db");
    make_node_db(src, "node-x", 2);
    REQUIRE(run_assay({"ingest", "--db", t.string(), src.string()}).exit_code == 0);

    const auto csv = run_assay({"export", "--db", t.string(), "--format", "csv"});
    INFO(csv.err);
    REQUIRE(csv.exit_code == 0);
    CHECK(csv.out.rfind("run_id,run_uuid,run_started_at,run_status,hostname,", 0) == 0);
    // 2 runs x 3 results x 1 metric, plus the header.
    CHECK(line_count(csv.out) == 7);
    CHECK_THAT(csv.out, Catch::Contains("\"dtype=f64,note=say \"\"hi\"\"\""));

    const auto filtered = run_assay({"export", "--db", t.string(), "--filter", "^stream\\.triad",
                                     "--since", "2026-03-02", "--format", "json"});
    REQUIRE(filtered.exit_code == 0);
    const auto doc = nlohmann::json::parse(filtered.out);
    CHECK(doc["schema"] == "assay.export/1");
    REQUIRE(doc["runs"].size() == 1);
    CHECK(doc["runs"][0]["uuid"] == "node-x-run-1");
    REQUIRE(doc["runs"][0]["results"].size() == 1);
    CHECK(doc["runs"][0]["results"][0]["benchmark"] == "stream.triad");
    CHECK(doc["runs"][0]["results"][0]["samples"].size() == 3);

    const fs::path out = ingest_tmp("export.csv");
    CHECK(run_assay({"export", "--db", t.string(), "--host", "nobody", "-o", out.string()})
              .exit_code == 0);
    CHECK(line_count(file_text(out)) == 1);  // header only

    for (const auto& args : std::vector<std::vector<std::string>>{
             {"export", "--db", t.string(), "--format", "xml"},
             {"export", "--db", t.string(), "--filter", "("},
             {"export", "--db", t.string(), "--since", "yesterday"}}) {
        const auto r = run_assay(args);
        CHECK(r.exit_code == 2);
        CHECK(line_count(r.err) == 1);
    }
}

TEST_CASE("cli ingest: concurrent ingests and runs on one store lose nothing",
          "[cli][ingest][concurrency]") {
    const fs::path t = ingest_tmp("concurrent.db");
    constexpr int kSources = 4;
    constexpr int kRunsPerSource = 3;
    std::vector<fs::path> sources;
    for (int i = 0; i < kSources; ++i) {
        sources.push_back(ingest_tmp("node" + std::to_string(i) + ".db"));
        make_node_db(sources.back(), "node" + std::to_string(i), kRunsPerSource);
    }
    std::vector<assay::test::Process> procs;
    std::vector<std::string> names;
    for (int i = 0; i < kSources; ++i) {
        procs.emplace_back(std::vector<std::string>{"ingest", "--db", t.string(),
                                                    sources[static_cast<std::size_t>(i)].string()},
                           ingest_tmp("ingest" + std::to_string(i)).string());
        names.push_back("ingest " + std::to_string(i));
    }
    for (int i = 0; i < 2; ++i) {
        procs.emplace_back(std::vector<std::string>{"run", "--db", t.string(), "--suite", "quick",
                                                    "--filter", "^stream\\.triad/.*size=dram@cpu",
                                                    "--max-seconds", "0.2", "--no-progress"},
                           ingest_tmp("run" + std::to_string(i)).string());
        names.push_back("run " + std::to_string(i));
    }
    for (std::size_t i = 0; i < procs.size(); ++i) {
        const auto r = procs[i].wait();
        INFO(names[i] << ": " << r.err);
        CHECK(r.exit_code == 0);
    }
    CHECK(scalar(t, "SELECT count(*) FROM run") == kSources * kRunsPerSource + 2);
    CHECK(scalar(t,
                 "SELECT count(*) FROM result r JOIN run u ON u.id = r.run_id "
                 "WHERE u.ingest_id IS NOT NULL") == kSources * kRunsPerSource * 3);
    CHECK(scalar(t, "SELECT count(*) FROM run WHERE ingest_id IS NULL AND status = 'complete'") ==
          2);
    CHECK(scalar(t, "SELECT count(*) FROM ingest") == kSources);
}
