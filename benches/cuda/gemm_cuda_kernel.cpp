#include "benches/cuda/gemm_cuda_kernel.hpp"

#include <stdexcept>

#include "core/error.hpp"

namespace assay {

CudaGemmKernel::CudaGemmKernel(const cuda::GemmProblem& problem, const cuda::GemmSetup& setup)
    : problem_(problem), setup_(setup) {}

CudaGemmKernel::~CudaGemmKernel() = default;

void CudaGemmKernel::prepare() {
    gemm_.reset();
    try {
        gemm_ = std::make_unique<cuda::CublasLtGemm>(problem_, setup_);
    } catch (const std::runtime_error& e) {
        throw Error(e.what());
    }
}

void CudaGemmKernel::run() {
    if (!gemm_) {
        throw Error("cuBLASLt GEMM: run() before prepare()");
    }
    try {
        last_seconds_ = gemm_->run_seconds();
    } catch (const std::runtime_error& e) {
        throw Error(e.what());
    }
}

Verification CudaGemmKernel::verify() {
    Verification v;
    if (!gemm_) {
        v.detail = "not prepared";
        return v;
    }
    try {
        v.ok = gemm_->verify(v.detail);
    } catch (const std::runtime_error& e) {
        v.ok = false;
        v.detail = e.what();
    }
    return v;
}

WorkModel CudaGemmKernel::work() const {
    const double ops = 2.0 * static_cast<double>(problem_.m) * static_cast<double>(problem_.n) *
                       static_cast<double>(problem_.k);
    WorkModel w;
    // Compulsory traffic: read A and B once, write C once.
    w.bytes_stream = static_cast<double>(problem_.matrix_bytes());
    if (problem_.dtype == cuda::GemmDtype::s8s8s32) {
        w.int_ops = ops;
    } else {
        w.flops = ops;
    }
    return w;
}

std::vector<Metric> CudaGemmKernel::extra_metrics() const {
    if (!gemm_) {
        return {};
    }
    return {Metric{"algo_first_choice_over_best", gemm_->first_choice_over_best(), "ratio",
                   Direction::none}};
}

std::string CudaGemmKernel::implementation() const {
    return gemm_ ? gemm_->implementation() : std::string{};
}

}  // namespace assay
