// Google Benchmark JSON import: real output of a real Google Benchmark program (committed
// fixtures from tests/store/gbench_sample_bench.cpp, and a fresh run of it).
#include "store/gbench_import.hpp"

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/case.hpp"
#include "core/error.hpp"
#include "store/merge.hpp"
#include "store/store.hpp"

namespace fs = std::filesystem;
using namespace assay;

namespace {

fs::path gbench_tmp(const std::string& name) {
    const fs::path dir = fs::path(ASSAY_TEST_TMP) / "gbench";
    fs::create_directories(dir);
    const fs::path p = dir / (std::to_string(getpid()) + "-" + name);
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
        fs::remove(p.string() + suffix);
    }
    return p;
}

std::string text_of(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
}

const Result& find_result(const GbenchImport& g, const std::string& case_id) {
    for (const auto& r : g.results) {
        if (r.bench_case.id() == case_id) {
            return r;
        }
    }
    FAIL("no result " << case_id);
    throw std::logic_error("unreachable");
}

const fs::path kFixture = fs::path(ASSAY_STORE_TEST_DATA) / "gbench_sample.json";
const fs::path kAggregates = fs::path(ASSAY_STORE_TEST_DATA) / "gbench_aggregates_only.json";

}  // namespace

TEST_CASE("gbench: iterations become samples in seconds, counters become metrics", "[gbench]") {
    const GbenchImport g = parse_gbench_json(text_of(kFixture), kFixture.string());
    CHECK(g.host.identity.hostname == "vm");
    CHECK(g.host.identity.machine_id.rfind("gbench-", 0) == 0);
    CHECK(g.host.topology.pus == 2);
    REQUIRE(g.host.topology.caches.size() == 4);
    CHECK(g.host.topology.caches[3].size_bytes == 33554432);
    CHECK(g.host.topology.caches[3].type == "unified");
    CHECK(g.host.cpu.max_mhz == Approx(2596));
    CHECK(g.run.started_at == "2026-11-25T02:12:14Z");
    CHECK(g.run.tags == std::vector<std::string>{"gbench"});
    CHECK(g.run.command_line == "./bench");
    CHECK(g.run.build_type == "debug");
    CHECK(g.run.environment.at("gbench.load_avg").find("3.37598") != std::string::npos);
    REQUIRE(g.results.size() == 3);

    const Result& sum64 = find_result(g, "gbench.BM_sum/arg0=64,exe=bench");
    CHECK(sum64.status == ResultStatus::ok);
    CHECK(sum64.unit == "s");
    REQUIRE(sum64.samples.size() == 3);
    // 7.2349363678419536e+01 ns in the file.
    CHECK(sum64.samples[0] == Approx(72.349363678419536e-9).epsilon(1e-12));
    CHECK(sum64.stats.count == 3);
    CHECK(sum64.stats.median == Approx(86.343697633506693e-9).epsilon(1e-12));
    REQUIRE(sum64.find_metric("bytes_per_second.median") != nullptr);
    CHECK(sum64.find_metric("bytes_per_second.median")->unit == "B/s");
    CHECK(sum64.find_metric("bytes_per_second.median")->direction == Direction::higher_is_better);
    REQUIRE(sum64.find_metric("elements.median") != nullptr);
    CHECK(sum64.find_metric("elements.median")->value == 64);
    REQUIRE(sum64.find_metric("sums.median") != nullptr);
    CHECK(sum64.find_metric("sums.median")->value == Approx(2.5533427355649311e+07));
    REQUIRE(sum64.find_metric("cpu_time_seconds.median") != nullptr);
    CHECK(sum64.find_metric("cpu_time_seconds.median")->value ==
          Approx(39.164346645329950e-9).epsilon(1e-12));
    // Aggregates are recomputable from the samples, so they are not stored twice.
    CHECK(sum64.find_metric("real_time_seconds.mean") == nullptr);

    const Result& pair = find_result(g, "gbench.BM_pair/exe=bench,m=2,n=3,real_time=yes,threads=2");
    CHECK(pair.samples.size() == 1);
}

TEST_CASE("gbench: aggregates-only output keeps the aggregates as metrics", "[gbench]") {
    const GbenchImport g = parse_gbench_json(text_of(kAggregates), kAggregates.string());
    const Result& sum = find_result(g, "gbench.BM_sum/arg0=4096,exe=bench");
    CHECK(sum.status == ResultStatus::ok);
    CHECK(sum.samples.empty());
    REQUIRE(sum.find_metric("real_time_seconds.median") != nullptr);
    CHECK(sum.find_metric("real_time_seconds.median")->unit == "s");
    CHECK(sum.find_metric("real_time_seconds.median")->value > 0);
    CHECK(sum.find_metric("real_time_seconds.median")->value < 1e-3);
    REQUIRE(sum.find_metric("real_time_seconds.cv") != nullptr);
    CHECK(sum.find_metric("real_time_seconds.cv")->unit == "fraction");
    REQUIRE(sum.find_metric("bytes_per_second.mean") != nullptr);
}

TEST_CASE("gbench: malformed files name the file and the problem", "[gbench]") {
    CHECK_THROWS_WITH(parse_gbench_json("{\"benchmarks\": [", "x.json"),
                      Catch::StartsWith("'x.json': malformed Google Benchmark JSON"));
    CHECK_THROWS_WITH(parse_gbench_json("{\"context\": {}}", "y.json"),
                      Catch::Contains("'y.json'") && Catch::Contains("benchmarks"));
    CHECK_THROWS_WITH(parse_gbench_json(R"({"benchmarks":[{"name":"BM_a","run_type":"iteration",
            "iterations":1,"real_time":1,"cpu_time":1,"time_unit":"fortnights"}]})",
                                        "z.json"),
                      Catch::Contains("time_unit 'fortnights'"));
    CHECK_THROWS_WITH(parse_gbench_json(R"({"benchmarks":[{"name":"BM_a","run_type":"iteration",
            "iterations":1,"cpu_time":1,"time_unit":"ns"}]})",
                                        "w.json"),
                      Catch::Contains("'real_time' is missing"));
}

TEST_CASE("gbench: a file ingests once, atomically, with provenance", "[gbench]") {
    const fs::path t = gbench_tmp("target.db");
    Store store = Store::open(t, OpenMode::create_read_write);
    const IngestSummary s = ingest_file(store, kFixture);
    CHECK(s.kind == "gbench");
    CHECK(s.runs_added == 1);
    CHECK(s.results_added == 3);
    const auto runs = store.list_runs();
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].hostname == "vm");
    CHECK(runs[0].status == RunStatus::complete);
    CHECK(runs[0].info.tags == std::vector<std::string>{"gbench"});
    CHECK(store.results_for_run(runs[0].id).size() == 3);
    const IngestSummary again = ingest_file(store, kFixture);
    CHECK(again.runs_added == 0);
    CHECK(again.runs_present == 1);
    CHECK(store.list_runs().size() == 1);

    // A truncated copy fails whole: nothing of it is stored.
    const fs::path bad = gbench_tmp("truncated.json");
    const std::string text = text_of(kFixture);
    std::ofstream(bad) << text.substr(0, text.size() / 2);
    CHECK_THROWS_AS(ingest_file(store, bad), InputError);
    CHECK(store.list_runs().size() == 1);
}

TEST_CASE("gbench: fresh output of a real Google Benchmark binary imports", "[gbench]") {
    const fs::path out = gbench_tmp("fresh.json");
    // ASSAY_GBENCH_RUNNER: the cross-compiling emulator (qemu-user) in an aarch64 cross build.
    const std::string runner = ASSAY_GBENCH_RUNNER;
    const std::string cmd = (runner.empty() ? std::string() : "'" + runner + "' ") + "'" +
                            ASSAY_GBENCH_SAMPLE +
                            "' --benchmark_min_time=0.001 --benchmark_out_format=json "
                            "--benchmark_out='" +
                            out.string() + "' > /dev/null 2>&1";
    const int rc = std::system(cmd.c_str());
    REQUIRE(WIFEXITED(rc));
    REQUIRE(WEXITSTATUS(rc) == 0);
    const GbenchImport g = parse_gbench_json(text_of(out), out.string());
    CHECK(g.results.size() == 3);
    for (const auto& r : g.results) {
        CHECK(r.status == ResultStatus::ok);
        CHECK_FALSE(r.samples.empty());
        CHECK(r.bench_case.params.at("exe") == "gbench_sample_bench");
    }
    const fs::path t = gbench_tmp("fresh.db");
    Store store = Store::open(t, OpenMode::create_read_write);
    CHECK(ingest_file(store, out).runs_added == 1);
}

TEST_CASE("gbench: files without run_name/run_type (older versions) group by name", "[gbench]") {
    const GbenchImport g = parse_gbench_json(R"({"context": {"host_name": "old"}, "benchmarks": [
        {"name": "BM_a/8", "iterations": 10, "real_time": 2, "cpu_time": 2, "time_unit": "us"},
        {"name": "BM_a/8", "iterations": 10, "real_time": 4, "cpu_time": 3, "time_unit": "us"},
        {"name": "BM_a/8_mean", "aggregate_name": "mean", "iterations": 2, "real_time": 3,
         "cpu_time": 2.5, "time_unit": "us", "run_type": "aggregate"}]})",
                                             "old.json");
    REQUIRE(g.results.size() == 1);
    const Result& r = g.results[0];
    CHECK(r.bench_case.id() == "gbench.BM_a/arg0=8");
    CHECK(r.samples == std::vector<double>{2e-6, 4e-6});
    CHECK(r.stats.median == Approx(3e-6));
    CHECK(g.host.identity.hostname == "old");
}

namespace {

/// A one-entry Google Benchmark file; `extra` is spliced into the entry.
std::string one_entry(const std::string& name_json, const std::string& extra = "") {
    return R"({"context": {"host_name": "h", "executable": "./bench"}, "benchmarks": [{"name": )" +
           name_json + R"(, "run_type": "iteration", "iterations": 5, "real_time": 2,
           "cpu_time": 2, "time_unit": "ns")" +
           extra + "}]}";
}

}  // namespace

TEST_CASE("gbench: any Google Benchmark name round-trips through the store", "[gbench]") {
    const std::vector<std::string> names = {"BM_x/1,2",
                                            "BM_x/dims:1,2",
                                            "BM_x/:5",
                                            "BM_f<int, 3>/real_time",
                                            "BM_eq/a=b/k:v=w",
                                            "BM_pct/50%/%2C/%",
                                            "BM_uni/\u00e9\u6f22/\u2192:\u03bb",
                                            "BM_cap/x,y,z/threads:4",
                                            "BM_trail/1,"};
    const fs::path t = gbench_tmp("names.db");
    Store store = Store::open(t, OpenMode::create_read_write);
    for (std::size_t i = 0; i < names.size(); ++i) {
        INFO(names[i]);
        const fs::path f = gbench_tmp("name" + std::to_string(i) + ".json");
        std::ofstream(f) << one_entry(nlohmann::json(names[i]).dump());
        const GbenchImport g = parse_gbench_json(text_of(f), f.string());
        REQUIRE(g.results.size() == 1);
        const Case want = g.results[0].bench_case;
        REQUIRE(ingest_file(store, f).runs_added == 1);
        const auto runs = store.list_runs();
        const auto stored = store.results_for_run(runs.front().id);
        REQUIRE(stored.size() == 1);
        CHECK(stored[0].result.bench_case == want);
        CHECK(Case::parse_params(want.canonical_params()) == want.params);
    }
    CHECK(store.unreadable_rows().empty());
    // Distinct names stay distinct cases.
    const GbenchImport both = parse_gbench_json(
        R"({"benchmarks": [{"name": "BM_x/1,2", "iterations": 1, "real_time": 1, "cpu_time": 1},
                           {"name": "BM_x/1/2", "iterations": 1, "real_time": 1, "cpu_time": 1}]})",
        "both.json");
    REQUIRE(both.results.size() == 2);
    CHECK(both.results[0].bench_case.id() != both.results[1].bench_case.id());
    CHECK(both.results[0].bench_case.params.at("arg0") == "1,2");
    const GbenchImport colon = parse_gbench_json(one_entry(R"("BM_x/:5")"), "c.json");
    CHECK(colon.results[0].bench_case.params.at("arg0") == ":5");
}

TEST_CASE("gbench: wrong types and values are refused with the file, entry and field", "[gbench]") {
    const auto refused = [](const std::string& text) {
        try {
            (void)parse_gbench_json(text, "bad.json");
        } catch (const InputError& e) {
            const std::string what = e.what();
            CHECK(what.find('\n') == std::string::npos);
            CHECK_THAT(what, Catch::StartsWith("'bad.json': "));
            return what;
        }
        FAIL("accepted: " << text.substr(0, 200));
        return std::string();
    };
    CHECK_THAT(refused(one_entry(R"("BM_e")", R"(, "error_occurred": "yes")")),
               Catch::Contains("benchmark #0 'BM_e'") &&
                   Catch::Contains("'error_occurred' is string, expected true or false"));
    CHECK_THAT(refused(R"({"benchmarks": [{"name": "BM_ok", "iterations": 1, "real_time": 1,
                          "cpu_time": 1}, {"name": "BM_neg", "iterations": 1,
                          "real_time": -5, "cpu_time": 1}]})"),
               Catch::Contains("benchmark #1 'BM_neg'") && Catch::Contains("'real_time' is -5"));
    CHECK_THAT(refused(one_entry(R"("BM_i")", R"(, "iterations": "many")")),
               Catch::Contains("'iterations' is string"));
    CHECK_THAT(refused(R"({"context": {"caches": [{"type": "Data", "level": 1, "size": -5,
                          "num_sharing": 1}]}, "benchmarks": []})"),
               Catch::Contains("context.caches[0]: 'size' is -5"));
    CHECK_THAT(refused(R"({"context": {"num_cpus": 1e30}, "benchmarks": []})"),
               Catch::Contains("'num_cpus'"));
    CHECK_THAT(refused(R"({"context": {"caches": [{"level": 1e30}]}, "benchmarks": []})"),
               Catch::Contains("'level'"));
    CHECK_THAT(refused(one_entry(R"("BM_s")", R"(, "skipped": "x")")),
               Catch::Contains("'skipped' is string"));
    CHECK_THAT(refused(one_entry(R"("BM_r")", R"(, "run_name": 7)")),
               Catch::Contains("'run_name' is number, expected a string"));
    CHECK_THAT(refused(one_entry(nlohmann::json("BM_" + std::string(600, 'n')).dump())),
               Catch::Contains("'name' is 603 bytes, longer than the limit of 512"));
    CHECK_THAT(refused(one_entry(R"("BM_\u0001x")")),
               Catch::Contains("'BM_\\x01x'") && Catch::Contains("control character"));
    CHECK_THAT(refused(R"({"benchmarks": [{"name": 5}]})"),
               Catch::Contains("benchmark #0 has no \"name\""));
}

TEST_CASE("gbench: a BOM is accepted, huge skip values are just skipped", "[gbench]") {
    const GbenchImport bom = parse_gbench_json("\xEF\xBB\xBF" + one_entry(R"("BM_b")"), "b.json");
    CHECK(bom.results.size() == 1);
    const GbenchImport skip = parse_gbench_json(
        one_entry(R"("BM_s")", R"(, "skipped": 1e30, "skip_message": "no")"), "s.json");
    CHECK(skip.results[0].status == ResultStatus::skipped);
    const fs::path f = gbench_tmp("bom.json");
    std::ofstream(f) << "\xEF\xBB\xBF" + one_entry(R"("BM_b")");
    CHECK(detect_ingest_kind(f) == "gbench");
}

TEST_CASE("gbench: a refused file leaves the target byte-identical", "[gbench]") {
    const fs::path t = gbench_tmp("untouched.db");
    {
        Store store = Store::open(t, OpenMode::create_read_write);
        REQUIRE(ingest_file(store, kFixture).runs_added == 1);
    }
    const std::string before = text_of(t);
    for (const std::string& text :
         {one_entry(R"("BM_e")", R"(, "error_occurred": "yes")"),
          one_entry(R"("BM_t")", R"(, "cpu_time": -1)"),
          one_entry(nlohmann::json("BM_" + std::string(50000, 'a')).dump())}) {
        const fs::path f = gbench_tmp("refused.json");
        std::ofstream(f) << text;
        Store store = Store::open(t, OpenMode::read_write);
        CHECK_THROWS_AS(ingest_file(store, f), InputError);
    }
    CHECK(text_of(t) == before);
}
