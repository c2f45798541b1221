// GPU tests of the CUDA attention kernels (label gpu): run only where a CUDA device exists;
// elsewhere the executable exits 77, which CTest reports as *skipped* with the reason.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "benches/attention_cases.hpp"
#include "benches/cuda/attention_cuda.hpp"
#include "benches/cuda/attention_cuda_kernel.hpp"
#include "benches/cuda/triad_cuda.hpp"
#include "core/error.hpp"
#include "tests/benches/gpu_test_support.hpp"

#if ASSAY_HAVE_CUDNN
#include "benches/cuda/attention_cudnn_kernel.hpp"
#endif

namespace {

using assay::attention::AttentionCase;
using assay::attention::Dtype;
using assay::attention::Phase;

AttentionCase make_case(Phase phase, Dtype dtype, assay::attention::Shape shape) {
    AttentionCase c;
    c.phase = phase;
    c.preset = "test";
    c.shape = shape;
    c.q_dtype = dtype;
    c.kv_dtype = dtype;
    return c;
}

/// Small prefill shapes: aligned, ragged (partial Q and KV tiles), GQA 1/4/8, D 64/128,
/// causal with seq_q < seq_kv (bottom-right mask), batch > 1.
std::vector<assay::attention::Shape> prefill_shapes() {
    return {
        {1, 4, 1, 128, 256, 256, true}, {1, 4, 1, 128, 256, 256, false},
        {2, 8, 2, 64, 200, 200, true},  {1, 2, 2, 128, 77, 77, false},
        {1, 8, 1, 128, 96, 320, true},  {2, 4, 4, 64, 130, 130, true},
    };
}

/// Small decode shapes: one split and several, ragged KV lengths, groups 1/4/8, D 64/128.
std::vector<assay::attention::Shape> decode_shapes() {
    return {
        {1, 8, 2, 128, 1, 1024, false}, {3, 8, 1, 128, 1, 4133, false},
        {2, 4, 4, 64, 1, 300, false},   {1, 16, 2, 64, 1, 8192, false},
        {1, 4, 4, 128, 1, 37, false},
    };
}

}  // namespace

TEST_CASE("cuda attention: prefill verifies for bf16 and f16", "[gpu][attention]") {
    for (const Dtype dtype : {Dtype::bf16, Dtype::f16}) {
        for (const auto& s : prefill_shapes()) {
            INFO(assay::attention::dtype_param(dtype)
                 << " B" << s.batch << " H" << s.heads_q << "/" << s.heads_kv << " D" << s.head_dim
                 << " Sq" << s.seq_q << " Skv" << s.seq_kv << (s.causal ? " causal" : ""));
            assay::CudaAttentionKernel k(make_case(Phase::prefill, dtype, s), 0);
            k.prepare();
            CHECK(k.implementation().find("flash-2") != std::string::npos);
            assay::test::run_prepared_and_verify(k, 2);
            CHECK(k.work().flops == Approx(assay::attention::attention_flops(s)));
        }
    }
}

TEST_CASE("cuda attention: decode verifies for bf16 and f16", "[gpu][attention]") {
    for (const Dtype dtype : {Dtype::bf16, Dtype::f16}) {
        for (const auto& s : decode_shapes()) {
            INFO(assay::attention::dtype_param(dtype)
                 << " B" << s.batch << " H" << s.heads_q << "/" << s.heads_kv << " D" << s.head_dim
                 << " KV" << s.seq_kv);
            assay::CudaAttentionKernel k(make_case(Phase::decode, dtype, s), 0);
            k.prepare();
            CHECK(k.implementation().find("split-KV") != std::string::npos);
            assay::test::run_prepared_and_verify(k, 2);
            CHECK(k.work().bytes_stream == Approx(assay::attention::decode_bytes(s, dtype, dtype)));
            REQUIRE(k.extra_metrics().size() == 1);
            CHECK(k.extra_metrics()[0].value >= 1);
        }
    }
}

TEST_CASE("cuda attention: a corrupted output element fails verification", "[gpu][attention]") {
    const assay::attention::Shape prefill{1, 4, 2, 128, 128, 128, true};
    const assay::attention::Shape decode{2, 8, 2, 128, 1, 2048, false};
    for (const auto& [phase, shape] :
         {std::pair{Phase::prefill, prefill}, std::pair{Phase::decode, decode}}) {
        assay::CudaAttentionKernel k(make_case(phase, Dtype::bf16, shape), 0);
        k.prepare();
        k.run();
        REQUIRE(k.verify().ok);
        // Row 0 of (batch 0, head 0) is always sampled; +3 is far outside any tolerance
        // (|O| <= max |v| <= 1).
        auto* dev = k.device_attention();
        REQUIRE(dev != nullptr);
        const float was = dev->output_row(0, 0, 0)[5];
        dev->corrupt_output_for_test(0, 0, 0, 5, was + 3.0F);
        const auto v = k.verify();
        INFO(v.detail);
        CHECK_FALSE(v.ok);
        // A fresh run overwrites the corruption.
        k.run();
        CHECK(k.verify().ok);
    }
}

TEST_CASE("cuda attention: a NaN output fails verification", "[gpu][attention]") {
    assay::CudaAttentionKernel k(
        make_case(Phase::prefill, Dtype::f16, {1, 2, 1, 64, 64, 64, false}), 0);
    k.prepare();
    k.run();
    REQUIRE(k.verify().ok);
    const auto last = k.device_attention()->output_row(0, 1, 63);
    CHECK(std::isfinite(last[0]));
    k.device_attention()->corrupt_output_for_test(0, 1, 63, 0, std::nanf(""));
    CHECK_FALSE(k.verify().ok);
}

#if ASSAY_HAVE_CUDNN
namespace {

/// Prepares `k`; false (after printing cuDNN's reason) when cuDNN refuses the case here, which
/// the harness records as a skip.
bool prepare_or_skip(assay::CudnnAttentionKernel& k) {
    try {
        k.prepare();
        return true;
    } catch (const assay::UnsupportedError& e) {
        std::printf("cuDNN skipped: %s\n", e.what());
        WARN("cuDNN skipped: " << e.what());
        return false;
    }
}

}  // namespace

TEST_CASE("cudnn attention: causal GQA prefill and decode verify (or skip with cuDNN's reason)",
          "[gpu][attention][cudnn]") {
    const std::vector<std::pair<Phase, assay::attention::Shape>> cases = {
        {Phase::prefill, {1, 8, 2, 128, 256, 256, true}},   // GQA 4, causal
        {Phase::prefill, {2, 4, 4, 64, 130, 130, true}},    // ragged tiles, batch 2
        {Phase::prefill, {1, 8, 1, 128, 96, 320, true}},    // bottom-right mask (Sq < Skv)
        {Phase::prefill, {1, 4, 2, 128, 200, 200, false}},  // no mask
        {Phase::decode, {2, 8, 2, 128, 1, 1024, false}},    // one query token
    };
    int ran = 0;
    for (const Dtype dtype : {Dtype::bf16, Dtype::f16}) {
        for (const auto& [phase, s] : cases) {
            INFO(assay::attention::dtype_param(dtype)
                 << " B" << s.batch << " H" << s.heads_q << "/" << s.heads_kv << " D" << s.head_dim
                 << " Sq" << s.seq_q << " Skv" << s.seq_kv << (s.causal ? " causal" : ""));
            assay::CudnnAttentionKernel k(make_case(phase, dtype, s), 0);
            if (!prepare_or_skip(k)) {
                continue;
            }
            ++ran;
            std::printf("cuDNN: %s\n", k.implementation().c_str());
            CHECK(k.implementation().find("cuDNN") != std::string::npos);
            assay::test::run_prepared_and_verify(k, 2);
            REQUIRE(k.extra_metrics().size() == 1);
            CHECK(k.extra_metrics()[0].name == "cudnn_workspace_bytes");
        }
    }
    std::printf("cuDNN SDPA ran %d of %zu cases\n", ran, 2 * cases.size());
}

TEST_CASE("cudnn attention: a corrupted or NaN output fails verification",
          "[gpu][attention][cudnn]") {
    assay::CudnnAttentionKernel k(
        make_case(Phase::prefill, Dtype::bf16, {1, 8, 2, 128, 128, 128, true}), 0);
    if (!prepare_or_skip(k)) {
        return;
    }
    k.run();
    const auto first = k.verify();
    INFO(first.detail);
    REQUIRE(first.ok);
    auto* dev = k.sdpa();
    REQUIRE(dev != nullptr);
    // Row 0 of (batch 0, head 0) is always sampled; +3 is far outside any tolerance.
    const float was = dev->output_row(0, 0, 0)[5];
    dev->corrupt_output_for_test(0, 0, 0, 5, was + 3.0F);
    CHECK_FALSE(k.verify().ok);
    k.run();  // a fresh run overwrites the corruption
    CHECK(k.verify().ok);
    dev->corrupt_output_for_test(0, 7, 127, 0, std::nanf(""));
    CHECK_FALSE(k.verify().ok);
}
#endif

int main(int argc, char** argv) {
    if (assay::test::skip_without_gpu()) {
        return assay::test::kSkipExitCode;
    }
    return Catch::Session().run(argc, argv);
}
