#include "benches/catalog.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <utility>

#include "benches/catalog_support.hpp"
#include "benches/cpu/attention/attention_defs.hpp"
#include "benches/cpu/gemm/gemm_defs.hpp"
#include "benches/cpu/latency_defs.hpp"
#include "benches/cpu/placement.hpp"
#include "benches/cpu/stream_kernels.hpp"
#include "benches/cpu/stream_triad.hpp"
#include "benches/cpu/topology_defs.hpp"
#include "benches/cuda/attention_cuda_defs.hpp"
#include "benches/cuda/cuda_memory_defs.hpp"
#include "benches/cuda/gemm_cuda_defs.hpp"
#if ASSAY_HAVE_CUDA
#include "benches/cuda/stream_triad_cuda.hpp"
#endif

namespace assay {
namespace {

using catalog::context_metric;
using catalog::kLineBytes;
using catalog::working_set_cap_bytes;

/// One STREAM kernel variant of the catalog's DRAM-sized family.
struct StreamVariant {
    StreamOp op;
    StoreKind stores;
};

/// Case parameters of a DRAM-sized STREAM case. Backward compatibility: the original
/// "stream.triad" cases (regular stores) were stored without a `stores` parameter, and stored
/// results match on the canonical case, so regular-store triad keeps exactly {dtype, placement,
/// size}. Every other variant names its stores (regular|nt); sum stores nothing and has none.
Params stream_params(StreamVariant v, const std::string& placement) {
    Params params = {{"dtype", "f64"}, {"placement", placement}, {"size", "dram"}};
    const bool legacy_triad = v.op == StreamOp::triad && v.stores == StoreKind::regular;
    if (!legacy_triad && stream_op_writes(v.op)) {
        params["stores"] = std::string(store_kind_name(v.stores));
    }
    return params;
}

BenchmarkDef stream_def(const HostInfo& host, const CatalogOptions& options, StreamVariant v,
                        const Placement& placement, std::vector<std::string> suites) {
    BenchmarkDef def;
    def.bench_case.benchmark = fmt::format("stream.{}", stream_op_name(v.op));
    def.bench_case.params = stream_params(v, placement.label);
    def.device = "cpu";
    def.backend = "cpu.native";
    def.suites = std::move(suites);
    def.aarch64 = "yes";  // NEON loops; non-temporal stores via STNP
    if (placement.pus.empty()) {
        def.skip_reason = "no cores in the probed topology";
        return def;
    }

    const std::uint64_t arrays = stream_op_arrays(v.op);
    const std::uint64_t threads = placement.pus.size();
    const std::uint64_t cap = working_set_cap_bytes(host, options);
    const catalog::StreamArraySize size =
        catalog::dram_stream_array_size(host, arrays, threads, cap);
    if (size.array_bytes == 0) {
        def.skip_reason = catalog::dram_stream_too_small_reason(cap, arrays, threads);
        return def;
    }
    catalog::add_dram_stream_context(def, size, arrays, threads);
    catalog::add_dram_stream_flags(def, size);

    const std::size_t elements = static_cast<std::size_t>(size.array_bytes / sizeof(double));
    def.make = [v, pus = placement.pus, elements]() -> std::unique_ptr<Kernel> {
        if (v.op == StreamOp::triad && v.stores == StoreKind::regular) {
            return std::make_unique<StreamTriadKernel>(pus, elements);
        }
        return std::make_unique<StreamKernel>(v.op, v.stores, pus, elements);
    };
    return def;
}

/// Every DRAM-sized STREAM variant: all kernels x stores (sum has no stores) x placements in the
/// full suite; the quick suite is triad (regular and nt) and sum on all_cores only.
void add_stream_defs(const HostInfo& host, const CatalogOptions& options,
                     std::vector<BenchmarkDef>& defs) {
    constexpr StreamOp kOps[] = {StreamOp::copy,  StreamOp::scale, StreamOp::add,
                                 StreamOp::triad, StreamOp::sum,   StreamOp::fill};
    const std::vector<Placement> placements = cpu_placements(host.topology);
    for (const StreamOp op : kOps) {
        for (const StoreKind stores : {StoreKind::regular, StoreKind::nontemporal}) {
            if (op == StreamOp::sum && stores == StoreKind::nontemporal) {
                continue;
            }
            for (const Placement& placement : placements) {
                const bool quick = placement.label == "all_cores" &&
                                   (op == StreamOp::triad || op == StreamOp::sum);
                std::vector<std::string> suites = quick ? std::vector<std::string>{"quick", "full"}
                                                        : std::vector<std::string>{"full"};
                defs.push_back(
                    stream_def(host, options, {op, stores}, placement, std::move(suites)));
            }
        }
    }
}

/// A sample of a cache-resident sweep point should last >= ~1 ms: waking the pinned workers
/// costs microseconds (tens in a VM), which at 100 us samples showed up as a median 35 % below the
/// best for the 1-thread 32 KiB read. reps is sized from an upper bound of per-thread bandwidth
/// (400 GB/s, above any current core's L1 bandwidth for these loops — 290 GB/s triad was seen on
/// Zen 4) so the bound holds on fast hosts; slower hosts just take longer per sample. This sizes
/// the work only: throughput always comes from measured time.
constexpr double kSweepMinSampleSeconds = 1e-3;
constexpr double kSweepMaxBytesPerSecondPerThread = 400e9;

BenchmarkDef sweep_def(const HostInfo& host, StreamOp op, const Placement& placement,
                       std::uint64_t total_bytes) {
    BenchmarkDef def =
        catalog::cpu_full_suite_def("mem.sweep", {{"kernel", std::string(stream_op_name(op))},
                                                  {"placement", placement.label},
                                                  {"bytes", std::to_string(total_bytes)}});
    if (placement.pus.empty()) {
        def.skip_reason = "no cores in the probed topology";
        return def;
    }
    const std::uint64_t arrays = stream_op_arrays(op);
    const std::uint64_t threads = placement.pus.size();
    // Whole cache lines per worker; the requested total is rounded down to that granule (it is
    // the case's identity, so it stays as requested; the context records what runs).
    const std::uint64_t granule = arrays * threads * kLineBytes;
    const std::uint64_t run_bytes = total_bytes / granule * granule;
    if (run_bytes == 0) {
        def.skip_reason =
            fmt::format("{} bytes is less than one cache line per array per thread ({} threads)",
                        total_bytes, threads);
        return def;
    }
    const std::uint64_t per_thread = run_bytes / threads;
    const std::size_t elements = static_cast<std::size_t>(run_bytes / arrays / sizeof(double));
    const WorkModel one_pass = stream_work_model(op, StoreKind::regular, elements);
    const double reps_wanted = kSweepMinSampleSeconds * kSweepMaxBytesPerSecondPerThread *
                               static_cast<double>(threads) / one_pass.bytes_stream;
    const auto reps = static_cast<std::size_t>(std::max(1.0, std::ceil(reps_wanted)));
    const std::string level =
        cache_level_label(host.topology, per_thread, static_cast<unsigned>(threads));

    def.context.push_back(context_metric("threads", static_cast<double>(threads), "threads"));
    def.context.push_back(
        context_metric("working_set_bytes", static_cast<double>(run_bytes), "bytes"));
    def.context.push_back(
        context_metric("bytes_per_thread", static_cast<double>(per_thread), "bytes"));
    def.context.push_back(context_metric("reps", static_cast<double>(reps), "passes"));
    def.context.push_back(context_metric("level." + level, 1, "level"));

    def.make = [op, pus = placement.pus, elements, reps]() -> std::unique_ptr<Kernel> {
        return std::make_unique<StreamKernel>(op, StoreKind::regular, pus, elements, reps);
    };
    return def;
}

/// The cache-level sweep (mem.sweep): read-only sum and triad, one_core and all_cores, from 4 KiB
/// to >= 4x the total LLC (capped by the working-set cap). Full suite only.
void add_sweep_defs(const HostInfo& host, const CatalogOptions& options,
                    std::vector<BenchmarkDef>& defs) {
    const std::uint64_t llc = catalog::llc_size(host).bytes;
    const std::uint64_t cap = working_set_cap_bytes(host, options);
    const std::vector<Placement> placements = {{"one_core", one_core_pus(host.topology)},
                                               {"all_cores", all_cores_pus(host.topology)}};
    for (const StreamOp op : {StreamOp::sum, StreamOp::triad}) {
        for (const Placement& placement : placements) {
            for (const std::uint64_t bytes : catalog::sqrt2_points_bytes(llc)) {
                if (cap != 0 && bytes > cap) {
                    break;
                }
                defs.push_back(sweep_def(host, op, placement, bytes));
            }
        }
    }
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
    // Memory: DRAM STREAM, the cache-level sweep, latency, NUMA matrix, core-to-core.
    add_stream_defs(host, options, defs);
    add_sweep_defs(host, options, defs);
    add_latency_defs(host, options, defs);
    add_numa_defs(host, options, defs);
    add_c2c_defs(host, options, defs);
    // GPU memory: device kernels and host<->device / device<->device transfers.
    add_cuda_triads(host, defs);
    add_cuda_memory_defs(host, options, defs);
    // GEMM: CPU libraries, then cuBLASLt.
    add_gemm_cpu_defs(host, options, defs);
    add_gemm_cuda_defs(host, options, defs);
    add_attention_cpu_defs(host, options, defs);
    add_attention_cuda_defs(host, options, defs);
    return defs;
}

}  // namespace assay
