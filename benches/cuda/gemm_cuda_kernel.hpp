#pragma once
/// The cuBLASLt GEMM as a Kernel (device-timed with CUDA events). Built only with CUDA; the header
/// itself is plain C++ (no CUDA types).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "benches/cuda/gemm_cublaslt.hpp"
#include "benches/kernel.hpp"

namespace assay {

/// C = A.B on one CUDA device through cuBLASLt (see benches/cuda/gemm_cublaslt.hpp for the
/// dtypes, layouts, algorithm choice and verification tolerances).
class CudaGemmKernel final : public Kernel {
  public:
    CudaGemmKernel(const cuda::GemmProblem& problem, const cuda::GemmSetup& setup);
    ~CudaGemmKernel() override;
    /// Allocates and fills the inputs and picks the fastest heuristic algorithm; throws Error
    /// (e.g. "cuBLASLt has no algorithm for ...") when the GEMM cannot run here.
    void prepare() override;
    void run() override;
    Verification verify() override;
    /// flops = 2 M N K for float dtypes; int_ops = 2 M N K for s8s8s32.
    WorkModel work() const override;
    std::optional<double> last_run_seconds() const override { return last_seconds_; }
    /// algo_first_choice_over_best: the heuristic's first choice time over the chosen one's.
    std::vector<Metric> extra_metrics() const override;
    std::string implementation() const override;

    /// The prepared GEMM (tests: corrupt_output_for_test); null before prepare().
    cuda::CublasLtGemm* gemm() { return gemm_.get(); }

  private:
    cuda::GemmProblem problem_;
    cuda::GemmSetup setup_;
    std::unique_ptr<cuda::CublasLtGemm> gemm_;
    std::optional<double> last_seconds_;
};

}  // namespace assay
