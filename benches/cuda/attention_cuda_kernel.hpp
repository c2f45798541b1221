#pragma once
/// The CUDA attention kernels (benches/cuda/attention_cuda.hpp) as Kernels, device-timed with
/// CUDA events. Built only with CUDA; the header itself is plain C++ (no CUDA types).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "benches/attention_cases.hpp"
#include "benches/cuda/attention_cuda.hpp"
#include "benches/kernel.hpp"

namespace assay {

/// O[b][h][i][0..head_dim) of a device attention's latest run, as floats.
using AttentionRowReader =
    std::function<std::vector<float>(std::int64_t b, std::int64_t h, std::int64_t i)>;

/// The fp64 check shared by the CUDA attention backends: attention::verify_rows over
/// attention::sample_rows(c.shape), the host regenerating (attn_input_bits, seeds `seed`,
/// `seed + 1`, `seed + 2`) only the Q rows and K/V heads those rows read. `o_is_f32`: O is stored
/// in fp32 and products/softmax are fp32 (compute dtype f32); else O is stored in the input dtype
/// and P is rounded to it for P.V (compute dtype = the input dtype). Never throws: an error becomes
/// a failed Verification with the message.
Verification verify_cuda_attention(const attention::AttentionCase& c, cuda::AttnDtype dtype,
                                   std::uint64_t seed, bool o_is_f32,
                                   const AttentionRowReader& read_row);

/// One attention case (prefill: flash-2 on the tensor cores; decode: split-KV) on one CUDA
/// device. Inputs are the CPU suite's seeded values (same seeds, bit-identical), generated on the
/// device; verification is the shared fp64 check of sampled rows (attention::verify_rows), with
/// the host regenerating only the Q rows and K/V heads those rows read.
class CudaAttentionKernel final : public Kernel {
  public:
    /// `c` must use bf16 or f16 for Q and K/V (the same dtype); throws UsageError otherwise.
    CudaAttentionKernel(attention::AttentionCase c, int device, std::uint64_t seed = 0xA77E);
    ~CudaAttentionKernel() override;
    CudaAttentionKernel(const CudaAttentionKernel&) = delete;
    CudaAttentionKernel& operator=(const CudaAttentionKernel&) = delete;

    /// Allocates and fills the device tensors; throws Error with the CUDA error.
    void prepare() override;
    void run() override;
    /// Prefill: compute dtype = the input dtype (P is rounded to it for P.V) and O stored in it;
    /// decode: fp32 products and softmax (compute dtype f32), O fp32.
    Verification verify() override;
    /// flops: 4·B·H·D·unmasked pairs; decode also bytes_stream = K+V+Q read, O (fp32) written.
    WorkModel work() const override;
    std::optional<double> last_run_seconds() const override { return last_seconds_; }
    /// decode: kv_splits (the split-KV kernel's split count).
    std::vector<Metric> extra_metrics() const override;
    std::string implementation() const override;

    /// The prepared device attention (tests: corrupt_output_for_test); null before prepare().
    cuda::DeviceAttention* device_attention() { return attention_.get(); }
    /// The device problem this case maps to.
    const cuda::AttnProblem& problem() const { return problem_; }

  private:
    attention::AttentionCase case_;
    cuda::AttnProblem problem_;
    int device_ = 0;
    std::uint64_t seed_ = 0;
    std::unique_ptr<cuda::DeviceAttention> attention_;
    std::optional<double> last_seconds_;
};

}  // namespace assay
