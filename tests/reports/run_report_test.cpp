#include "reports/run_report.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/error.hpp"

using namespace assay;

namespace {

StoredResult triad_result() {
    StoredResult sr;
    sr.id = 7;
    sr.run_id = 3;
    Result& r = sr.result;
    r.bench_case = {"stream.triad", {{"dtype", "f64"}, {"placement", "all_cores"}}};
    r.device = "cpu";
    r.backend = "cpu.native";
    r.status = ResultStatus::ok;
    r.samples = {0.010, 0.012, 0.011, 0.013};
    r.stats = summarize(r.samples);
    r.verified = true;
    r.metrics = {{"bandwidth_stream_gb_per_s.best", 38.4, "GB/s", Direction::higher_is_better},
                 {"bandwidth_stream_gb_per_s.median", 33.5, "GB/s", Direction::higher_is_better},
                 {"threads", 2, "threads", Direction::none}};
    return sr;
}

RunWithResults fixture_run() {
    RunWithResults rw;
    rw.run.id = 3;
    rw.run.hostname = "node-a";
    rw.run.fingerprint = "0123456789abcdef0123";
    rw.run.status = RunStatus::incomplete;
    rw.run.status_note = "interrupted by SIGINT after 1 of 2 benchmark(s)";
    rw.run.info.started_at = "2026-11-24T20:00:00.000Z";
    rw.run.info.suite = "quick";
    rw.run.info.tags = {"nightly"};
    rw.results.push_back(triad_result());
    StoredResult skipped;
    skipped.id = 8;
    skipped.result.bench_case = {"stream.triad", {{"dtype", "f64"}}};
    skipped.result.device = "cuda:0";
    skipped.result.backend = "cuda";
    skipped.result.status = ResultStatus::skipped;
    skipped.result.message = "no CUDA device";
    rw.results.push_back(skipped);
    StoredResult failed = triad_result();
    failed.id = 9;
    failed.result.status = ResultStatus::failed;
    failed.result.verified = false;
    failed.result.message = "verification failed: a[5] = 1 expected 2";
    rw.results.push_back(failed);
    return rw;
}

}  // namespace

TEST_CASE("headline_of prefers STREAM bandwidth, falls back to time", "[report]") {
    const auto sr = triad_result();
    const Headline h = headline_of(sr.result);
    CHECK(h.available);
    CHECK(h.unit == "GB/s");
    CHECK(h.best == Approx(38.4));
    CHECK(h.median == Approx(33.5));

    Result timed = sr.result;
    timed.metrics.clear();
    const Headline t = headline_of(timed);
    CHECK(t.unit == "ms");
    CHECK(t.best == Approx(10.0));
    CHECK(t.median == Approx(11.5));

    Result none;
    CHECK_FALSE(headline_of(none).available);
}

TEST_CASE("markdown report lists runs per host with best, median, unit, verified", "[report]") {
    const std::string md = render_run_report({fixture_run()}, {"x.db", "2026-11-24T21:00:00Z"},
                                             ReportFormat::markdown);
    CHECK_THAT(md, Catch::Contains("## Host `node-a`"));
    CHECK_THAT(md, Catch::Contains("### Run 3"));
    CHECK_THAT(md, Catch::Contains("incomplete"));
    CHECK_THAT(md, Catch::Contains("interrupted by SIGINT"));
    CHECK_THAT(md, Catch::Contains(
                       "| stream.triad | dtype=f64,placement=all_cores | cpu | cpu.native | ok | "
                       "38.40 | 33.50 | GB/s |"));
    // The skipped result is not a table row: it is listed under "Skipped", grouped by reason.
    CHECK_THAT(md, Catch::Contains("<details><summary>1 GPU benchmark skipped: no CUDA device "
                                   "(family: stream)</summary>"));
    CHECK_THAT(md, Catch::Contains("- stream.triad/dtype=f64@cuda:0:cuda\n"));
    CHECK(md.find("| skipped") == std::string::npos);
    CHECK_THAT(md, Catch::Contains("**FAILED**: verification failed"));
    CHECK_THAT(md, Catch::Contains("| **no** |"));
}

namespace {

std::size_t occurrences(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) {
        ++n;
    }
    return n;
}

const std::string kNoGpu = "no CUDA GPU: none detected: no NVIDIA driver (libcuda) on this host";

/// A CPU-only host's run: one measured triad, 11 GPU benchmarks skipped for the same reason,
/// 2 CPU benchmarks skipped for another.
RunWithResults cpu_only_run() {
    RunWithResults rw = fixture_run();
    rw.results = {triad_result()};
    const std::vector<std::string> gpu = {
        "gemm.cublaslt",   "gemm.cublas", "gemm.cuda",         "gpu.stream",
        "gpu.copy",        "gpu.latency", "attention.prefill", "attention.decode",
        "attention.flash", "gemm.fp8",    "gpu.pcie"};
    std::int64_t id = 10;
    for (const auto& name : gpu) {
        StoredResult sr;
        sr.id = ++id;
        sr.result.bench_case = {name, {{"dtype", "bf16"}}};
        sr.result.device = "cuda:0";
        sr.result.backend = "cuda";
        sr.result.status = ResultStatus::skipped;
        sr.result.message = kNoGpu;
        rw.results.push_back(sr);
    }
    for (const char* name : {"mem.numa_remote", "mem.numa_local"}) {
        StoredResult sr;
        sr.id = ++id;
        sr.result.bench_case = {name, {{"placement", "node1"}}};
        sr.result.device = "cpu";
        sr.result.backend = "cpu.native";
        sr.result.status = ResultStatus::skipped;
        sr.result.message = "single NUMA node | nothing remote";
        rw.results.push_back(sr);
    }
    return rw;
}

}  // namespace

TEST_CASE("markdown report groups skipped results by reason", "[report][skips]") {
    const std::string md = render_run_report({cpu_only_run()}, {"x.db", "2026-11-24T21:00:00Z"},
                                             ReportFormat::markdown);
    CHECK_THAT(md, Catch::Contains("Skipped (13 of 14 results, one line per reason"));
    CHECK_THAT(md, Catch::Contains("<details><summary>11 GPU benchmarks skipped: " + kNoGpu +
                                   " (families: attention, gemm, gpu)</summary>"));
    // Inside an HTML block the text is HTML-escaped; a Markdown "\|" would show its backslash.
    CHECK_THAT(md, Catch::Contains("<details><summary>2 CPU benchmarks skipped: single NUMA node "
                                   "| nothing remote (family: mem)</summary>"));
    CHECK(occurrences(md, kNoGpu) == 1);  // not once per skipped row
    CHECK(occurrences(md, "<details>") == 2);
    // The GPU group comes first (more results), and every name is still there.
    CHECK(md.find("11 GPU benchmarks") < md.find("2 CPU benchmarks"));
    for (const char* name :
         {"gemm.cublaslt/dtype=bf16@cuda:0:cuda", "gpu.pcie/dtype=bf16@cuda:0:cuda",
          "attention.flash/dtype=bf16@cuda:0:cuda",
          "mem.numa_local/placement=node1@cpu:cpu.native"}) {
        CHECK_THAT(md, Catch::Contains(std::string("- ") + name + "\n"));
    }
    // The measured result keeps its table row; no skipped row remains in the table.
    CHECK_THAT(md, Catch::Contains("| stream.triad | dtype=f64,placement=all_cores | cpu |"));
    CHECK(md.find("| skipped") == std::string::npos);
}

TEST_CASE("markdown report of a run with only skipped results has no empty table",
          "[report][skips]") {
    RunWithResults rw = cpu_only_run();
    rw.results.erase(rw.results.begin());
    const std::string md =
        render_run_report({rw}, {"x.db", "2026-11-24T21:00:00Z"}, ReportFormat::markdown);
    CHECK(md.find("| benchmark |") == std::string::npos);
    CHECK_THAT(md, Catch::Contains("Skipped (13 of 13 results"));
}

TEST_CASE("JSON report keeps every skipped result and adds the groups", "[report][skips]") {
    const auto j = nlohmann::json::parse(
        render_run_report({cpu_only_run()}, {"x.db", "2026-11-24T21:00:00Z"}, ReportFormat::json));
    const auto& run = j["runs"][0];
    REQUIRE(run["results"].size() == 14);
    int skipped = 0;
    for (const auto& r : run["results"]) {
        skipped += r["status"] == "skipped" ? 1 : 0;
    }
    CHECK(skipped == 13);
    REQUIRE(run["skipped_groups"].size() == 2);
    const auto& gpu = run["skipped_groups"][0];
    CHECK(gpu["reason"] == kNoGpu);
    CHECK(gpu["count"] == 11);
    CHECK(gpu["device_kind"] == "GPU");
    CHECK(gpu["families"] == nlohmann::json::array({"attention", "gemm", "gpu"}));
    CHECK(gpu["benchmarks"].size() == 11);
    CHECK(gpu["line"] ==
          "11 GPU benchmarks skipped: " + kNoGpu + " (families: attention, gemm, gpu)");
    CHECK(run["skipped_groups"][1]["count"] == 2);
}

TEST_CASE("JSON report is valid, versioned, and carries every result", "[report]") {
    const std::string text =
        render_run_report({fixture_run()}, {"x.db", "2026-11-24T21:00:00Z"}, ReportFormat::json);
    const auto j = nlohmann::json::parse(text);
    CHECK(j["schema"] == "assay.report.runs/1");
    REQUIRE(j["runs"].size() == 1);
    const auto& run = j["runs"][0];
    CHECK(run["status"] == "incomplete");
    CHECK(run["host"]["hostname"] == "node-a");
    REQUIRE(run["results"].size() == 3);
    CHECK(run["results"][0]["headline"]["best"].get<double>() == Approx(38.4));
    CHECK(run["results"][0]["verified"] == true);
    CHECK(run["results"][0]["samples"] == 4);
    CHECK(run["results"][1]["status"] == "skipped");
    CHECK(run["results"][1]["headline"].is_null());
}

TEST_CASE("an empty store renders a helpful report, not an error", "[report]") {
    const std::string md = render_run_report({}, {"x.db", "now"}, ReportFormat::markdown);
    CHECK_THAT(md, Catch::Contains("No runs are stored yet"));
}

TEST_CASE("report format names", "[report]") {
    CHECK(report_format_from_string("md") == ReportFormat::markdown);
    CHECK(report_format_from_string("json") == ReportFormat::json);
    CHECK_THROWS_AS(report_format_from_string("pdf"), UsageError);
}

namespace {

StoredResult family_result(std::int64_t id, std::string benchmark, Params params,
                           std::vector<Metric> metrics, std::string backend = "cpu.native") {
    StoredResult sr;
    sr.id = id;
    sr.run_id = 3;
    Result& r = sr.result;
    r.bench_case = {std::move(benchmark), std::move(params)};
    r.device = "cpu";
    r.backend = std::move(backend);
    r.status = ResultStatus::ok;
    r.verified = true;
    r.samples = {1e-3, 1.1e-3};
    r.stats = summarize(r.samples);
    r.metrics = std::move(metrics);
    return sr;
}

Metric fm(std::string name, double value, std::string unit = "") {
    return {std::move(name), value, std::move(unit), Direction::none};
}

}  // namespace

TEST_CASE("markdown report shows ceilings and the family views with cache-level labels",
          "[report]") {
    RunWithResults rw = fixture_run();
    rw.results.push_back(family_result(
        20, "mem.sweep", {{"kernel", "sum"}, {"placement", "one_core"}, {"bytes", "16384"}},
        {fm("bandwidth_stream_gb_per_s.best", 187.5, "GB/s"), fm("level.L1d", 1)}));
    rw.results.push_back(
        family_result(21, "mem.latency", {{"pages", "thp"}, {"bytes", "16384"}},
                      {fm("latency_ns.median", 1.25, "ns"),
                       fm("latency_cycles.median", 4.5, "cycles"), fm("level.L1d", 1)}));
    rw.results.push_back(family_result(22, "mem.latency",
                                       {{"pages", "thp"}, {"bytes", "268435456"}},
                                       {fm("latency_ns.median", 96.5, "ns"), fm("level.DRAM", 1)}));
    rw.results.push_back(family_result(
        23, "mem.loaded_latency", {{"streams", "1"}},
        {fm("latency_ns.median", 140.0, "ns"), fm("loaded.stream_gb_per_s", 21.5, "GB/s")}));
    rw.results.push_back(family_result(24, "mem.numa.latency",
                                       {{"cpu_node", "0"}, {"mem_node", "1"}},
                                       {fm("latency_ns.median", 180.0, "ns")}));
    rw.results.push_back(family_result(25, "mem.c2c", {{"a", "0"}, {"b", "1"}},
                                       {fm("latency_ns.median", 55.5, "ns")}));
    StoredResult gemm = family_result(
        26, "gemm",
        {{"dtype", "bf16"}, {"m", "4096"}, {"n", "4096"}, {"k", "4096"}, {"layout", "nn"}},
        {fm("gflop_per_s.best", 2500.0, "GFLOP/s"), fm("percent_of_peak.best", 61.5, "%")},
        "onednn");
    gemm.result.implementation = "brg:avx512_core_bf16";
    rw.results.push_back(gemm);
    StoredResult slower = gemm;
    slower.id = 27;
    slower.result.backend = "openblas";
    slower.result.metrics = {fm("gflop_per_s.best", 1000.0, "GFLOP/s")};
    rw.results.push_back(slower);
    StoredCeiling c;
    c.run_id = 3;
    c.ceiling = {"cpu",
                 "mem.latency.DRAM.thp",
                 96.5,
                 "ns",
                 Direction::lower_is_better,
                 "median of 1 mem.latency points labelled DRAM (median per point)",
                 22};
    rw.ceilings.push_back(c);

    const std::string md = render_run_report({rw}, {"x.db", "now"}, ReportFormat::markdown);
    CHECK_THAT(md, Catch::Contains("Measured ceilings"));
    CHECK_THAT(md, Catch::Contains("| cpu | `mem.latency.DRAM.thp` | 96.50 | ns |"));
    CHECK_THAT(md, Catch::Contains("| 16 KiB | 187.5 (L1d) | 1.25 (L1d, 4.50 cyc) |"));
    CHECK_THAT(md, Catch::Contains("| 256 MiB |  | 96.50 (DRAM) |"));
    CHECK_THAT(md, Catch::Contains("| 1 | 140.0 | 21.50 |"));
    CHECK_THAT(md, Catch::Contains("NUMA matrix, latency ns (median)"));
    CHECK_THAT(md, Catch::Contains("| 0 | 180.0 |"));  // node 0 CPUs -> node 1 memory
    CHECK_THAT(md, Catch::Contains("Core-to-core latency"));
    CHECK_THAT(md, Catch::Contains("| 0 | - | 55.50 |"));
    CHECK_THAT(md, Catch::Contains("| 1 | 55.50 | - |"));
    CHECK_THAT(md, Catch::Contains("| cpu | onednn | bf16 | 4096x4096x4096 | nn | ok | 2.50 | "
                                   "61.50 | brg:avx512_core_bf16 |"));
    CHECK_THAT(md, Catch::Contains("- implementation: brg:avx512_core_bf16"));
    CHECK_THAT(
        md, Catch::Contains("- cpu bf16: **onednn** wins — onednn 2.50 > openblas 1.00 TFLOP/s"));

    const auto doc =
        nlohmann::json::parse(render_run_report({rw}, {"x.db", "now"}, ReportFormat::json));
    REQUIRE(doc["runs"][0]["ceilings"].size() == 1);
    CHECK(doc["runs"][0]["ceilings"][0]["name"] == "mem.latency.DRAM.thp");
    CHECK(doc["runs"][0]["ceilings"][0]["source_result_id"] == 0);
    CHECK(doc["runs"][0]["results"].back()["implementation"] == "brg:avx512_core_bf16");

    // A run without those families has none of the sections.
    const std::string plain =
        render_run_report({fixture_run()}, {"x.db", "now"}, ReportFormat::markdown);
    CHECK_THAT(plain, !Catch::Contains("Measured ceilings"));
    CHECK_THAT(plain, !Catch::Contains("Memory hierarchy"));
    CHECK_THAT(plain, !Catch::Contains("GEMM"));
}
