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
