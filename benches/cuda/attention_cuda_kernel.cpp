#include "benches/cuda/attention_cuda_kernel.hpp"

#include <fmt/format.h>

#include <limits>
#include <map>
#include <stdexcept>
#include <utility>

#include "benches/cuda/attention_cuda_defs.hpp"
#include "core/error.hpp"

namespace assay {
namespace {

using attention::Dtype;

/// Host copy of a seeded input's elements [begin, begin + count) as raw 16-bit values.
std::vector<std::uint16_t> seeded_slice(cuda::AttnDtype d, std::uint64_t seed, std::uint64_t begin,
                                        std::uint64_t count) {
    std::vector<std::uint16_t> out(count);
    for (std::uint64_t i = 0; i < count; ++i) {
        out[i] = cuda::attn_input_bits(d, seed, begin + i);
    }
    return out;
}

}  // namespace

CudaAttentionKernel::CudaAttentionKernel(attention::AttentionCase c, int device, std::uint64_t seed)
    : case_(std::move(c)), device_(device), seed_(seed) {
    std::string why;
    const auto p = cuda_attention_problem(case_, why);
    if (!p) {
        throw UsageError(fmt::format("CUDA attention: {}", why));
    }
    problem_ = *p;
}

CudaAttentionKernel::~CudaAttentionKernel() = default;

void CudaAttentionKernel::prepare() {
    attention_.reset();
    try {
        attention_ = std::make_unique<cuda::DeviceAttention>(problem_, device_);
        attention_->fill_inputs(seed_);
    } catch (const std::exception& e) {
        attention_.reset();
        throw Error(e.what());
    }
}

void CudaAttentionKernel::run() {
    if (!attention_) {
        throw Error("CUDA attention: run() before prepare()");
    }
    try {
        last_seconds_ = attention_->run_seconds();
    } catch (const std::runtime_error& e) {
        throw Error(e.what());
    }
}

Verification CudaAttentionKernel::verify() {
    Verification v;
    if (!attention_) {
        v.detail = "not prepared";
        return v;
    }
    try {
        const attention::Shape& s = case_.shape;
        const Dtype in = case_.q_dtype;
        const std::int64_t d = s.head_dim;
        const std::int64_t group = s.heads_q / s.heads_kv;
        // Rows grouped by (batch, head): one Q head, its KV head and the sampled O rows at a
        // time, so the host regenerates only what the reference reads.
        std::map<std::pair<std::int64_t, std::int64_t>, std::vector<attention::RowIndex>> groups;
        for (const attention::RowIndex& r : attention::sample_rows(s)) {
            groups[{r.batch, r.head}].push_back(r);
        }
        const auto kv_count = static_cast<std::uint64_t>(s.seq_kv * d);
        const auto q_count = static_cast<std::uint64_t>(s.seq_q * d);
        std::map<std::pair<std::int64_t, std::int64_t>,
                 std::pair<std::vector<std::uint16_t>, std::vector<std::uint16_t>>>
            kv_cache;
        bool ok = true;
        std::size_t rows = 0;
        attention::AttentionCheck worst;
        bool have_worst = false;
        for (const auto& [bh, list] : groups) {
            const auto [b, h] = bh;
            const std::int64_t hk = h / group;
            auto& kv = kv_cache[{b, hk}];
            if (kv.first.empty()) {
                const auto base = static_cast<std::uint64_t>((b * s.heads_kv + hk)) * kv_count;
                kv.first = seeded_slice(problem_.dtype, seed_ + 1, base, kv_count);
                kv.second = seeded_slice(problem_.dtype, seed_ + 2, base, kv_count);
            }
            const auto q_base = static_cast<std::uint64_t>((b * s.heads_q + h)) * q_count;
            const std::vector<std::uint16_t> q =
                seeded_slice(problem_.dtype, seed_, q_base, q_count);
            // O rows of this head at their place in a [seq_q][D] slice (other rows NaN, never
            // read); prefill O is stored in the input dtype, decode O in fp32.
            const Dtype o_dtype = problem_.decode ? Dtype::f32 : in;
            std::vector<float> o_f32;
            std::vector<std::uint16_t> o_half;
            if (problem_.decode) {
                o_f32.assign(q_count, std::numeric_limits<float>::quiet_NaN());
            } else {
                o_half.assign(q_count, 0x7FFF);
            }
            for (const attention::RowIndex& r : list) {
                const std::vector<float> row = attention_->output_row(r.batch, r.head, r.query);
                for (std::int64_t j = 0; j < d; ++j) {
                    const auto at = static_cast<std::size_t>(r.query * d + j);
                    const float x = row[static_cast<std::size_t>(j)];
                    if (problem_.decode) {
                        o_f32[at] = x;
                    } else {
                        // Exact: x came from a value of this dtype.
                        o_half[at] = in == Dtype::bf16 ? attention::float_to_bf16_bits(x)
                                                       : attention::float_to_fp16_bits(x);
                    }
                }
            }
            // Views with zero batch/head strides: every (b, h) of the rows maps onto the slices.
            const attention::TensorView qv{q.data(), in, 0, 0, d};
            const attention::TensorView kview{kv.first.data(), in, 0, 0, d};
            const attention::TensorView vview{kv.second.data(), in, 0, 0, d};
            const attention::TensorView ov{
                problem_.decode ? static_cast<const void*>(o_f32.data()) : o_half.data(), o_dtype,
                0, 0, d};
            const Dtype compute = problem_.decode ? Dtype::f32 : in;
            attention::AttentionCheck c =
                attention::verify_rows(s, compute, qv, kview, vview, ov, list);
            rows += c.rows_checked;
            ok = ok && c.ok;
            // Report the first failing group, else the one closest to its tolerance.
            if (!have_worst || (!c.ok && worst.ok) ||
                (c.ok == worst.ok && c.worst_tolerance_ratio > worst.worst_tolerance_ratio)) {
                worst = std::move(c);
                have_worst = true;
            }
        }
        v.ok = ok;
        v.detail = fmt::format("{} rows in {} (batch, head) groups; worst group: {}", rows,
                               groups.size(), worst.detail);
    } catch (const std::exception& e) {
        v.ok = false;
        v.detail = e.what();
    }
    return v;
}

WorkModel CudaAttentionKernel::work() const {
    WorkModel w;
    w.flops = attention::attention_flops(case_.shape);
    if (problem_.decode) {
        w.bytes_stream = attention::decode_bytes(case_.shape, case_.q_dtype, case_.kv_dtype);
    }
    return w;
}

std::vector<Metric> CudaAttentionKernel::extra_metrics() const {
    if (!attention_ || !problem_.decode) {
        return {};
    }
    return {
        Metric{"kv_splits", static_cast<double>(attention_->splits()), "splits", Direction::none}};
}

std::string CudaAttentionKernel::implementation() const {
    if (!attention_) {
        return {};
    }
    return attention_->implementation() + "; FLOP convention 4·B·H·D·unmasked pairs";
}

}  // namespace assay
