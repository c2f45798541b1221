// The cuDNN SDPA backend without a GPU: the operation graph as data (dims, strides, uids, ops
// for causal GQA prefill and decode), the static support rules, the loader's failure messages
// and, in a CUDA build, that the kernel refuses bad cases and fails cleanly without a device.
#include "benches/cuda/attention_cudnn.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "benches/attention_cases.hpp"
#include "benches/cuda/attention_cuda_defs.hpp"
#include "core/error.hpp"

#if ASSAY_HAVE_CUDNN
#include "benches/cuda/attention_cudnn_kernel.hpp"
#endif

namespace {

using assay::cuda::AttnDtype;
using assay::cuda::AttnProblem;
using assay::cuda::CudnnOpKind;
using assay::cuda::CudnnOpMode;
using assay::cuda::CudnnOpSpec;
using assay::cuda::CudnnSdpaGraph;
using assay::cuda::CudnnTensorSpec;
using assay::cuda::CudnnType;
using Dims = std::array<std::int64_t, 4>;

AttnProblem problem(AttnDtype dtype, std::int64_t b, std::int64_t hq, std::int64_t hkv,
                    std::int64_t d, std::int64_t sq, std::int64_t skv, bool causal) {
    AttnProblem p;
    p.dtype = dtype;
    p.decode = sq == 1;
    p.batch = b;
    p.heads_q = hq;
    p.heads_kv = hkv;
    p.head_dim = d;
    p.seq_q = sq;
    p.seq_kv = skv;
    p.causal = causal;
    return p;
}

const CudnnTensorSpec& tensor(const CudnnSdpaGraph& g, std::int64_t uid) {
    const CudnnTensorSpec* t = g.find(uid);
    INFO("uid " << uid);
    REQUIRE(t != nullptr);
    return *t;
}

std::vector<const CudnnOpSpec*> ops_with(const CudnnSdpaGraph& g, CudnnOpMode mode) {
    std::vector<const CudnnOpSpec*> out;
    for (const CudnnOpSpec& op : g.ops) {
        if (op.mode == mode) {
            out.push_back(&op);
        }
    }
    return out;
}

/// Structural rules every graph obeys: unique uids, every op's operands exist and are produced
/// before use (ops in dependency order), virtual tensors are never by-value, and exactly the
/// expected non-virtual tensors exist.
void check_well_formed(const CudnnSdpaGraph& g, const std::set<std::int64_t>& real) {
    std::set<std::int64_t> uids;
    std::set<std::int64_t> available;
    std::set<std::int64_t> non_virtual;
    for (const CudnnTensorSpec& t : g.tensors) {
        INFO(t.name);
        CHECK(uids.insert(t.uid).second);
        CHECK_FALSE((t.is_virtual && t.by_value));
        if (!t.is_virtual) {
            non_virtual.insert(t.uid);
            available.insert(t.uid);
        }
        for (int i = 0; i < 4; ++i) {
            CHECK(t.dims[static_cast<std::size_t>(i)] > 0);
            CHECK(t.strides[static_cast<std::size_t>(i)] > 0);
        }
    }
    CHECK(non_virtual == real);
    std::set<std::int64_t> outputs;
    for (const CudnnOpSpec& op : g.ops) {
        INFO(op.name);
        CHECK(available.count(op.x) == 1);
        if (op.b != 0) {
            CHECK(available.count(op.b) == 1);
        }
        if (op.t != 0) {
            CHECK(available.count(op.t) == 1);
        }
        REQUIRE(g.find(op.y) != nullptr);
        CHECK(outputs.insert(op.y).second);  // each tensor produced once
        available.insert(op.y);
    }
}

}  // namespace

TEST_CASE("cudnn sdpa graph: causal GQA prefill", "[attention_cuda][cudnn]") {
    // llama3_8b-like: 32 query heads over 8 KV heads, D 128, S 512.
    const CudnnSdpaGraph g =
        assay::cuda::describe_cudnn_sdpa(problem(AttnDtype::bf16, 2, 32, 8, 128, 512, 512, true));
    check_well_formed(
        g, {assay::cuda::kCudnnUidQ, assay::cuda::kCudnnUidK, assay::cuda::kCudnnUidV,
            assay::cuda::kCudnnUidO, assay::cuda::kCudnnUidScale, assay::cuda::kCudnnUidMaskValue});

    const auto& q = tensor(g, assay::cuda::kCudnnUidQ);
    CHECK(q.type == CudnnType::bf16);
    CHECK(q.dims == Dims{2, 32, 512, 128});
    CHECK(q.strides == Dims{32 * 512 * 128, 512 * 128, 128, 1});
    // Kᵀ: K [2][8][512][128] row-major, read as [B][Hkv][D][Skv] with swapped strides.
    const auto& kt = tensor(g, assay::cuda::kCudnnUidK);
    CHECK(kt.dims == Dims{2, 8, 128, 512});
    CHECK(kt.strides == Dims{8 * 512 * 128, 512 * 128, 1, 128});
    const auto& v = tensor(g, assay::cuda::kCudnnUidV);
    CHECK(v.dims == Dims{2, 8, 512, 128});
    CHECK(v.strides == Dims{8 * 512 * 128, 512 * 128, 128, 1});
    const auto& o = tensor(g, assay::cuda::kCudnnUidO);
    CHECK(o.type == CudnnType::bf16);
    CHECK(o.dims == q.dims);
    CHECK(o.strides == q.strides);

    const auto& scale = tensor(g, assay::cuda::kCudnnUidScale);
    CHECK(scale.by_value);
    CHECK(scale.type == CudnnType::f32);
    CHECK(scale.value == Approx(1.0 / std::sqrt(128.0)));
    const auto& mask = tensor(g, assay::cuda::kCudnnUidMaskValue);
    CHECK(mask.by_value);
    CHECK(mask.value == static_cast<double>(std::numeric_limits<float>::lowest()));
    // Top-left and bottom-right coincide when Sq == Skv: no diagonal offset.
    CHECK(g.find(assay::cuda::kCudnnUidDiagonalOffset) == nullptr);

    // The op sequence cuDNN's fused flash-attention engine matches.
    std::vector<std::string> modes;
    for (const CudnnOpSpec& op : g.ops) {
        modes.emplace_back(assay::cuda::cudnn_mode_name(op.mode));
    }
    CHECK(modes == std::vector<std::string>{"MATMUL", "MUL", "GEN_INDEX", "GEN_INDEX", "CMP_GE",
                                            "BINARY_SELECT", "REDUCE_MAX", "SUB", "EXP",
                                            "REDUCE_ADD", "LOG", "ADD", "DIV", "MATMUL"});
    const CudnnOpSpec& bmm1 = g.ops.front();
    CHECK(bmm1.kind == CudnnOpKind::matmul);
    CHECK(bmm1.x == assay::cuda::kCudnnUidQ);
    CHECK(bmm1.b == assay::cuda::kCudnnUidK);
    CHECK(bmm1.compute == CudnnType::f32);
    const auto& s = tensor(g, bmm1.y);
    CHECK(s.is_virtual);
    CHECK(s.type == CudnnType::f32);
    CHECK(s.dims == Dims{2, 32, 512, 512});
    CHECK(s.strides == Dims{32 * 512 * 512, 512 * 512, 512, 1});

    const auto index = ops_with(g, CudnnOpMode::gen_index);
    REQUIRE(index.size() == 2);
    CHECK(index[0]->axis == 2);  // row (query)
    CHECK(index[1]->axis == 3);  // column (key)
    CHECK(tensor(g, index[0]->y).type == CudnnType::i32);
    const auto ge = ops_with(g, CudnnOpMode::cmp_ge);
    REQUIRE(ge.size() == 1);
    CHECK(ge[0]->x == index[0]->y);  // row >= col keeps the score
    CHECK(ge[0]->b == index[1]->y);
    CHECK(tensor(g, ge[0]->y).type == CudnnType::boolean);
    const auto select = ops_with(g, CudnnOpMode::binary_select);
    REQUIRE(select.size() == 1);
    CHECK(select[0]->t == ge[0]->y);
    CHECK(select[0]->b == assay::cuda::kCudnnUidMaskValue);

    const auto max = ops_with(g, CudnnOpMode::reduce_max);
    REQUIRE(max.size() == 1);
    CHECK(max[0]->x == select[0]->y);
    CHECK(tensor(g, max[0]->y).dims == Dims{2, 32, 512, 1});
    CHECK(tensor(g, max[0]->y).strides == Dims{32 * 512, 512, 1, 1});
    // P in the I/O dtype feeds bmm2; O is bmm2's output.
    const CudnnOpSpec& bmm2 = g.ops.back();
    CHECK(bmm2.kind == CudnnOpKind::matmul);
    CHECK(bmm2.b == assay::cuda::kCudnnUidV);
    CHECK(bmm2.y == assay::cuda::kCudnnUidO);
    const auto& p = tensor(g, bmm2.x);
    CHECK(p.is_virtual);
    CHECK(p.type == CudnnType::bf16);
    CHECK(ops_with(g, CudnnOpMode::div).front()->y == bmm2.x);
}

TEST_CASE("cudnn sdpa graph: decode, f16, and a bottom-right causal offset",
          "[attention_cuda][cudnn]") {
    // Decode: one query token, no mask.
    const CudnnSdpaGraph d =
        assay::cuda::describe_cudnn_sdpa(problem(AttnDtype::f16, 8, 32, 8, 128, 1, 16384, false));
    check_well_formed(d, {assay::cuda::kCudnnUidQ, assay::cuda::kCudnnUidK, assay::cuda::kCudnnUidV,
                          assay::cuda::kCudnnUidO, assay::cuda::kCudnnUidScale});
    CHECK(tensor(d, assay::cuda::kCudnnUidQ).dims == Dims{8, 32, 1, 128});
    CHECK(tensor(d, assay::cuda::kCudnnUidQ).type == CudnnType::f16);
    CHECK(tensor(d, assay::cuda::kCudnnUidK).dims == Dims{8, 8, 128, 16384});
    CHECK(ops_with(d, CudnnOpMode::gen_index).empty());
    CHECK(ops_with(d, CudnnOpMode::binary_select).empty());
    CHECK(d.ops.size() == 10);
    CHECK(tensor(d, d.ops.back().x).type == CudnnType::f16);

    // Causal with Sq < Skv: the row index is shifted by Skv - Sq before the compare.
    const CudnnSdpaGraph c =
        assay::cuda::describe_cudnn_sdpa(problem(AttnDtype::bf16, 1, 4, 4, 64, 96, 320, true));
    const auto& offset = tensor(c, assay::cuda::kCudnnUidDiagonalOffset);
    CHECK(offset.by_value);
    CHECK(offset.type == CudnnType::i32);
    CHECK(offset.value == 224.0);
    const auto adds = ops_with(c, CudnnOpMode::add);
    REQUIRE(adds.size() == 2);  // the offset, and softmax stats = max + log(sum)
    CHECK(adds[0]->b == assay::cuda::kCudnnUidDiagonalOffset);
    CHECK(adds[0]->compute == CudnnType::i32);
    const auto ge = ops_with(c, CudnnOpMode::cmp_ge);
    REQUIRE(ge.size() == 1);
    CHECK(ge[0]->x == adds[0]->y);
}

TEST_CASE("cudnn sdpa: shapes outside cuDNN's SDPA are refused with a reason",
          "[attention_cuda][cudnn]") {
    using assay::cuda::cudnn_sdpa_reason;
    CHECK(cudnn_sdpa_reason(problem(AttnDtype::bf16, 1, 8, 2, 128, 64, 64, true)).empty());
    // A multiple of 8 the flash kernels do not take is fine for cuDNN.
    CHECK(cudnn_sdpa_reason(problem(AttnDtype::bf16, 1, 8, 2, 72, 64, 64, true)).empty());
    CHECK(cudnn_sdpa_reason(problem(AttnDtype::bf16, 1, 8, 2, 100, 64, 64, true))
              .find("multiple of 8") != std::string::npos);
    CHECK(
        cudnn_sdpa_reason(problem(AttnDtype::bf16, 1, 8, 2, 256, 64, 64, true)).find("up to 128") !=
        std::string::npos);
    CHECK(cudnn_sdpa_reason(problem(AttnDtype::bf16, 1, 8, 3, 128, 64, 64, true))
              .find("multiple of heads_kv") != std::string::npos);
    CHECK(cudnn_sdpa_reason(problem(AttnDtype::bf16, 0, 8, 2, 128, 64, 64, true)) ==
          "empty attention shape");
    CHECK_THROWS_AS(
        assay::cuda::describe_cudnn_sdpa(problem(AttnDtype::bf16, 1, 8, 3, 128, 64, 64, true)),
        std::invalid_argument);

    assay::attention::AttentionCase c;
    c.phase = assay::attention::Phase::decode;
    c.shape = {1, 64, 4, 128, 1, 4096, false};  // GQA group 16: beyond the flash decode kernel
    c.q_dtype = assay::attention::Dtype::bf16;
    c.kv_dtype = assay::attention::Dtype::bf16;
    std::string why;
    const auto p = assay::cudnn_attention_problem(c, why);
    REQUIRE(p);
    CHECK(p->decode);
    CHECK(p->heads_q == 64);
    c.q_dtype = assay::attention::Dtype::f32;
    CHECK_FALSE(assay::cudnn_attention_problem(c, why));
    CHECK(why.find("both bf16 or both f16") != std::string::npos);
}

#if ASSAY_HAVE_CUDNN
TEST_CASE("cudnn loader: a bogus path or a library without cuDNN's symbols says why",
          "[attention_cuda][cudnn]") {
    std::string why;
    CHECK_FALSE(assay::cuda::cudnn_loadable_from("/nonexistent/dir/libcudnn.so.9", why));
    CHECK(why.find("/nonexistent/dir/libcudnn.so.9 not found: ") == 0);
    CHECK(why.size() > std::string("/nonexistent/dir/libcudnn.so.9 not found: ").size());
    CHECK_FALSE(assay::cuda::cudnn_loadable_from("libm.so.6", why));
    CHECK(why == "libm.so.6 lacks cudnnGetVersion");

    // This host's own cuDNN, when it has one, is a 9.x release with every entry point.
    std::string own;
    if (assay::cuda::cudnn_loadable(own)) {
        CHECK(own.empty());
        CHECK(assay::cuda::cudnn_version() / 10000 == 9);
    } else {
        CHECK(own.find("libcudnn") != std::string::npos);
        CHECK(assay::cuda::cudnn_version() == 0);
    }
}

TEST_CASE("cudnn kernel: refuses fp32 cases, and fails cleanly where nothing can run",
          "[attention_cuda][cudnn]") {
    assay::attention::AttentionCase c;
    c.phase = assay::attention::Phase::prefill;
    c.shape = {1, 4, 2, 64, 64, 64, true};
    c.q_dtype = assay::attention::Dtype::f32;
    c.kv_dtype = assay::attention::Dtype::f32;
    CHECK_THROWS_AS(assay::CudnnAttentionKernel(c, 0), assay::UsageError);

    c.q_dtype = assay::attention::Dtype::bf16;
    c.kv_dtype = assay::attention::Dtype::bf16;
    assay::CudnnAttentionKernel k(c, 0);
    CHECK_FALSE(k.verify().ok);  // not prepared
    CHECK_THROWS_AS(k.run(), assay::Error);
    CHECK(k.implementation().empty());
    CHECK(k.extra_metrics().empty());
    CHECK(k.work().flops == Approx(assay::attention::attention_flops(c.shape)));
    // Without a GPU (this CI host) prepare() throws an assay::Error with the cause (cuDNN or
    // CUDA), never crashes; on a GPU host it prepares.
    try {
        k.prepare();
        CHECK(k.sdpa() != nullptr);
    } catch (const assay::Error& e) {
        CHECK(std::string(e.what()).find("cuDNN") != std::string::npos);
        CHECK(k.sdpa() == nullptr);
    }
}
#endif
