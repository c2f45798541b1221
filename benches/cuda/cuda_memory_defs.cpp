#include "benches/cuda/cuda_memory_defs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "benches/catalog_support.hpp"

#if ASSAY_HAVE_CUDA
#include "benches/cuda/gpu_memory_kernels.hpp"
#endif

namespace assay {
namespace {

constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;
/// Largest array of gpu.mem: 2^28 doubles (2 GiB), far beyond any GPU's L2; capped so the op's
/// arrays fit in a quarter of device memory (the CUDA triad's rule).
constexpr std::uint64_t kMaxGpuMemElements = std::uint64_t{1} << 28;
/// Bytes per direction of a host<->device or device<->device transfer. nvbandwidth's default is
/// 64 MiB; 256 MiB makes one copy last ~5 ms over PCIe 5 x16 (~50 GB/s) and ~0.6 ms over NVLink
/// 4 (~450 GB/s), far above event resolution and per-copy setup cost, while the pinned host
/// buffers (512 MiB for bidir) stay a small part of any GPU server's memory.
constexpr std::uint64_t kTransferBytes = 256 * kMiB;
/// Below this a transfer measures setup latency rather than bandwidth: skip instead.
constexpr std::uint64_t kMinTransferBytes = 4 * kMiB;
/// Host buffers are whole pages (binding and cudaHostRegister work on pages).
constexpr std::uint64_t kHostPageBytes = 4096;

constexpr const char* kDeviceOps[] = {"copy", "read", "write"};
constexpr const char* kDirections[] = {"h2d", "d2h", "bidir"};
constexpr const char* kHostNodes[] = {"local", "remote"};

std::vector<std::string> suites_for(bool quick) {
    return quick ? std::vector<std::string>{"quick", "full"} : std::vector<std::string>{"full"};
}

BenchmarkDef base_def(std::string benchmark, Params params, int device, bool quick) {
    BenchmarkDef def;
    def.bench_case.benchmark = std::move(benchmark);
    def.bench_case.params = std::move(params);
    def.device = fmt::format("cuda:{}", device);
    def.backend = "cuda";
    def.suites = suites_for(quick);
    def.aarch64 = "yes";  // CUDA code is host-architecture neutral (Grace Hopper, GB200)
    return def;
}

BenchmarkDef mem_base(const std::string& op, int device) {
    BenchmarkDef def =
        base_def("gpu.mem", {{"dtype", "f64"}, {"op", op}, {"size", "dram"}}, device, false);
    // Millisecond kernels on a quiet device: plenty of samples well within 5 s.
    def.sampling.max_seconds = 5.0;
    def.sampling.min_samples = 20;
    return def;
}

BenchmarkDef transfer_base(const std::string& direction, const std::string& host_node, int device) {
    const bool quick = direction == "h2d" && host_node == "local";
    BenchmarkDef def = base_def(
        "gpu.transfer", {{"direction", direction}, {"host_node", host_node}}, device, quick);
    // 256 MiB copies take milliseconds: 10+ samples in well under 3 s.
    def.sampling.max_seconds = 3.0;
    def.sampling.min_samples = 10;
    return def;
}

BenchmarkDef d2d_base(int src, int dst) {
    BenchmarkDef def = base_def(
        "gpu.d2d", {{"dst", std::to_string(dst)}, {"src", std::to_string(src)}}, src, false);
    def.sampling.max_seconds = 3.0;
    def.sampling.min_samples = 10;
    return def;
}

/// Every entry, skipped for one reason (no CUDA build, no GPU): the store records the absence.
void add_all_skipped(const std::string& reason, std::vector<BenchmarkDef>& defs) {
    for (const char* op : kDeviceOps) {
        BenchmarkDef def = mem_base(op, 0);
        def.skip_reason = reason;
        defs.push_back(std::move(def));
    }
    for (const char* direction : kDirections) {
        for (const char* node : kHostNodes) {
            BenchmarkDef def = transfer_base(direction, node, 0);
            def.skip_reason = reason;
            defs.push_back(std::move(def));
        }
    }
    BenchmarkDef def = d2d_base(0, 1);
    def.skip_reason = reason;
    defs.push_back(std::move(def));
}

/// local: the GPU's own NUMA node; on a one-node host with unknown affinity, that node.
TransferHostNode local_node(const HostInfo& host, const GpuInfo& gpu) {
    if (gpu.numa_node.has_value()) {
        return {gpu.numa_node, {}};
    }
    const auto& nodes = host.topology.numa_nodes;
    if (nodes.size() <= 1) {
        return {nodes.empty() ? 0U : nodes.front().os_index, {}};
    }
    return {std::nullopt,
            fmt::format("GPU NUMA affinity unknown (no hwloc locality for GPU {} at {}) on a host "
                        "with {} NUMA nodes",
                        gpu.index, gpu.pci_bus_id.empty() ? "an unknown bus id" : gpu.pci_bus_id,
                        nodes.size())};
}

/// remote: the first other node with CPUs and memory (another socket's DRAM, as nvbandwidth's
/// remote-host tests use). CPU-less nodes (HBM, CXL, a Grace Hopper GPU's memory) are not a
/// host socket's memory and are not chosen.
TransferHostNode remote_node(const HostInfo& host, const GpuInfo& gpu) {
    const auto& nodes = host.topology.numa_nodes;
    if (nodes.size() <= 1) {
        return {std::nullopt, "host has one NUMA node"};
    }
    const TransferHostNode local = local_node(host, gpu);
    if (!local.node.has_value()) {
        return local;
    }
    for (const NumaNodeInfo& n : nodes) {
        if (n.os_index != *local.node && n.local_memory_bytes > 0 && !n.pu_os_indices.empty()) {
            return {n.os_index, {}};
        }
    }
    return {std::nullopt,
            fmt::format("no NUMA node other than {} has both CPUs and memory", *local.node)};
}

#if ASSAY_HAVE_CUDA

using catalog::context_metric;
using catalog::working_set_cap_bytes;

std::uint64_t arrays_of(const std::string& op) {
    return op == "copy" ? 2 : 1;
}

cuda::DeviceMemOp device_op(const std::string& op) {
    if (op == "copy") {
        return cuda::DeviceMemOp::copy;
    }
    return op == "read" ? cuda::DeviceMemOp::read : cuda::DeviceMemOp::write;
}

cuda::TransferDirection transfer_direction(const std::string& direction) {
    if (direction == "h2d") {
        return cuda::TransferDirection::h2d;
    }
    return direction == "d2h" ? cuda::TransferDirection::d2h : cuda::TransferDirection::bidir;
}

void add_mem_defs(const GpuInfo& gpu, std::vector<BenchmarkDef>& defs) {
    for (const char* op_name : kDeviceOps) {
        const std::string op = op_name;
        BenchmarkDef def = mem_base(op, gpu.index);
        const std::uint64_t arrays = arrays_of(op);
        const std::uint64_t fit = gpu.memory_bytes / 4 / arrays / sizeof(double);
        const std::uint64_t elements = std::min(kMaxGpuMemElements, fit);
        if (elements == 0) {
            def.skip_reason = fmt::format("device memory size of GPU {} is unknown", gpu.index);
            defs.push_back(std::move(def));
            continue;
        }
        const auto array_bytes = static_cast<double>(elements * sizeof(double));
        def.context.push_back(context_metric("array_bytes", array_bytes, "bytes"));
        def.context.push_back(context_metric("working_set_bytes",
                                             array_bytes * static_cast<double>(arrays), "bytes"));
        if (gpu.numa_node.has_value()) {
            def.context.push_back(
                context_metric("gpu_numa_node", static_cast<double>(*gpu.numa_node), "node"));
        }
        const int device = gpu.index;
        const cuda::DeviceMemOp kind = device_op(op);
        def.make = [device, kind, elements]() -> std::unique_ptr<Kernel> {
            return std::make_unique<CudaDeviceMemoryKernel>(device, kind,
                                                            static_cast<std::size_t>(elements));
        };
        defs.push_back(std::move(def));
    }
}

void add_transfer_defs(const HostInfo& host, const CatalogOptions& options, const GpuInfo& gpu,
                       std::vector<BenchmarkDef>& defs) {
    const std::uint64_t cap = working_set_cap_bytes(host, options);
    for (const char* direction_name : kDirections) {
        const std::string direction = direction_name;
        const std::uint64_t buffers = direction == "bidir" ? 2 : 1;
        std::uint64_t bytes = kTransferBytes;
        if (cap != 0 && buffers * bytes > cap) {
            bytes = cap / buffers / kHostPageBytes * kHostPageBytes;
        }
        for (const char* host_node : kHostNodes) {
            BenchmarkDef def = transfer_base(direction, host_node, gpu.index);
            const TransferHostNode choice =
                transfer_host_node(host, gpu, std::string(host_node) == "remote");
            if (!choice.node.has_value()) {
                def.skip_reason = choice.skip_reason;
                defs.push_back(std::move(def));
                continue;
            }
            if (bytes < kMinTransferBytes) {
                def.skip_reason = fmt::format(
                    "working-set cap of {} bytes leaves less than {} MiB per host buffer", cap,
                    kMinTransferBytes / kMiB);
                defs.push_back(std::move(def));
                continue;
            }
            def.context.push_back(context_metric("bytes", static_cast<double>(bytes), "bytes"));
            def.context.push_back(
                context_metric("host_numa_node", static_cast<double>(*choice.node), "node"));
            if (gpu.numa_node.has_value()) {
                def.context.push_back(
                    context_metric("gpu_numa_node", static_cast<double>(*gpu.numa_node), "node"));
            }
            const int device = gpu.index;
            const cuda::TransferDirection kind = transfer_direction(direction);
            const unsigned node = *choice.node;
            const bool bind = host.topology.numa_nodes.size() > 1;
            def.make = [device, kind, node, bytes, bind]() -> std::unique_ptr<Kernel> {
                return std::make_unique<CudaHostTransferKernel>(
                    device, kind, node, static_cast<std::size_t>(bytes), bind);
            };
            defs.push_back(std::move(def));
        }
    }
}

void add_d2d_defs(const GpuInventory& inventory, std::vector<BenchmarkDef>& defs) {
    const auto& gpus = inventory.gpus;
    if (gpus.size() < 2) {
        BenchmarkDef def = d2d_base(gpus.empty() ? 0 : gpus.front().index,
                                    gpus.empty() ? 1 : gpus.front().index + 1);
        def.skip_reason = fmt::format("needs two GPUs; this host has {}", gpus.size());
        defs.push_back(std::move(def));
        return;
    }
    for (const GpuInfo& src : gpus) {
        for (const GpuInfo& dst : gpus) {
            if (src.index == dst.index) {
                continue;
            }
            BenchmarkDef def = d2d_base(src.index, dst.index);
            const std::uint64_t smaller = std::min(src.memory_bytes, dst.memory_bytes);
            const std::uint64_t bytes =
                std::min(kTransferBytes, smaller / 4 / kHostPageBytes * kHostPageBytes);
            if (bytes < kMinTransferBytes) {
                def.skip_reason =
                    fmt::format("device memory size of GPU {} or {} is unknown or too small",
                                src.index, dst.index);
                defs.push_back(std::move(def));
                continue;
            }
            def.context.push_back(context_metric("bytes", static_cast<double>(bytes), "bytes"));
            const int s = src.index;
            const int d = dst.index;
            def.make = [s, d, bytes]() -> std::unique_ptr<Kernel> {
                return std::make_unique<CudaPeerCopyKernel>(s, d, static_cast<std::size_t>(bytes));
            };
            defs.push_back(std::move(def));
        }
    }
}

#endif  // ASSAY_HAVE_CUDA

}  // namespace

TransferHostNode transfer_host_node(const HostInfo& host, const GpuInfo& gpu, bool remote) {
    return remote ? remote_node(host, gpu) : local_node(host, gpu);
}

void add_cuda_memory_defs(const HostInfo& host, const CatalogOptions& options,
                          std::vector<BenchmarkDef>& defs) {
#if ASSAY_HAVE_CUDA
    if (host.gpu.gpus.empty()) {
        add_all_skipped(host.gpu.none_reason.empty() ? "no CUDA GPU detected"
                                                     : "no CUDA GPU: " + host.gpu.none_reason,
                        defs);
        return;
    }
    for (const GpuInfo& gpu : host.gpu.gpus) {
        add_mem_defs(gpu, defs);
        add_transfer_defs(host, options, gpu, defs);
    }
    add_d2d_defs(host.gpu, defs);
#else
    (void)host;
    (void)options;
    add_all_skipped("built without CUDA (ASSAY_CUDA=OFF or nvcc not found)", defs);
#endif
}

}  // namespace assay
