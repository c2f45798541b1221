#include "core/ceiling.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <string>

using namespace assay;

namespace {

Result ok_result(std::string benchmark, Params params, std::vector<Metric> metrics,
                 std::string device = "cpu", std::string backend = "cpu.native") {
    Result r;
    r.bench_case = {std::move(benchmark), std::move(params)};
    r.device = std::move(device);
    r.backend = std::move(backend);
    r.status = ResultStatus::ok;
    r.verified = true;
    r.metrics = std::move(metrics);
    return r;
}

Metric m(std::string name, double value, std::string unit = "") {
    return {std::move(name), value, std::move(unit), Direction::none};
}

Result sweep(const std::string& kernel, const std::string& placement, int bytes,
             const std::string& level, double gbps) {
    return ok_result(
        "mem.sweep",
        {{"kernel", kernel}, {"placement", placement}, {"bytes", std::to_string(bytes)}},
        {m("bandwidth_stream_gb_per_s.best", gbps, "GB/s"), m("level." + level, 1)});
}

std::map<std::string, Ceiling> by_name(const std::vector<Ceiling>& ceilings) {
    std::map<std::string, Ceiling> out;
    for (const auto& c : ceilings) {
        REQUIRE(out.emplace(c.device + "/" + c.name, c).second);  // names unique per device
    }
    return out;
}

}  // namespace

TEST_CASE("ceilings: per-level bandwidth is the max over the level's sweep points", "[ceiling]") {
    std::vector<Result> results = {
        sweep("sum", "one_core", 4096, "L1d", 150.0),
        sweep("sum", "one_core", 8192, "L1d", 180.0),
        sweep("sum", "one_core", 1 << 20, "L2", 90.0),
        sweep("sum", "one_core", 1 << 26, "DRAM", 80.0),  // partly cached: not the ceiling
        sweep("sum", "one_core", 1 << 28, "DRAM", 30.0),
        sweep("sum", "all_cores", 8192, "L1d", 300.0),
        sweep("triad", "one_core", 8192, "L1d", 120.0),
    };
    Result failed = sweep("sum", "one_core", 16384, "L1d", 999.0);
    failed.status = ResultStatus::failed;
    failed.verified = false;
    results.push_back(failed);  // a wrong answer never sets a ceiling

    const auto c = by_name(derive_ceilings(results));
    REQUIRE(c.count("cpu/mem.bandwidth.read.L1d.one_core"));
    const Ceiling& l1 = c.at("cpu/mem.bandwidth.read.L1d.one_core");
    CHECK(l1.value == 180.0);
    CHECK(l1.unit == "GB/s");
    CHECK(l1.direction == Direction::higher_is_better);
    CHECK(l1.source_index == 1);
    CHECK(l1.basis.find("max of 2") != std::string::npos);
    CHECK(c.at("cpu/mem.bandwidth.read.L2.one_core").value == 90.0);
    CHECK(c.at("cpu/mem.bandwidth.read.L1d.all_cores").value == 300.0);
    CHECK(c.at("cpu/mem.bandwidth.triad.L1d.one_core").value == 120.0);
    CHECK(c.at("cpu/mem.bandwidth.read.DRAM.one_core").value == 30.0);
    CHECK(c.size() == 5);
}

TEST_CASE("ceilings: latency per level is the median of the level's point medians", "[ceiling]") {
    const auto lat = [](int bytes, const std::string& level, double ns) {
        return ok_result("mem.latency", {{"pages", "thp"}, {"bytes", std::to_string(bytes)}},
                         {m("latency_ns.median", ns, "ns"), m("level." + level, 1)});
    };
    const std::vector<Result> results = {lat(1 << 28, "DRAM", 120.0), lat(1 << 26, "DRAM", 60.0),
                                         lat(1 << 27, "DRAM", 90.0),  lat(2048 << 10, "L2", 14.0),
                                         lat(1024 << 10, "L2", 12.0), lat(512 << 10, "L2", 10.0),
                                         lat(4096, "L1d", 1.0)};
    const auto c = by_name(derive_ceilings(results));
    // Cache levels: median of the level's points.
    const Ceiling& l2 = c.at("cpu/mem.latency.L2.thp");
    CHECK(l2.value == 12.0);
    CHECK(l2.direction == Direction::lower_is_better);
    CHECK(l2.source_index == 4);
    CHECK(c.at("cpu/mem.latency.L1d.thp").value == 1.0);
    // DRAM: the largest working set (smaller DRAM points may still hit in a cache).
    const Ceiling& dram = c.at("cpu/mem.latency.DRAM.thp");
    CHECK(dram.value == 120.0);
    CHECK(dram.source_index == 0);
    CHECK(dram.basis.find("268435456 bytes") != std::string::npos);
}

TEST_CASE("ceilings: STREAM DRAM bandwidth and GEMM per dtype, per device and backend",
          "[ceiling]") {
    const std::vector<Result> results = {
        ok_result("stream.triad", {{"dtype", "f64"}, {"placement", "all_cores"}, {"size", "dram"}},
                  {m("bandwidth_stream_gb_per_s.best", 40.0)}),
        ok_result(
            "stream.triad",
            {{"dtype", "f64"}, {"placement", "all_cores"}, {"size", "dram"}, {"stores", "nt"}},
            {m("bandwidth_stream_gb_per_s.best", 50.0)}),
        ok_result("gemm", {{"dtype", "f32"}, {"m", "1024"}}, {m("gflop_per_s.best", 100.0)}, "cpu",
                  "openblas"),
        ok_result("gemm", {{"dtype", "f32"}, {"m", "4096"}}, {m("gflop_per_s.best", 130.0)}, "cpu",
                  "onednn"),
        ok_result("gemm", {{"dtype", "s8s8s32"}, {"m", "4096"}}, {m("gop_per_s.best", 400.0)},
                  "cpu", "onednn"),
        ok_result("gemm", {{"dtype", "f32"}, {"m", "8192"}}, {m("gflop_per_s.best", 50000.0)},
                  "cuda:0", "cublaslt"),
    };
    const auto c = by_name(derive_ceilings(results));
    CHECK(c.at("cpu/mem.bandwidth.dram.triad.all_cores").value == 40.0);
    CHECK(c.at("cpu/mem.bandwidth.dram.triad.nt.all_cores").value == 50.0);
    CHECK(c.at("cpu/gemm.f32.openblas").value == 100.0);
    CHECK(c.at("cpu/gemm.f32.onednn").value == 130.0);
    const Ceiling& best = c.at("cpu/gemm.f32");
    CHECK(best.value == 130.0);
    CHECK(best.basis.find("best backend: onednn") != std::string::npos);
    CHECK(c.at("cpu/gemm.s8s8s32").unit == "GOP/s");
    CHECK(c.at("cuda:0/gemm.f32").value == 50000.0);  // devices never mix
}

TEST_CASE("ceilings: nothing verified, nothing derived", "[ceiling]") {
    Result skipped = sweep("sum", "one_core", 4096, "L1d", 1.0);
    skipped.status = ResultStatus::skipped;
    CHECK(derive_ceilings({skipped}).empty());
    CHECK(derive_ceilings({}).empty());
}

TEST_CASE("ceilings: GPU device memory gives a DRAM bandwidth ceiling per op", "[ceiling]") {
    const std::vector<Result> results = {
        ok_result("gpu.mem", {{"op", "read"}, {"size", "dram"}, {"dtype", "f64"}},
                  {m("bandwidth_stream_gb_per_s.best", 3000.0, "GB/s")}, "cuda:0", "cuda"),
        ok_result("gpu.mem", {{"op", "copy"}, {"size", "dram"}, {"dtype", "f64"}},
                  {m("bandwidth_stream_gb_per_s.best", 2800.0, "GB/s")}, "cuda:0", "cuda"),
    };
    const auto c = by_name(derive_ceilings(results));
    REQUIRE(c.count("cuda:0/mem.bandwidth.dram.read.device"));
    CHECK(c.at("cuda:0/mem.bandwidth.dram.read.device").value == 3000.0);
    CHECK(c.at("cuda:0/mem.bandwidth.dram.copy.device").value == 2800.0);
}

TEST_CASE("ceiling fractions: attention prefill against the GEMM ceiling of its dtype",
          "[ceiling]") {
    const std::vector<Ceiling> ceilings = {
        {"cpu", "gemm.f32", 200.0, "GFLOP/s", Direction::higher_is_better, "", -1},
        {"cpu", "gemm.bf16", 400.0, "GFLOP/s", Direction::higher_is_better, "", -1},
        {"cuda:0", "gemm.f32", 50000.0, "GFLOP/s", Direction::higher_is_better, "", -1},
    };
    const Result prefill = ok_result(
        "attention.prefill", {{"dtype", "f32"}, {"placement", "all_cores"}},
        {m("gflop_per_s.best", 120.0, "GFLOP/s"), m("gflop_per_s.median", 100.0, "GFLOP/s")});
    const auto metrics = ceiling_fraction_metrics(prefill, ceilings);
    REQUIRE(metrics.size() == 3);
    CHECK(metrics[0].name == "percent_of_ceiling.best");
    CHECK(metrics[0].value == Approx(60.0));
    CHECK(metrics[1].value == Approx(50.0));
    CHECK(metrics[2].name == "ceiling.gemm.f32");
    CHECK(metrics[2].value == 200.0);

    // Another dtype, another device, or no throughput: no fraction.
    Result bf16 = prefill;
    bf16.bench_case.params["dtype"] = "f16";
    CHECK(ceiling_fraction_metrics(bf16, ceilings).empty());
    Result no_rate = prefill;
    no_rate.metrics.clear();
    CHECK(ceiling_fraction_metrics(no_rate, ceilings).empty());
    CHECK(bounding_ceiling(ok_result("stream.triad", {}, {}), ceilings) == nullptr);
}

TEST_CASE("ceiling fractions: attention decode against DRAM read bandwidth", "[ceiling]") {
    const std::vector<Ceiling> sweep_only = {
        {"cpu", "mem.bandwidth.read.DRAM.all_cores", 40.0, "GB/s", Direction::higher_is_better, "",
         -1},
    };
    std::vector<Ceiling> both = sweep_only;
    both.push_back({"cpu", "mem.bandwidth.dram.sum.all_cores", 36.0, "GB/s",
                    Direction::higher_is_better, "", -1});
    both.push_back({"cuda:0", "mem.bandwidth.dram.read.device", 3000.0, "GB/s",
                    Direction::higher_is_better, "", -1});
    const Result decode = ok_result("attention.decode", {{"placement", "all_cores"}},
                                    {m("bandwidth_stream_gb_per_s.best", 30.0, "GB/s"),
                                     m("bandwidth_stream_gb_per_s.median", 27.0, "GB/s")});
    // The STREAM sum (read-only) ceiling is preferred; the sweep's DRAM point is the fallback.
    REQUIRE(bounding_ceiling(decode, both) != nullptr);
    CHECK(bounding_ceiling(decode, both)->name == "mem.bandwidth.dram.sum.all_cores");
    CHECK(ceiling_fraction_metrics(decode, both)[1].value == Approx(75.0));
    REQUIRE(bounding_ceiling(decode, sweep_only) != nullptr);
    CHECK(ceiling_fraction_metrics(decode, sweep_only)[0].value == Approx(75.0));

    // A CPU result names its cores in a context metric "placement.<label>" instead.
    Result numa = decode;
    numa.bench_case.params.erase("placement");
    numa.metrics.push_back(m("placement.numa0_cores", 1));
    std::vector<Ceiling> numa_ceilings = both;
    numa_ceilings.push_back({"cpu", "mem.bandwidth.dram.sum.numa0_cores", 20.0, "GB/s",
                             Direction::higher_is_better, "", -1});
    REQUIRE(bounding_ceiling(numa, numa_ceilings) != nullptr);
    CHECK(bounding_ceiling(numa, numa_ceilings)->name == "mem.bandwidth.dram.sum.numa0_cores");

    Result gpu = decode;
    gpu.device = "cuda:0";
    gpu.bench_case.params.erase("placement");  // attention cases name no placement
    REQUIRE(bounding_ceiling(gpu, both) != nullptr);
    CHECK(bounding_ceiling(gpu, both)->name == "mem.bandwidth.dram.read.device");
}
