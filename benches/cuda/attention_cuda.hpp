#pragma once
/// Fused scaled dot-product attention on a CUDA device, behind a C++17-clean interface (no CUDA
/// type appears here; attention_cuda.cu is the only file that sees them).
///
/// Two kernels:
///   prefill  FlashAttention-2 structure: one CTA per (64 query rows, query head, batch), four
///            warps of 16 query rows each, K/V tiles of 64 keys staged in shared memory with
///            cp.async double buffering, S = Q.K^T and O += P.V on the tensor cores
///            (mma.sync m16n8k16, bf16/fp16 inputs, fp32 accumulation), online softmax in
///            registers (P is rounded to the input dtype for the P.V product, as FlashAttention
///            does), causal tiles above the diagonal skipped. O is written in the input dtype
///            (as torch SDPA does).
///   decode   split-KV (flash-decoding): grid over (KV split, KV head, batch); each CTA streams
///            its KV chunk once through shared memory (cp.async, double buffered) for the whole
///            GQA group of query heads, writes a partial (max, sum, accumulator) per head, and a
///            second kernel reduces the splits into O (fp32). One query token per sequence.
///
/// Layouts are the CPU suite's (benches/cpu/attention/flash_cpu.hpp): row-major, contiguous
///   Q [batch][heads_q][seq_q][head_dim], K/V [batch][heads_kv][seq_kv][head_dim],
///   O [batch][heads_q][seq_q][head_dim];
/// query head h reads KV head h / (heads_q / heads_kv); the causal mask is bottom-right aligned
/// (query i sees key j iff j <= i + seq_kv - seq_q); scale = 1/sqrt(head_dim).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#if defined(__CUDACC__)
#define ASSAY_ATTN_HD __host__ __device__
#else
#define ASSAY_ATTN_HD
#endif

namespace assay::cuda {

/// Input (Q, K, V) element type of the CUDA attention kernels.
enum class AttnDtype { bf16, f16 };

/// "bf16" or "fp16" (the CPU suite's names).
const char* attn_dtype_name(AttnDtype d);

/// Keys per K/V tile of both kernels (Bc); the decode kernel splits the KV length in multiples.
inline constexpr std::int64_t kAttnBlockKeys = 64;

/// One attention problem (see the file comment for layouts and the mask).
struct AttnProblem {
    AttnDtype dtype = AttnDtype::bf16;
    bool decode = false;  ///< split-KV decode kernel (seq_q must be 1) instead of prefill
    std::int64_t batch = 1;
    std::int64_t heads_q = 1;
    std::int64_t heads_kv = 1;
    std::int64_t head_dim = 128;
    std::int64_t seq_q = 1;
    std::int64_t seq_kv = 1;
    bool causal = false;

    std::int64_t q_elements() const { return batch * heads_q * seq_q * head_dim; }
    std::int64_t kv_elements() const { return batch * heads_kv * seq_kv * head_dim; }
    /// Bytes of Q, K, V and O on the device (O fp32 for decode, the input dtype for prefill)
    /// plus the decode kernel's partial states.
    std::uint64_t device_bytes() const {
        const auto q = static_cast<std::uint64_t>(q_elements());
        const auto kv = static_cast<std::uint64_t>(kv_elements());
        std::uint64_t bytes = (q + 2 * kv) * 2 + q * (decode ? 4 : 2);
        if (decode) {
            // Partials: at most one split per key tile, head_dim + 2 floats each.
            const auto tiles =
                static_cast<std::uint64_t>((seq_kv + kAttnBlockKeys - 1) / kAttnBlockKeys);
            bytes += static_cast<std::uint64_t>(batch * heads_q) * tiles *
                     static_cast<std::uint64_t>(head_dim + 2) * 4;
        }
        return bytes;
    }
};

/// Query heads per KV head the decode kernel supports at most.
inline constexpr std::int64_t kAttnDecodeMaxGroup = 8;

/// Why the kernels cannot run `p` (empty when they can): head_dim not 64 or 128, heads_q not a
/// multiple of heads_kv, a GQA group above 8 for decode, decode with seq_q != 1, empty sizes,
/// sizes beyond the grid limits.
inline std::string attn_problem_reason(const AttnProblem& p) {
    if (p.batch <= 0 || p.heads_q <= 0 || p.heads_kv <= 0 || p.seq_q <= 0 || p.seq_kv <= 0) {
        return "empty attention shape";
    }
    if (p.head_dim != 64 && p.head_dim != 128) {
        return "the CUDA attention kernels support head_dim 64 and 128, not " +
               std::to_string(p.head_dim);
    }
    if (p.heads_q % p.heads_kv != 0) {
        return "heads_q must be a multiple of heads_kv";
    }
    constexpr std::int64_t kIntMax = 0x7fffffff;
    if (p.seq_q > kIntMax || p.seq_kv > kIntMax || p.heads_q > 65535 || p.batch > 65535) {
        return "attention shape exceeds the CUDA kernels' grid limits";
    }
    if (p.decode) {
        if (p.seq_q != 1) {
            return "the CUDA decode kernel takes one query token per sequence";
        }
        if (p.heads_q / p.heads_kv > kAttnDecodeMaxGroup) {
            return "the CUDA decode kernel supports GQA groups of up to 8 query heads per KV head";
        }
    }
    return {};
}

/// Element `index` of a seeded input tensor as raw bf16/fp16 bits, on the host and on the
/// device: bit-identical to attention::fill_random(data, bf16|f16, ..., seed)
/// (benches/attention_cases.cpp: uniform [-1, 1) from 24 bits of splitmix64(seed * C + index),
/// rounded to nearest even), so the CPU and CUDA backends of a case see the same numbers. A unit
/// test compares the two.
ASSAY_ATTN_HD inline std::uint16_t attn_input_bits(AttnDtype d, std::uint64_t seed,
                                                   std::uint64_t index) {
    std::uint64_t x = seed * 0xD1B54A32D192ED03ULL + index + 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30U)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27U)) * 0x94D049BB133111EBULL;
    x = x ^ (x >> 31U);
    const float f =
        static_cast<float>(static_cast<std::uint32_t>(x >> 40U)) * (2.0F / 16777216.0F) - 1.0F;
    std::uint32_t u = 0;
    std::memcpy(&u, &f, sizeof u);
    if (d == AttnDtype::bf16) {
        return static_cast<std::uint16_t>((u + 0x7FFFU + ((u >> 16U) & 1U)) >> 16U);
    }
    const auto sign = static_cast<std::uint16_t>((u >> 16U) & 0x8000U);
    const std::uint32_t abs = u & 0x7FFFFFFFU;  // |f| <= 1: no overflow, no NaN
    if (abs < 0x38800000U) {                    // below 2^-14: subnormal half (or zero)
        float a = 0;
        std::memcpy(&a, &abs, sizeof a);
#if defined(__CUDA_ARCH__)
        const float r = rintf(a * 16777216.0F);
#else
        const float r = std::rint(a * 16777216.0F);
#endif
        return static_cast<std::uint16_t>(sign | static_cast<std::uint16_t>(r));
    }
    const std::uint32_t rebias = abs - 0x38000000U;
    return static_cast<std::uint16_t>(sign | ((rebias + 0x0FFFU + ((rebias >> 13U) & 1U)) >> 13U));
}

/// A prepared attention on one device. Not thread-safe. Every method throws std::runtime_error
/// with the CUDA error on failure.
class DeviceAttention {
  public:
    /// Allocates Q, K, V, O (and the decode partials and an L2-flush buffer for decode) on
    /// `device`; O starts as NaN. Throws std::invalid_argument with attn_problem_reason() when it
    /// is not empty.
    DeviceAttention(const AttnProblem& problem, int device);
    ~DeviceAttention();
    DeviceAttention(const DeviceAttention&) = delete;
    DeviceAttention& operator=(const DeviceAttention&) = delete;

    /// Generates Q, K and V on the device with attn_input_bits from seeds `seed`, `seed + 1`
    /// and `seed + 2` (the CPU suite's convention).
    void fill_inputs(std::uint64_t seed);
    /// One blocking attention; its CUDA-event duration in seconds (decode: both kernels; the
    /// L2 flush before decode runs outside the timed region).
    double run_seconds();
    /// O[b][h][i][0..head_dim) of the latest run, as floats.
    std::vector<float> output_row(std::int64_t b, std::int64_t h, std::int64_t i);
    /// Overwrites O[b][h][i][d] with `value` (tests of the verification path).
    void corrupt_output_for_test(std::int64_t b, std::int64_t h, std::int64_t i, std::int64_t d,
                                 float value);
    /// KV splits of the decode kernel (1 for prefill).
    int splits() const;
    /// "flash-2 prefill mma.sync m16n8k16 bf16->fp32, Br=64 Bc=64 D=128, 4 warps, cp.async x2,
    /// sm_90 (NVIDIA H100 80GB HBM3)".
    std::string implementation() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace assay::cuda
