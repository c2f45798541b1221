// GPU inventory through the CUDA runtime (static cudart: starts without a CUDA install).
// Compiled as C++17 by nvcc: includes only C++17-clean headers.
#include <cuda_runtime_api.h>

#include <cstdio>
#include <string>

#include "probes/gpu.hpp"

namespace assay::probes {
namespace {

std::string cuda_version(int v) {
    // CUDA encodes versions as 1000 * major + 10 * minor (13000 = 13.0).
    return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

std::string format_uuid(const cudaUUID_t& uuid) {
    char out[64] = {};
    const auto* b = reinterpret_cast<const unsigned char*>(uuid.bytes);
    std::snprintf(out, sizeof(out),
                  "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                  b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                  b[14], b[15]);
    return out;
}

std::optional<double> khz_attribute(cudaDeviceAttr attr, int device) {
    int khz = 0;
    if (cudaDeviceGetAttribute(&khz, attr, device) != cudaSuccess || khz <= 0) {
        return std::nullopt;
    }
    return static_cast<double>(khz) / 1000.0;
}

int int_attribute(cudaDeviceAttr attr, int device) {
    int value = 0;
    if (cudaDeviceGetAttribute(&value, attr, device) != cudaSuccess) {
        return 0;
    }
    return value;
}

}  // namespace

GpuInventory probe_gpus() {
    GpuInventory inventory;
    int driver = 0;
    if (cudaDriverGetVersion(&driver) == cudaSuccess && driver > 0) {
        inventory.driver_version = cuda_version(driver);
    }
    int runtime = 0;
    if (cudaRuntimeGetVersion(&runtime) == cudaSuccess) {
        inventory.runtime_version = cuda_version(runtime);
    }
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        // With the static runtime, "insufficient driver" also means "no driver at all": say
        // which, since the two call for different fixes.
        const bool no_driver = err == cudaErrorInsufficientDriver && driver == 0;
        inventory.none_reason =
            no_driver ? std::string("none detected: no NVIDIA driver (libcuda) on this host (") +
                            cudaGetErrorName(err) + ")"
                      : std::string("none detected: CUDA runtime reports ") +
                            cudaGetErrorString(err) + " (" + cudaGetErrorName(err) + ")";
        cudaGetLastError();  // clear the sticky-free error so later CUDA users start clean
        return inventory;
    }
    if (count == 0) {
        inventory.none_reason = "none detected: no CUDA device";
        return inventory;
    }
    for (int i = 0; i < count; ++i) {
        cudaDeviceProp prop{};
        if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) {
            continue;
        }
        GpuInfo gpu;
        gpu.index = i;
        gpu.name = prop.name;
        gpu.uuid = format_uuid(prop.uuid);
        char bus[32] = {};
        std::snprintf(bus, sizeof(bus), "%04x:%02x:%02x.0", static_cast<unsigned>(prop.pciDomainID),
                      static_cast<unsigned>(prop.pciBusID),
                      static_cast<unsigned>(prop.pciDeviceID));
        gpu.pci_bus_id = bus;
        gpu.memory_bytes = static_cast<std::uint64_t>(prop.totalGlobalMem);
        gpu.sm_count = prop.multiProcessorCount;
        gpu.cc_major = prop.major;
        gpu.cc_minor = prop.minor;
        // cudaDeviceProp.clockRate/memoryClockRate were removed in CUDA 13: use attributes.
        gpu.sm_clock_mhz = khz_attribute(cudaDevAttrClockRate, i);
        gpu.memory_clock_mhz = khz_attribute(cudaDevAttrMemoryClockRate, i);
        gpu.memory_bus_width_bits = int_attribute(cudaDevAttrGlobalMemoryBusWidth, i);
        inventory.gpus.push_back(gpu);
    }
    if (inventory.gpus.empty()) {
        inventory.none_reason = "none detected: cudaGetDeviceProperties failed for every device";
    }
    return inventory;
}

}  // namespace assay::probes
