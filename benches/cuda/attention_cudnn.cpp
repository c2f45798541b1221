// The cuDNN SDPA operation graph as plain data (see attention_cudnn.hpp). No cuDNN call here: it
// builds with and without CUDA, so the graph is unit-tested on hosts without a GPU.
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "benches/cuda/attention_cudnn.hpp"

namespace assay::cuda {
namespace {

using Dims = std::array<std::int64_t, 4>;

/// Row-major strides of `d`.
Dims packed(const Dims& d) {
    return {d[1] * d[2] * d[3], d[2] * d[3], d[3], 1};
}

/// Builds the graph one tensor and one op at a time; virtual uids count up from 100.
class Builder {
  public:
    CudnnSdpaGraph graph;

    std::int64_t real(std::int64_t uid, std::string name, CudnnType type, const Dims& dims,
                      const Dims& strides) {
        CudnnTensorSpec t;
        t.uid = uid;
        t.name = std::move(name);
        t.type = type;
        t.dims = dims;
        t.strides = strides;
        graph.tensors.push_back(std::move(t));
        return uid;
    }

    std::int64_t scalar(std::int64_t uid, std::string name, CudnnType type, double value) {
        CudnnTensorSpec t;
        t.uid = uid;
        t.name = std::move(name);
        t.type = type;
        t.dims = {1, 1, 1, 1};
        t.strides = {1, 1, 1, 1};
        t.by_value = true;
        t.value = value;
        graph.tensors.push_back(std::move(t));
        return uid;
    }

    std::int64_t virt(std::string name, CudnnType type, const Dims& dims) {
        CudnnTensorSpec t;
        t.uid = next_uid_++;
        t.name = std::move(name);
        t.type = type;
        t.dims = dims;
        t.strides = packed(dims);
        t.is_virtual = true;
        graph.tensors.push_back(std::move(t));
        return graph.tensors.back().uid;
    }

    void op(std::string name, CudnnOpKind kind, CudnnOpMode mode, CudnnType compute, std::int64_t x,
            std::int64_t b, std::int64_t t, std::int64_t y, std::int64_t axis = -1) {
        CudnnOpSpec o;
        o.name = std::move(name);
        o.kind = kind;
        o.mode = mode;
        o.compute = compute;
        o.x = x;
        o.b = b;
        o.t = t;
        o.y = y;
        o.axis = axis;
        graph.ops.push_back(std::move(o));
    }

    /// Pointwise y = mode(x[, b]) into a new virtual tensor of `type` with x's dims.
    std::int64_t pointwise(std::string name, CudnnOpMode mode, CudnnType compute, CudnnType type,
                           std::int64_t x, std::int64_t b, const Dims& dims) {
        const std::int64_t y = virt(name + ".out", type, dims);
        op(std::move(name), CudnnOpKind::pointwise, mode, compute, x, b, 0, y);
        return y;
    }

  private:
    std::int64_t next_uid_ = 100;
};

}  // namespace

const char* cudnn_type_name(CudnnType t) {
    switch (t) {
        case CudnnType::f32:
            return "FLOAT";
        case CudnnType::bf16:
            return "BFLOAT16";
        case CudnnType::f16:
            return "HALF";
        case CudnnType::i32:
            return "INT32";
        case CudnnType::boolean:
            return "BOOLEAN";
    }
    return "?";
}

const char* cudnn_mode_name(CudnnOpMode m) {
    switch (m) {
        case CudnnOpMode::none:
            return "MATMUL";
        case CudnnOpMode::mul:
            return "MUL";
        case CudnnOpMode::add:
            return "ADD";
        case CudnnOpMode::sub:
            return "SUB";
        case CudnnOpMode::div:
            return "DIV";
        case CudnnOpMode::exp:
            return "EXP";
        case CudnnOpMode::log:
            return "LOG";
        case CudnnOpMode::cmp_ge:
            return "CMP_GE";
        case CudnnOpMode::gen_index:
            return "GEN_INDEX";
        case CudnnOpMode::binary_select:
            return "BINARY_SELECT";
        case CudnnOpMode::reduce_max:
            return "REDUCE_MAX";
        case CudnnOpMode::reduce_add:
            return "REDUCE_ADD";
    }
    return "?";
}

const CudnnTensorSpec* CudnnSdpaGraph::find(std::int64_t uid) const {
    for (const CudnnTensorSpec& t : tensors) {
        if (t.uid == uid) {
            return &t;
        }
    }
    return nullptr;
}

std::string cudnn_sdpa_reason(const AttnProblem& p) {
    if (p.batch <= 0 || p.heads_q <= 0 || p.heads_kv <= 0 || p.seq_q <= 0 || p.seq_kv <= 0 ||
        p.head_dim <= 0) {
        return "empty attention shape";
    }
    if (p.heads_q % p.heads_kv != 0) {
        return "heads_q must be a multiple of heads_kv";
    }
    if (p.head_dim % 8 != 0 || p.head_dim > 128) {
        return "cuDNN SDPA (bf16/f16) takes head_dim a multiple of 8 up to 128, not " +
               std::to_string(p.head_dim);
    }
    // GEN_INDEX and the diagonal offset are INT32.
    constexpr std::int64_t kIntMax = std::numeric_limits<std::int32_t>::max();
    if (p.seq_q > kIntMax || p.seq_kv > kIntMax) {
        return "sequence lengths beyond INT32 do not fit cuDNN's index generator";
    }
    return {};
}

CudnnSdpaGraph describe_cudnn_sdpa(const AttnProblem& p) {
    const std::string why = cudnn_sdpa_reason(p);
    if (!why.empty()) {
        throw std::invalid_argument(why);
    }
    const CudnnType io = p.dtype == AttnDtype::bf16 ? CudnnType::bf16 : CudnnType::f16;
    const CudnnType f32 = CudnnType::f32;
    const std::int64_t b = p.batch;
    const std::int64_t hq = p.heads_q;
    const std::int64_t hk = p.heads_kv;
    const std::int64_t sq = p.seq_q;
    const std::int64_t skv = p.seq_kv;
    const std::int64_t d = p.head_dim;

    Builder g;
    const Dims q_dims{b, hq, sq, d};
    const std::int64_t q = g.real(kCudnnUidQ, "Q", io, q_dims, packed(q_dims));
    // Kᵀ: the row-major K [B][Hkv][Skv][D] read as [B][Hkv][D][Skv] by swapping the last two
    // dims and strides (no copy).
    const Dims k_dims{b, hk, skv, d};
    const Dims k_strides = packed(k_dims);
    const std::int64_t kt =
        g.real(kCudnnUidK, "K^T", io, {b, hk, d, skv}, {k_strides[0], k_strides[1], 1, d});
    const std::int64_t v = g.real(kCudnnUidV, "V", io, k_dims, k_strides);
    const std::int64_t o = g.real(kCudnnUidO, "O", io, q_dims, packed(q_dims));

    const Dims s_dims{b, hq, sq, skv};
    const Dims row_dims{b, hq, sq, 1};
    const std::int64_t s = g.virt("S", f32, s_dims);
    g.op("bmm1 Q.K^T", CudnnOpKind::matmul, CudnnOpMode::none, f32, q, kt, 0, s);

    const std::int64_t scale =
        g.scalar(kCudnnUidScale, "scale", f32, 1.0 / std::sqrt(static_cast<double>(d)));
    std::int64_t last = g.pointwise("attn_scale", CudnnOpMode::mul, f32, f32, s, scale, s_dims);

    if (p.causal) {
        std::int64_t row = g.virt("row_index", CudnnType::i32, s_dims);
        g.op("gen_row_index", CudnnOpKind::pointwise, CudnnOpMode::gen_index, CudnnType::i32, last,
             0, 0, row, 2);
        if (skv != sq) {
            // Bottom-right alignment: query i sees key j iff i + (Skv - Sq) >= j.
            const std::int64_t offset = g.scalar(kCudnnUidDiagonalOffset, "diagonal_offset",
                                                 CudnnType::i32, static_cast<double>(skv - sq));
            row = g.pointwise("row_plus_offset", CudnnOpMode::add, CudnnType::i32, CudnnType::i32,
                              row, offset, s_dims);
        }
        const std::int64_t col = g.virt("col_index", CudnnType::i32, s_dims);
        g.op("gen_col_index", CudnnOpKind::pointwise, CudnnOpMode::gen_index, CudnnType::i32, last,
             0, 0, col, 3);
        const std::int64_t keep = g.pointwise("row_ge_col", CudnnOpMode::cmp_ge, CudnnType::boolean,
                                              CudnnType::boolean, row, col, s_dims);
        const std::int64_t masked_value =
            g.scalar(kCudnnUidMaskValue, "mask_value", f32,
                     static_cast<double>(std::numeric_limits<float>::lowest()));
        const std::int64_t masked = g.virt("masked", f32, s_dims);
        g.op("causal_select", CudnnOpKind::pointwise, CudnnOpMode::binary_select, f32, last,
             masked_value, keep, masked);
        last = masked;
    }

    // Softmax, composed as cuDNN's fused engine expects it.
    const std::int64_t max = g.virt("max", f32, row_dims);
    g.op("softmax_max", CudnnOpKind::reduction, CudnnOpMode::reduce_max, f32, last, 0, 0, max);
    const std::int64_t sub =
        g.pointwise("softmax_sub", CudnnOpMode::sub, f32, f32, last, max, s_dims);
    const std::int64_t e = g.pointwise("softmax_exp", CudnnOpMode::exp, f32, f32, sub, 0, s_dims);
    const std::int64_t sum = g.virt("sum", f32, row_dims);
    g.op("softmax_sum", CudnnOpKind::reduction, CudnnOpMode::reduce_add, f32, e, 0, 0, sum);
    const std::int64_t log_sum =
        g.pointwise("softmax_log", CudnnOpMode::log, f32, f32, sum, 0, row_dims);
    g.pointwise("softmax_stats", CudnnOpMode::add, f32, f32, max, log_sum, row_dims);
    // P in the input dtype: bmm2's A operand must have the I/O type.
    const std::int64_t prob = g.pointwise("softmax_div", CudnnOpMode::div, f32, io, e, sum, s_dims);

    g.op("bmm2 P.V", CudnnOpKind::matmul, CudnnOpMode::none, f32, prob, v, 0, o);
    return std::move(g.graph);
}

}  // namespace assay::cuda
