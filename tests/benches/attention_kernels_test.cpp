#include "benches/cpu/attention/attention_kernels.hpp"

#include <sched.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "benches/cpu/attention/flash_cpu.hpp"

namespace at = assay::attention;

namespace {

std::vector<unsigned> allowed_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::vector<unsigned> out;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        for (unsigned c = 0; c < CPU_SETSIZE; ++c) {
            if (CPU_ISSET(c, &set)) {
                out.push_back(c);
            }
        }
    }
    return out;
}

at::AttentionCase make_case(at::Phase phase, at::Dtype q, at::Dtype kv, std::int64_t seq_q,
                            std::int64_t seq_kv, bool causal) {
    at::AttentionCase c;
    c.phase = phase;
    c.preset = "test";
    c.shape.batch = 2;
    c.shape.heads_q = 8;
    c.shape.heads_kv = 2;
    c.shape.head_dim = 64;
    c.shape.seq_q = seq_q;
    c.shape.seq_kv = seq_kv;
    c.shape.causal = causal;
    c.q_dtype = q;
    c.kv_dtype = kv;
    return c;
}

}  // namespace

TEST_CASE("attention flash kernel: verified prefill and decode, corruption detected",
          "[attention]") {
    const std::vector<unsigned> cpus = allowed_cpus();
    REQUIRE_FALSE(cpus.empty());
    std::vector<at::AttentionCase> cases;
    for (const at::Dtype d : {at::Dtype::f32, at::Dtype::bf16}) {
        for (const bool causal : {true, false}) {
            cases.push_back(make_case(at::Phase::prefill, d, d, 130, 130, causal));
        }
    }
    for (const auto& [q, kv] :
         {std::pair{at::Dtype::f32, at::Dtype::f32}, std::pair{at::Dtype::f32, at::Dtype::bf16},
          std::pair{at::Dtype::f32, at::Dtype::f16}, std::pair{at::Dtype::bf16, at::Dtype::bf16}}) {
        cases.push_back(make_case(at::Phase::decode, q, kv, 1, 1000, false));
    }
    for (const at::AttentionCase& c : cases) {
        const std::string reason = at::FlashAttentionCpu::skip_reason(c.q_dtype, c.kv_dtype);
        if (!reason.empty()) {
            // Unavailable here (bf16 without AVX512-BF16/AMX or Arm BF16): the reason names the
            // missing instructions, and the kernel refuses to prepare with it.
            CAPTURE(at::dtype_param(c.q_dtype), at::dtype_param(c.kv_dtype), reason);
            CHECK_THAT(reason, Catch::Contains("bf16"));
            assay::FlashAttentionKernel kernel(c, {cpus.front()});
            CHECK_THROWS_WITH(kernel.prepare(), reason);
            continue;
        }
        for (const std::vector<unsigned>& pus : {std::vector<unsigned>{cpus.front()}, cpus}) {
            CAPTURE(at::shape_label(c), at::dtype_param(c.q_dtype), at::dtype_param(c.kv_dtype),
                    pus.size());
            assay::FlashAttentionKernel kernel(c, pus);
            kernel.prepare();
            CHECK_FALSE(kernel.implementation().empty());
            CHECK(kernel.implementation().find("unmasked") != std::string::npos);
            kernel.run();
            const assay::Verification v = kernel.verify();
            INFO(v.detail);
            CHECK(v.ok);
            const assay::WorkModel w = kernel.work();
            CHECK(w.flops == at::attention_flops(c.shape));
            if (c.phase == at::Phase::decode) {
                CHECK(w.bytes_stream == at::decode_bytes(c.shape, c.q_dtype, c.kv_dtype));
            } else {
                CHECK(w.bytes_stream == 0);
            }
            // Element d=1 of query 0 of (batch 0, head 0): always a sampled row.
            kernel.corrupt_output_for_test(1, 0.5F);
            CHECK_FALSE(kernel.verify().ok);
            kernel.run();
            CHECK(kernel.verify().ok);
        }
    }
}
