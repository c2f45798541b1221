#pragma once
/// cuDNN's SDPA (benches/cuda/attention_cudnn.hpp) as a Kernel: backend "cuda.cudnn" of the CUDA
/// attention suite, device-timed with CUDA events around each cudnnBackendExecute. Built only
/// with CUDA; the header itself is plain C++ (no CUDA or cuDNN types).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "benches/attention_cases.hpp"
#include "benches/cuda/attention_cuda.hpp"
#include "benches/cuda/attention_cudnn.hpp"
#include "benches/kernel.hpp"

namespace assay {

/// One attention case (prefill or decode, bf16 or f16) through cuDNN's fused SDPA on one CUDA
/// device. Inputs are the flash backend's (same seeds, bit-identical); verification is the same
/// fp64 sampled-row check (verify_cuda_attention, O stored in the input dtype, P rounded to it).
/// What cuDNN refuses here (library missing, no engine for the graph, plan not finalised)
/// surfaces from prepare() as UnsupportedError: a skipped result with cuDNN's reason.
class CudnnAttentionKernel final : public Kernel {
  public:
    /// `c` must use bf16 or f16 for Q and K/V (the same dtype) and a shape cuDNN SDPA takes
    /// (cuda::cudnn_sdpa_reason); throws UsageError otherwise.
    CudnnAttentionKernel(attention::AttentionCase c, int device, std::uint64_t seed = 0xA77E);
    ~CudnnAttentionKernel() override;
    CudnnAttentionKernel(const CudnnAttentionKernel&) = delete;
    CudnnAttentionKernel& operator=(const CudnnAttentionKernel&) = delete;

    /// Loads cuDNN, builds the graph and plan, allocates and fills the device tensors. Throws
    /// UnsupportedError for cuDNN's refusals, Error for CUDA errors.
    void prepare() override;
    void run() override;
    Verification verify() override;
    /// flops: 4·B·H·D·unmasked pairs; decode also bytes_stream = K+V+Q read, O written (input
    /// dtype).
    WorkModel work() const override;
    std::optional<double> last_run_seconds() const override { return last_seconds_; }
    /// cudnn_workspace_bytes: the workspace the execution plan asked for (device memory beyond
    /// Q, K, V and O).
    std::vector<Metric> extra_metrics() const override;
    std::string implementation() const override;

    /// The prepared cuDNN attention (tests: corrupt_output_for_test); null before prepare().
    cuda::CudnnSdpa* sdpa() { return sdpa_.get(); }
    /// The device problem this case maps to.
    const cuda::AttnProblem& problem() const { return problem_; }

  private:
    attention::AttentionCase case_;
    cuda::AttnProblem problem_;
    int device_ = 0;
    std::uint64_t seed_ = 0;
    std::unique_ptr<cuda::CudnnSdpa> sdpa_;
    std::optional<double> last_seconds_;
};

}  // namespace assay
