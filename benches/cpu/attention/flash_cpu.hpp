#pragma once
/// Fused CPU attention (FlashAttention-2 style): softmax(Q·Kᵀ·scale + mask)·V computed tile by
/// tile with an online softmax, so no S_q×S_kv matrix is ever materialised. Two entry points:
/// prefill (parallel over batch × query heads × query blocks) and decode (one or a few query
/// tokens against a long KV cache: the KV length is split across the team's threads and the
/// partial softmax states are reduced at the end, so one sequence uses every core).
///
/// Layouts (row-major, contiguous, no padding):
///   Q [batch][heads_q][seq_q][head_dim]     in q_dtype
///   K [batch][heads_kv][seq_kv][head_dim]   in kv_dtype
///   V [batch][heads_kv][seq_kv][head_dim]   in kv_dtype
///   O [batch][heads_q][seq_q][head_dim]     fp32
/// Query head h reads KV head h / (heads_q / heads_kv) (GQA; heads_q % heads_kv == 0).
/// Causal mask, bottom-right aligned (FlashAttention ≥ 2.1): query i sees key j iff
/// j <= i + (seq_kv - seq_q). With seq_q == seq_kv this is the usual lower triangle.
/// scale = 1/sqrt(head_dim). Accumulation is fp32 whatever the input dtype.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace assay {

class ThreadTeam;

namespace attention {

enum class Dtype { f32, bf16, f16 };
/// "fp32", "bf16", "fp16".
const char* to_string(Dtype d);
/// Bytes per element.
std::size_t dtype_bytes(Dtype d);

struct Shape {
    std::int64_t batch = 1;
    std::int64_t heads_q = 1;
    std::int64_t heads_kv = 1;
    std::int64_t head_dim = 128;
    std::int64_t seq_q = 1;
    std::int64_t seq_kv = 1;
    bool causal = false;
};

struct Tensors {
    const void* q = nullptr;
    const void* k = nullptr;
    const void* v = nullptr;
    float* o = nullptr;
};

/// Kernel family. `best` picks the fastest one this CPU and build support; the others force one
/// (tests cover every path that way). portable: plain C++ (the compiler may auto-vectorise it),
/// runs everywhere and emulates bf16 in fp32; avx512: x86-64 AVX-512F (+ AVX512-BF16 for bf16);
/// neon: aarch64 Advanced SIMD (+ BF16 BFDOT for bf16 when FEAT_BF16 is present); sve: aarch64
/// SVE at the CPU's vector length when it is 128, 256 or 512 bits (+ SVE BF16 for bf16), named
/// e.g. "sve256" / "sve256+bf16" in the implementation strings.
enum class Path { best, portable, avx512, neon, sve };
/// "best", "portable", "avx512", "neon", "sve".
const char* to_string(Path p);

/// A prepared fused attention for one shape, dtype pair and team size: chooses the SIMD path
/// for this CPU once, and owns the per-thread scratch (tiles, split-K partial states).
/// One prefill()/decode() call at a time per object (the scratch is reused); the caller's
/// tensors are only read (q, k, v) and written (o) during the call.
class FlashAttentionCpu {
  public:
    /// Throws UsageError for an invalid shape (heads_q % heads_kv != 0, non-positive sizes,
    /// head_dim not in {64, 128, 256}) or a dtype pair this build/CPU cannot run (see
    /// skip_reason). Supported: prefill q=kv in {f32, bf16}; decode q=f32 with kv in
    /// {f32, bf16, f16}, and q=bf16 with kv=bf16.
    /// Causal with seq_q > seq_kv (query rows that see no key) is a UsageError too.
    /// `path` other than best forces that kernel family; UsageError if this CPU cannot run it
    /// for the dtype pair (portable always can).
    FlashAttentionCpu(const Shape& shape, Dtype q_dtype, Dtype kv_dtype, unsigned threads,
                      Path path = Path::best);
    ~FlashAttentionCpu();
    FlashAttentionCpu(const FlashAttentionCpu&) = delete;
    FlashAttentionCpu& operator=(const FlashAttentionCpu&) = delete;

    /// Empty when this CPU and build can run the dtype pair; else a one-line reason
    /// (e.g. "bf16 needs AVX512-BF16 or AMX on x86, or BF16 (FEAT_BF16) on aarch64").
    static std::string skip_reason(Dtype q_dtype, Dtype kv_dtype);

    /// The kernel families this CPU and build can run for the dtype pair, best first (always
    /// ends with portable). Empty when the pair itself is unsupported.
    static std::vector<Path> available_paths(Dtype q_dtype, Dtype kv_dtype);

    /// Prefill: every query row of every (batch, head), tiles spread over the team.
    /// Blocks until done. team.size() must equal `threads` (else UsageError), and q_dtype must
    /// equal kv_dtype (else UsageError).
    void prefill(const Tensors& t, ThreadTeam& team);
    /// Decode: for each (batch, head) the KV length is split into team.size() chunks (or more),
    /// each thread computes partial (max, sum, acc) states, then they are reduced. Blocks.
    void decode(const Tensors& t, ThreadTeam& team);

    /// Query positions per prefill work item (the item stacks the heads_q / heads_kv query heads
    /// that share one KV head, so it has that many times more rows), and keys per KV tile.
    std::int64_t prefill_block_rows() const;
    std::int64_t kv_block() const;
    /// KV chunks each (batch, KV head) is split into by decode (≥ 1).
    std::int64_t decode_chunks() const;

    /// What prefill() runs, e.g. "flash prefill fp32 avx512f Br=16 Bc=64 (4 q heads per kv
    /// head stacked)".
    std::string prefill_implementation() const;
    /// What decode() runs, e.g. "flash decode split-K q fp32 kv bf16 avx512f chunks=2 per
    /// (batch, kv head), tile=1024 keys, sequential K/V walk (hardware prefetch)", or on the
    /// narrow-vector path "..., tile=64 keys, L2 prefetch 256 keys ahead".
    std::string decode_implementation() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace attention
}  // namespace assay
