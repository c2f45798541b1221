#include "core/skips.hpp"

#include <catch2/catch.hpp>

using namespace assay;

namespace {

Result skipped(const std::string& benchmark, const std::string& device, const std::string& why) {
    Result r;
    r.bench_case = {benchmark, {{"dtype", "f32"}}};
    r.device = device;
    r.backend = device == "cpu" ? "cpu.native" : "cuda";
    r.status = ResultStatus::skipped;
    r.message = why;
    return r;
}

Result with_status(Result r, ResultStatus status) {
    r.status = status;
    return r;
}

const std::string kNoGpu = "no CUDA GPU: none detected: no NVIDIA driver (libcuda) on this host";

}  // namespace

TEST_CASE("group_skipped: no skips gives no groups", "[skips]") {
    CHECK(group_skipped({}).empty());
    const Result ok = with_status(skipped("stream.triad", "cpu", ""), ResultStatus::ok);
    const Result failed =
        with_status(skipped("stream.copy", "cpu", "verification failed"), ResultStatus::failed);
    CHECK(group_skipped({ok, failed}).empty());
}

TEST_CASE("group_skipped: one group per reason with count, families and names", "[skips]") {
    std::vector<Result> results = {
        with_status(skipped("stream.triad", "cpu", ""), ResultStatus::ok),
        skipped("gemm.cublaslt", "cuda:0", kNoGpu),
        skipped("gpu.stream", "cuda:0", kNoGpu),
        skipped("attention.prefill", "cuda:0", kNoGpu),
        skipped("gemm.cublas", "cuda:0", kNoGpu),
        skipped("mem.numa", "cpu", "single NUMA node"),
    };
    const auto groups = group_skipped(results);
    REQUIRE(groups.size() == 2);
    CHECK(groups[0].reason == kNoGpu);
    CHECK(groups[0].count == 4);
    CHECK(groups[0].families == std::vector<std::string>{"attention", "gemm", "gpu"});
    CHECK(groups[0].device_kind == "GPU");
    CHECK(groups[0].benchmarks ==
          std::vector<std::string>{
              "gemm.cublaslt/dtype=f32@cuda:0:cuda", "gpu.stream/dtype=f32@cuda:0:cuda",
              "attention.prefill/dtype=f32@cuda:0:cuda", "gemm.cublas/dtype=f32@cuda:0:cuda"});
    CHECK(groups[1].reason == "single NUMA node");
    CHECK(groups[1].count == 1);
    CHECK(groups[1].families == std::vector<std::string>{"mem"});
    CHECK(groups[1].device_kind == "CPU");
    CHECK(groups[1].benchmarks == std::vector<std::string>{"mem.numa/dtype=f32@cpu:cpu.native"});
}

TEST_CASE("group_skipped: ordered by count descending, then by reason", "[skips]") {
    const std::vector<Result> results = {
        skipped("a.x", "cpu", "zeta"),  skipped("b.x", "cpu", "beta"),
        skipped("c.x", "cpu", "alpha"), skipped("d.x", "cpu", "beta"),
        skipped("e.x", "cpu", "gamma"), skipped("f.x", "cpu", "gamma"),
        skipped("g.x", "cpu", "gamma"),
    };
    const auto groups = group_skipped(results);
    REQUIRE(groups.size() == 4);
    CHECK(groups[0].reason == "gamma");
    CHECK(groups[0].count == 3);
    CHECK(groups[1].reason == "beta");
    CHECK(groups[1].count == 2);
    CHECK(groups[2].reason == "alpha");  // ties: alphabetical
    CHECK(groups[3].reason == "zeta");
}

TEST_CASE("group_skipped: device kind is shared or left out when mixed", "[skips]") {
    CHECK(device_kind_of("cpu") == "CPU");
    CHECK(device_kind_of("cuda:0") == "GPU");
    CHECK(device_kind_of("").empty());
    const auto mixed =
        group_skipped({skipped("gemm.cpu", "cpu", "why"), skipped("gemm.cuda", "cuda:1", "why")});
    REQUIRE(mixed.size() == 1);
    CHECK(mixed[0].device_kind.empty());
    CHECK(mixed[0].families == std::vector<std::string>{"gemm"});  // unique
    CHECK(describe(mixed[0]) == "2 benchmarks skipped: why (family: gemm)");
}

TEST_CASE("describe: one line with count, kind, reason and families", "[skips]") {
    std::vector<Result> results;
    for (const char* b : {"gemm.a", "gemm.b", "gemm.c", "gemm.d", "gpu.a", "gpu.b", "gpu.c",
                          "attention.a", "attention.b", "attention.c", "attention.d"}) {
        results.push_back(skipped(b, "cuda:0", kNoGpu));
    }
    const auto groups = group_skipped(results);
    REQUIRE(groups.size() == 1);
    CHECK(describe(groups[0]) ==
          "11 GPU benchmarks skipped: " + kNoGpu + " (families: attention, gemm, gpu)");

    const auto one = group_skipped({skipped("mem.numa", "cpu", "single NUMA node")});
    REQUIRE(one.size() == 1);
    CHECK(describe(one[0]) == "1 CPU benchmark skipped: single NUMA node (family: mem)");

    const auto silent = group_skipped({skipped("x.y", "", "")});
    REQUIRE(silent.size() == 1);
    CHECK(silent[0].benchmarks == std::vector<std::string>{"x.y/dtype=f32"});
    CHECK(describe(silent[0]) == "1 benchmark skipped: no reason recorded (family: x)");
}
