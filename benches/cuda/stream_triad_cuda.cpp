#include "benches/cuda/stream_triad_cuda.hpp"

#include <stdexcept>

#include "benches/cuda/triad_cuda.hpp"
#include "core/error.hpp"

namespace assay {

CudaStreamTriadKernel::CudaStreamTriadKernel(int device, std::size_t elements_per_array)
    : device_(device), elements_(elements_per_array) {}

CudaStreamTriadKernel::~CudaStreamTriadKernel() = default;

void CudaStreamTriadKernel::prepare() {
    try {
        triad_ = std::make_unique<cuda::DeviceTriad>(device_, elements_);
    } catch (const std::runtime_error& e) {
        throw Error(e.what());
    }
}

void CudaStreamTriadKernel::run() {
    try {
        last_seconds_ = triad_->run_seconds();
    } catch (const std::runtime_error& e) {
        throw Error(e.what());
    }
}

Verification CudaStreamTriadKernel::verify() {
    Verification v;
    try {
        v.ok = triad_->verify(v.detail);
    } catch (const std::runtime_error& e) {
        v.ok = false;
        v.detail = e.what();
    }
    return v;
}

WorkModel CudaStreamTriadKernel::work() const {
    const auto n = static_cast<double>(elements_);
    // Same conventions as the CPU triad; GPUs do not write-allocate from DRAM, but the
    // with-write-allocate figure is kept under its explicit name for comparability.
    return {3 * 8 * n, 4 * 8 * n, 2 * n};
}

}  // namespace assay
