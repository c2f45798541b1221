#include "benches/catalog.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "benches/cpu/stream_triad.hpp"
#if ASSAY_HAVE_CUDA
#include "benches/cuda/stream_triad_cuda.hpp"
#endif

namespace assay {
namespace {

constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;
/// STREAM's rule: each array at least 4x the total last-level cache, so no run is cache-resident.
constexpr std::uint64_t kLlcFactor = 4;
/// LLC assumed when the probe could not determine it (large enough for current server parts).
constexpr std::uint64_t kAssumedLlcBytes = 64 * kMiB;
constexpr std::uint64_t kLineBytes = 64;

Metric context_metric(std::string name, double value, std::string unit) {
    return Metric{std::move(name), value, std::move(unit), Direction::none};
}

/// The cap on one benchmark's total working set; 0 = no cap known.
std::uint64_t working_set_cap_bytes(const HostInfo& host, const CatalogOptions& options) {
    if (options.max_working_set_bytes != 0) {
        return options.max_working_set_bytes;
    }
    if (host.topology.os_available_memory_bytes.has_value() &&
        *host.topology.os_available_memory_bytes != 0) {
        return *host.topology.os_available_memory_bytes / 4;
    }
    return host.topology.numa_memory_bytes / 4;
}

BenchmarkDef stream_triad_def(const HostInfo& host, const CatalogOptions& options,
                              const std::string& placement, std::vector<unsigned> pus,
                              std::vector<std::string> suites) {
    BenchmarkDef def;
    def.bench_case.benchmark = "stream.triad";
    def.bench_case.params = {{"dtype", "f64"}, {"placement", placement}, {"size", "dram"}};
    def.device = "cpu";
    def.backend = "cpu.native";
    def.suites = std::move(suites);
    def.aarch64 = "yes";
    if (pus.empty()) {
        def.skip_reason = "no cores in the probed topology";
        return def;
    }

    const std::uint64_t threads = pus.size();
    const std::uint64_t probed_llc = host.topology.total_llc_bytes();
    const bool llc_assumed = probed_llc == 0;
    const std::uint64_t llc = llc_assumed ? kAssumedLlcBytes : probed_llc;
    const std::uint64_t granule = threads * kLineBytes;  // every worker gets whole cache lines
    const std::uint64_t wanted = kLlcFactor * llc;
    std::uint64_t array_bytes = (wanted + granule - 1) / granule * granule;
    const std::uint64_t cap = working_set_cap_bytes(host, options);
    if (cap != 0 && 3 * array_bytes > cap) {
        array_bytes = cap / 3 / granule * granule;
    }
    if (array_bytes == 0) {
        def.skip_reason = fmt::format(
            "working-set cap of {} bytes is too small for 3 arrays of one cache line per thread "
            "({} threads)",
            cap, threads);
        return def;
    }

    def.context.push_back(context_metric("threads", static_cast<double>(threads), "threads"));
    def.context.push_back(context_metric("array_bytes", static_cast<double>(array_bytes), "bytes"));
    def.context.push_back(
        context_metric("working_set_bytes", static_cast<double>(3 * array_bytes), "bytes"));
    def.context.push_back(context_metric("llc_bytes", static_cast<double>(llc), "bytes"));
    if (llc_assumed) {
        def.context.push_back(context_metric("llc_bytes_assumed", 1, "flag"));
    }
    if (array_bytes < wanted) {
        def.context.push_back(context_metric("working_set_below_4x_llc", 1, "flag"));
    }

    const std::size_t elements = static_cast<std::size_t>(array_bytes / sizeof(double));
    def.make = [pus = std::move(pus), elements]() -> std::unique_ptr<Kernel> {
        return std::make_unique<StreamTriadKernel>(pus, elements);
    };
    return def;
}

/// Largest triad array on a GPU: 2^28 doubles (2 GiB; 6 GiB in all), far beyond any GPU's L2,
/// capped at a quarter of device memory for the three arrays.
constexpr std::uint64_t kMaxGpuTriadElements = std::uint64_t{1} << 28;

BenchmarkDef cuda_triad_base(int device) {
    BenchmarkDef def;
    def.bench_case.benchmark = "stream.triad";
    def.bench_case.params = {{"dtype", "f64"}, {"placement", "device"}, {"size", "dram"}};
    def.device = fmt::format("cuda:{}", device);
    def.backend = "cuda";
    def.suites = {"quick", "full"};
    def.aarch64 = "yes";  // CUDA code is host-architecture neutral (Grace Hopper, GB200)
    // Millisecond kernels on a quiet device: plenty of samples well within 5 s.
    def.sampling.max_seconds = 5.0;
    def.sampling.min_samples = 20;
    return def;
}

/// One triad per GPU; without GPUs (or without a CUDA build) one skipped entry that says why,
/// so the store records the absence instead of silently lacking a row.
void add_cuda_triads(const HostInfo& host, std::vector<BenchmarkDef>& defs) {
#if ASSAY_HAVE_CUDA
    if (host.gpu.gpus.empty()) {
        BenchmarkDef def = cuda_triad_base(0);
        def.skip_reason = host.gpu.none_reason.empty() ? "no CUDA GPU detected"
                                                       : "no CUDA GPU: " + host.gpu.none_reason;
        defs.push_back(std::move(def));
        return;
    }
    for (const GpuInfo& gpu : host.gpu.gpus) {
        BenchmarkDef def = cuda_triad_base(gpu.index);
        const std::uint64_t fit = gpu.memory_bytes / 4 / 3 / sizeof(double);
        const std::uint64_t elements = std::min(kMaxGpuTriadElements, fit);
        def.context.push_back(
            context_metric("array_bytes", static_cast<double>(elements * sizeof(double)), "bytes"));
        def.context.push_back(context_metric(
            "working_set_bytes", static_cast<double>(3 * elements * sizeof(double)), "bytes"));
        const int device = gpu.index;
        def.make = [device, elements]() -> std::unique_ptr<Kernel> {
            return std::make_unique<CudaStreamTriadKernel>(device,
                                                           static_cast<std::size_t>(elements));
        };
        defs.push_back(std::move(def));
    }
#else
    (void)host;
    BenchmarkDef def = cuda_triad_base(0);
    def.skip_reason = "built without CUDA (ASSAY_CUDA=OFF or nvcc not found)";
    defs.push_back(std::move(def));
#endif
}

}  // namespace

std::vector<BenchmarkDef> build_catalog(const HostInfo& host, const CatalogOptions& options) {
    std::vector<BenchmarkDef> defs;

    std::vector<unsigned> one_per_core;
    for (const CoreInfo& core : host.topology.core_list) {
        if (!core.pu_os_indices.empty()) {
            one_per_core.push_back(core.pu_os_indices.front());
        }
    }
    std::vector<unsigned> first_core;
    if (!one_per_core.empty()) {
        first_core.push_back(one_per_core.front());
    }
    defs.push_back(
        stream_triad_def(host, options, "all_cores", std::move(one_per_core), {"quick", "full"}));
    defs.push_back(stream_triad_def(host, options, "one_core", std::move(first_core), {"full"}));
    add_cuda_triads(host, defs);
    return defs;
}

}  // namespace assay
