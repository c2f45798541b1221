#include "reports/attention_section.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace {

using assay::Direction;
using assay::Metric;
using assay::Result;
using assay::ResultStatus;
using assay::StoredResult;

StoredResult prefill(const std::string& backend, double gflops_best, const std::string& seq) {
    StoredResult sr;
    Result& r = sr.result;
    r.bench_case.benchmark = "attention.prefill";
    r.bench_case.params = {{"dtype", "f32"},   {"batch", "1"},         {"heads_q", "32"},
                           {"heads_kv", "8"},  {"head_dim", "128"},    {"seq", seq},
                           {"causal", "true"}, {"preset", "llama3_8b"}};
    r.device = "cpu";
    r.backend = backend;
    r.status = ResultStatus::ok;
    r.verified = true;
    r.implementation = backend == "cpu.flash" ? "flash fp32 avx512f" : "unfused fp32 | openblas";
    r.metrics = {{"gflop_per_s.best", gflops_best, "GFLOP/s", Direction::higher_is_better},
                 {"gflop_per_s.median", gflops_best * 0.9, "GFLOP/s", Direction::higher_is_better}};
    return sr;
}

StoredResult decode(ResultStatus status, const std::string& message) {
    StoredResult sr;
    Result& r = sr.result;
    r.bench_case.benchmark = "attention.decode";
    r.bench_case.params = {{"dtype", "f32"},    {"kv_dtype", "bf16"},   {"batch", "1"},
                           {"heads_q", "32"},   {"heads_kv", "8"},      {"head_dim", "128"},
                           {"kv_len", "65536"}, {"preset", "llama3_8b"}};
    r.device = "cpu";
    r.backend = "cpu.flash";
    r.status = status;
    r.message = message;
    r.verified = status == ResultStatus::ok;
    if (status == ResultStatus::ok) {
        r.metrics = {
            {"bandwidth_stream_gb_per_s.best", 31.5, "GB/s", Direction::higher_is_better},
            {"bandwidth_stream_gb_per_s.median", 30.4, "GB/s", Direction::higher_is_better},
            {"percent_of_ceiling.best", 84.0, "%", Direction::higher_is_better},
            {"ceiling.mem.bandwidth.dram.sum.all_cores", 37.5, "GB/s", Direction::none}};
    }
    return sr;
}

}  // namespace

TEST_CASE("attention section: empty without attention results", "[attention_report]") {
    CHECK(assay::render_attention_section({}).empty());
    StoredResult other;
    other.result.bench_case.benchmark = "gemm.square";
    CHECK(assay::render_attention_section({other}).empty());
}

TEST_CASE("attention section: prefill speedup, ceiling and decode bytes", "[attention_report]") {
    StoredResult fused = prefill("cpu.flash", 150.0, "2048");
    fused.result.metrics.push_back(
        {"percent_of_ceiling.best", 75.0, "%", Direction::higher_is_better});
    fused.result.metrics.push_back({"ceiling.gemm.f32", 200.0, "GFLOP/s", Direction::none});
    const std::vector<StoredResult> results = {
        prefill("cpu.unfused.openblas", 60.0, "2048"),
        fused,
        prefill("cpu.unfused.blis", 75.0, "2048"),
        prefill("cpu.flash", 120.0, "512"),
        decode(ResultStatus::ok, ""),
        decode(ResultStatus::skipped, "working set | too big")};
    const std::string md = assay::render_attention_section(results);
    INFO(md);
    CHECK(md.find("Attention prefill") != std::string::npos);
    CHECK(md.find("Attention decode") != std::string::npos);
    // 150 / max(60, 75) = 2.00x against the faster unfused backend.
    CHECK(md.find("2.00× vs cpu.unfused.blis") != std::string::npos);
    CHECK(md.find("75.0 % of `gemm.f32` (200 GFLOP/s)") != std::string::npos);
    CHECK(md.find("| 0.15 | 0.135 |") != std::string::npos);  // TFLOP/s best, median
    // The S=512 fused row has no unfused partner: no speedup.
    CHECK(md.find("| 512 | f32 | true | cpu.flash | ok | 0.12 | 0.108 | - | - |") !=
          std::string::npos);
    // Rows sorted by sequence length: 512 before 2048.
    CHECK(md.find("| 512 |") < md.find("| 2048 |"));
    // Decode: K+V bytes from the params (2·8·65536·128·2 bytes = 256 MiB), GB/s and ceiling.
    CHECK(md.find("256 MiB") != std::string::npos);
    CHECK(md.find("| 31.5 | 30.4 |") != std::string::npos);
    CHECK(md.find("84.0 % of `mem.bandwidth.dram.sum.all_cores`") != std::string::npos);
    CHECK(md.find("skipped | - | - | - | working set \\| too big |") != std::string::npos);
    CHECK(md.find("unfused fp32 \\| openblas") != std::string::npos);
}

TEST_CASE("attention section: decode rows whose K+V fit in the LLC say so", "[attention_report]") {
    StoredResult in_cache = decode(ResultStatus::ok, "");
    in_cache.result.bench_case.params["kv_len"] = "4096";
    in_cache.result.metrics.push_back({"llc_bytes", 32.0 * 1024 * 1024, "bytes", Direction::none});
    in_cache.result.metrics.push_back({"kv_fits_in_llc", 1, "flag", Direction::none});
    StoredResult beyond = decode(ResultStatus::ok, "");
    beyond.result.metrics.push_back({"llc_bytes", 32.0 * 1024 * 1024, "bytes", Direction::none});
    const std::string md = assay::render_attention_section({in_cache, beyond});
    INFO(md);
    const std::string note = "(K+V fit in the 32 MiB LLC: a cache figure, not DRAM)";
    const auto first = md.find(note);
    REQUIRE(first != std::string::npos);
    CHECK(md.find(note, first + 1) == std::string::npos);  // only the 4096-key row
    CHECK(md.rfind("| 4096 |", first) != std::string::npos);
}
