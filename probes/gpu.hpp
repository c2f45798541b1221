#pragma once
/// Private to probes: the GPU inventory (CUDA runtime when built with CUDA, else a stub).
/// C++17-clean on purpose: gpu_cuda.cu includes it and nvcc compiles .cu files as C++17.
#include "core/host_info.hpp"

namespace assay::probes {

/// Lists CUDA devices; never throws for "no driver / no device", which is data (none_reason).
GpuInventory probe_gpus();

}  // namespace assay::probes
