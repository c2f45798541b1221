#pragma once
/// The CUDA STREAM triad as a Kernel (device-timed with CUDA events). Built only with CUDA.
#include <cstddef>
#include <memory>

#include "benches/kernel.hpp"

namespace assay {

namespace cuda {
class DeviceTriad;
}

class CudaStreamTriadKernel final : public Kernel {
  public:
    CudaStreamTriadKernel(int device, std::size_t elements_per_array);
    ~CudaStreamTriadKernel() override;
    void prepare() override;
    void run() override;
    Verification verify() override;
    WorkModel work() const override;
    std::optional<double> last_run_seconds() const override { return last_seconds_; }

  private:
    int device_;
    std::size_t elements_;
    std::unique_ptr<cuda::DeviceTriad> triad_;
    std::optional<double> last_seconds_;
};

}  // namespace assay
