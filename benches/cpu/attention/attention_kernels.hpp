#pragma once
/// Kernel classes (benches/kernel.hpp) of the CPU attention suite: the fused flash kernel
/// (prefill and split-K decode, benches/cpu/attention/flash_cpu.hpp) and the unfused reference
/// (per (batch, head): S = Q·Kᵀ through a BLAS sgemm, masked softmax, O = P·V through sgemm).
/// Inputs are seeded (attention_cases.hpp fill_random), first-touched by the pinned workers that
/// use them; verification is the shared fp64 check of sampled rows.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "benches/attention_cases.hpp"
#include "benches/kernel.hpp"

namespace assay {

/// The BLAS libraries the unfused reference runs through (dlopen'ed RTLD_LOCAL, as GEMM does).
enum class AttentionBlas { openblas, blis };
/// "openblas", "blis".
const char* to_string(AttentionBlas blas);
/// Both, in catalog order.
std::vector<AttentionBlas> attention_blas_all();
/// Empty when the library loads and has cblas_sgemm; else why not.
std::string attention_blas_skip_reason(AttentionBlas blas);

/// Bytes the fused kernel allocates: Q, K, V (in their dtypes) and O (fp32).
std::uint64_t fused_working_set_bytes(const attention::AttentionCase& c);
/// Bytes the unfused reference allocates: Q, K, V, O (fp32) and one S_q×S_kv fp32 score matrix
/// per worker thread.
std::uint64_t unfused_working_set_bytes(const attention::AttentionCase& c, unsigned threads);

/// The fused flash kernel for one case (prefill or decode), pinned to `pus` (one worker each).
class FlashAttentionKernel final : public Kernel {
  public:
    FlashAttentionKernel(attention::AttentionCase c, std::vector<unsigned> pus,
                         std::uint64_t seed = 0xA77E);
    ~FlashAttentionKernel() override;
    FlashAttentionKernel(const FlashAttentionKernel&) = delete;
    FlashAttentionKernel& operator=(const FlashAttentionKernel&) = delete;

    void prepare() override;
    void run() override;
    Verification verify() override;
    /// flops: 4·B·H·D·unmasked pairs; decode also bytes_stream = K+V+Q+O bytes.
    WorkModel work() const override;
    /// FlashAttentionCpu::prefill_implementation() or decode_implementation() (the phase of the
    /// case) plus the FLOP convention.
    std::string implementation() const override;

    /// Test seam: adds `delta` to element `index` of O (flat [B][H][S_q][D] index).
    void corrupt_output_for_test(std::size_t index, float delta = 1.0F);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// The unfused fp32 prefill reference through one BLAS. Work items are (batch, head) pairs run
/// in parallel over the pinned team, each with a 1-thread sgemm and its own S_q×S_kv score
/// matrix (the full matrix is computed and then masked, as an unfused implementation does; the
/// FLOP count still follows the unmasked-pairs convention). Throws UsageError for a non-fp32 or
/// decode case.
class UnfusedAttentionKernel final : public Kernel {
  public:
    UnfusedAttentionKernel(attention::AttentionCase c, AttentionBlas blas,
                           std::vector<unsigned> pus, std::uint64_t seed = 0xA77E);
    ~UnfusedAttentionKernel() override;
    UnfusedAttentionKernel(const UnfusedAttentionKernel&) = delete;
    UnfusedAttentionKernel& operator=(const UnfusedAttentionKernel&) = delete;

    void prepare() override;
    void run() override;
    Verification verify() override;
    WorkModel work() const override;
    std::string implementation() const override;

    /// Test seam: adds `delta` to element `index` of O (flat [B][H][S_q][D] index).
    void corrupt_output_for_test(std::size_t index, float delta = 1.0F);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace assay
