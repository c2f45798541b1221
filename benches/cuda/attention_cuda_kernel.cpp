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

Verification verify_cuda_attention(const attention::AttentionCase& c, cuda::AttnDtype dtype,
                                   std::uint64_t seed, bool o_is_f32,
                                   const AttentionRowReader& read_row) {
    Verification v;
    try {
        const attention::Shape& s = c.shape;
        const Dtype in = c.q_dtype;
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
                kv.first = seeded_slice(dtype, seed + 1, base, kv_count);
                kv.second = seeded_slice(dtype, seed + 2, base, kv_count);
            }
            const auto q_base = static_cast<std::uint64_t>((b * s.heads_q + h)) * q_count;
            const std::vector<std::uint16_t> q = seeded_slice(dtype, seed, q_base, q_count);
            // O rows of this head at their place in a [seq_q][D] slice (other rows NaN, never
            // read), stored in fp32 or the input dtype.
            const Dtype o_dtype = o_is_f32 ? Dtype::f32 : in;
            std::vector<float> o_f32;
            std::vector<std::uint16_t> o_half;
            if (o_is_f32) {
                o_f32.assign(q_count, std::numeric_limits<float>::quiet_NaN());
            } else {
                o_half.assign(q_count, 0x7FFF);
            }
            for (const attention::RowIndex& r : list) {
                const std::vector<float> row = read_row(r.batch, r.head, r.query);
                for (std::int64_t j = 0; j < d; ++j) {
                    const auto at = static_cast<std::size_t>(r.query * d + j);
                    const float x = row[static_cast<std::size_t>(j)];
                    if (o_is_f32) {
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
                o_is_f32 ? static_cast<const void*>(o_f32.data()) : o_half.data(), o_dtype, 0, 0,
                d};
            const Dtype compute = o_is_f32 ? Dtype::f32 : in;
            attention::AttentionCheck check =
                attention::verify_rows(s, compute, qv, kview, vview, ov, list);
            rows += check.rows_checked;
            ok = ok && check.ok;
            // Report the first failing group, else the one closest to its tolerance.
            if (!have_worst || (!check.ok && worst.ok) ||
                (check.ok == worst.ok &&
                 check.worst_tolerance_ratio > worst.worst_tolerance_ratio)) {
                worst = std::move(check);
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
    if (!attention_) {
        return Verification{false, "not prepared"};
    }
    return verify_cuda_attention(case_, problem_.dtype, seed_, problem_.decode,
                                 [this](std::int64_t b, std::int64_t h, std::int64_t i) {
                                     return attention_->output_row(b, h, i);
                                 });
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
