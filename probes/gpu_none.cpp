// GPU inventory when Assay is built without CUDA.
#include "probes/gpu.hpp"

namespace assay::probes {

GpuInventory probe_gpus() {
    GpuInventory inventory;
    inventory.none_reason = "none detected: built without CUDA (ASSAY_CUDA=OFF or nvcc not found)";
    return inventory;
}

}  // namespace assay::probes
