#include "benches/cuda/gemm_cuda_defs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "benches/catalog_support.hpp"

#if ASSAY_HAVE_CUDA
#include "benches/cuda/gemm_cuda_kernel.hpp"
#endif

namespace assay {
namespace {

using cuda::GemmDtype;
using cuda::GemmProblem;

constexpr GemmDtype kDtypes[] = {GemmDtype::f64,    GemmDtype::f32,  GemmDtype::tf32,
                                 GemmDtype::f16,    GemmDtype::bf16, GemmDtype::s8s8s32,
                                 GemmDtype::fp8e4m3};
/// Powers of two plus two sizes off them (partial tiles and waves), as the CPU GEMM sweep.
constexpr std::uint64_t kSquareSizes[] = {256, 512, 1000, 1024, 2048, 3000, 4096, 8192};
constexpr std::uint64_t kHeadlineSize = 8192;
constexpr std::uint64_t kTokenCounts[] = {1, 16, 128, 2048};

/// An LLM-like model's projection dimensions (Llama 3: 128-wide heads, 8 KV heads).
struct LlmModel {
    const char* name;
    std::uint64_t hidden;
    std::uint64_t mlp;
    std::uint64_t kv;  ///< KV heads x head dim
};
constexpr LlmModel kModels[] = {{"llama3-8b", 4096, 14336, 8 * 128},
                                {"llama3-70b", 8192, 28672, 8 * 128}};

using catalog::context_metric;

/// The probe's peak-estimate name for a GEMM dtype.
const char* peak_dtype(GemmDtype d) {
    switch (d) {
        case GemmDtype::f64:
            return "fp64";
        case GemmDtype::f32:
            return "fp32";
        case GemmDtype::tf32:
            return "tf32";
        case GemmDtype::f16:
            return "fp16";
        case GemmDtype::bf16:
            return "bf16";
        case GemmDtype::s8s8s32:
            return "int8";
        case GemmDtype::fp8e4m3:
            return "fp8";
    }
    return "";
}

bool tn_only(GemmDtype d) {
    return d == GemmDtype::s8s8s32 || d == GemmDtype::fp8e4m3;
}

/// Why `d` cannot run on a device of compute capability major.minor; empty when it can.
std::string capability_reason(GemmDtype d, int major, int minor) {
    const int cc = major * 10 + minor;
    if (cc < 80) {
        return fmt::format(
            "compute capability {}.{} is below 8.0, the oldest this build's device code targets",
            major, minor);
    }
    if (d == GemmDtype::fp8e4m3 && cc < 89) {
        return "fp8 needs compute capability >= 8.9";
    }
    return {};
}

/// Why cuBLASLt has no kernel for this layout/shape of `d`; empty when it has.
std::string layout_reason(GemmDtype d, const GemmProblem& p) {
    if (tn_only(d) && !p.b_transposed) {
        return fmt::format(
            "cuBLASLt {} kernels take only the TN form (layout nt: B stored N x K); nn has none",
            cuda::gemm_dtype_name(d));
    }
    if (d == GemmDtype::fp8e4m3 && (p.n % 16 != 0 || p.k % 16 != 0)) {
        return "cuBLASLt fp8 kernels need n and k multiples of 16 (16-byte aligned leading "
               "dimensions)";
    }
    if (d == GemmDtype::s8s8s32 && (p.n % 4 != 0 || p.k % 4 != 0)) {
        return "cuBLASLt int8 (IMMA) kernels need n and k multiples of 4";
    }
    return {};
}

/// A case without host-specific parts (skipped entries use it as it is).
BenchmarkDef base_def(const char* benchmark, int device, const GemmProblem& p, Params extra,
                      std::vector<std::string> suites) {
    BenchmarkDef def;
    def.bench_case.benchmark = benchmark;
    def.bench_case.params = std::move(extra);
    def.bench_case.params["dtype"] = cuda::gemm_dtype_name(p.dtype);
    def.bench_case.params["m"] = std::to_string(p.m);
    def.bench_case.params["n"] = std::to_string(p.n);
    def.bench_case.params["k"] = std::to_string(p.k);
    def.bench_case.params["layout"] = p.b_transposed ? "nt" : "nn";
    def.device = fmt::format("cuda:{}", device);
    def.backend = "cublaslt";
    def.suites = std::move(suites);
    def.aarch64 = "yes";  // host-architecture neutral (Grace Hopper, GB200)
    // Sub-millisecond to tens of milliseconds per GEMM on a quiet device.
    def.sampling.max_seconds = 5.0;
    def.sampling.min_samples = 20;
    return def;
}

GemmProblem square(GemmDtype d, std::uint64_t size, bool nt) {
    return GemmProblem{d, size, size, size, nt};
}

/// One case on `gpu`: skipped with the reason, or with its context and factory.
BenchmarkDef gpu_def(const GpuInfo& gpu, const CatalogOptions& options,
                     const CudaGemmRuntime& runtime, const std::vector<PeakEstimate>& peaks,
                     const char* benchmark, const GemmProblem& p, Params extra,
                     std::vector<std::string> suites) {
    BenchmarkDef def = base_def(benchmark, gpu.index, p, std::move(extra), std::move(suites));
    if (!runtime.unavailable_reason.empty()) {
        def.skip_reason = runtime.unavailable_reason;
        return def;
    }
    std::string why = capability_reason(p.dtype, gpu.cc_major, gpu.cc_minor);
    if (why.empty()) {
        why = layout_reason(p.dtype, p);
    }
    const cuda::GemmSetup setup{gpu.index};
    const std::uint64_t working_set = p.matrix_bytes();
    // Room for the workspace and the L2-flush buffer besides A, B and C: half the device memory.
    std::uint64_t cap = gpu.memory_bytes / 2;
    if (options.max_working_set_bytes != 0) {
        cap = std::min(cap, options.max_working_set_bytes);
    }
    if (why.empty() && working_set > cap) {
        why = fmt::format(
            "working set of {} bytes exceeds the cap of {} bytes (half the GPU's memory, or the "
            "working-set option)",
            working_set, cap);
    }
    if (!why.empty()) {
        def.skip_reason = std::move(why);
        return def;
    }
    const char* peak_name = peak_dtype(p.dtype);
    const auto peak = std::find_if(peaks.begin(), peaks.end(),
                                   [&](const PeakEstimate& e) { return e.dtype == peak_name; });
    if (peak != peaks.end()) {
        def.context.push_back(
            context_metric("peak_estimate_ops_per_s", peak->ops_per_second, "OP/s"));
    }
    def.context.push_back(
        context_metric("working_set_bytes", static_cast<double>(working_set), "bytes"));
    def.context.push_back(
        context_metric("gpu_memory_bytes", static_cast<double>(gpu.memory_bytes), "bytes"));
    def.context.push_back(
        context_metric("workspace_bytes", static_cast<double>(setup.workspace_bytes), "bytes"));
    def.make = [make = runtime.make_kernel, p, setup]() { return make(p, setup); };
    return def;
}

std::vector<std::string> suites_for(GemmDtype d, std::uint64_t size, bool nt) {
    const bool headline =
        size == kHeadlineSize && ((d == GemmDtype::bf16 && !nt) || (d == GemmDtype::fp8e4m3 && nt));
    return headline ? std::vector<std::string>{"quick", "full"} : std::vector<std::string>{"full"};
}

void add_gpu(const GpuInfo& gpu, const CatalogOptions& options, const CudaGemmRuntime& runtime,
             std::vector<BenchmarkDef>& defs) {
    const std::vector<PeakEstimate>& peaks = gpu.peaks;  // estimated by the probe
    for (const GemmDtype d : kDtypes) {
        for (const std::uint64_t size : kSquareSizes) {
            for (const bool nt : {false, true}) {
                defs.push_back(gpu_def(gpu, options, runtime, peaks, "gemm.square",
                                       square(d, size, nt), {}, suites_for(d, size, nt)));
            }
        }
    }
    for (const GemmDtype d : {GemmDtype::bf16, GemmDtype::fp8e4m3}) {
        for (const LlmModel& model : kModels) {
            const struct {
                const char* name;
                std::uint64_t n;
                std::uint64_t k;
            } projections[] = {{"q", model.hidden, model.hidden},
                               {"kv", model.kv, model.hidden},
                               {"o", model.hidden, model.hidden},
                               {"mlp_gate_up", model.mlp, model.hidden},
                               {"mlp_down", model.hidden, model.mlp}};
            for (const auto& proj : projections) {
                for (const std::uint64_t tokens : kTokenCounts) {
                    for (const bool nt : {false, true}) {
                        const GemmProblem p{d, tokens, proj.n, proj.k, nt};
                        Params extra = {{"shape", fmt::format("{}.{}", model.name, proj.name)},
                                        {"tokens", std::to_string(tokens)}};
                        defs.push_back(gpu_def(gpu, options, runtime, peaks, "gemm.llm", p,
                                               std::move(extra), {"full"}));
                    }
                }
            }
        }
    }
}

}  // namespace

CudaGemmRuntime cuda_gemm_runtime(const HostInfo& host) {
    CudaGemmRuntime runtime;
#if ASSAY_HAVE_CUDA
    if (!host.gpu.gpus.empty()) {
        std::string why;
        if (!cuda::cublaslt_loadable(why)) {
            runtime.unavailable_reason = "cuBLASLt unavailable: " + why;
        }
    }
    runtime.make_kernel = [](const cuda::GemmProblem& p,
                             const cuda::GemmSetup& s) -> std::unique_ptr<Kernel> {
        return std::make_unique<CudaGemmKernel>(p, s);
    };
#else
    (void)host;
    runtime.unavailable_reason = "built without CUDA (ASSAY_CUDA=OFF or nvcc not found)";
#endif
    return runtime;
}

void add_gemm_cuda_defs(const HostInfo& host, const CatalogOptions& options,
                        std::vector<BenchmarkDef>& defs) {
    add_gemm_cuda_defs(host, options, cuda_gemm_runtime(host), defs);
}

void add_gemm_cuda_defs(const HostInfo& host, const CatalogOptions& options,
                        const CudaGemmRuntime& runtime, std::vector<BenchmarkDef>& defs) {
    if (host.gpu.gpus.empty() || !runtime.unavailable_reason.empty()) {
        // One skipped headline case per dtype records the absence without hundreds of rows.
        std::string why = runtime.unavailable_reason;
        if (why.empty()) {
            why = host.gpu.none_reason.empty() ? "no CUDA GPU detected"
                                               : "no CUDA GPU: " + host.gpu.none_reason;
        }
        for (const GemmDtype d : kDtypes) {
            BenchmarkDef def = base_def("gemm.square", 0, square(d, kHeadlineSize, tn_only(d)), {},
                                        {"quick", "full"});
            def.skip_reason = why;
            defs.push_back(std::move(def));
        }
        return;
    }
    for (const GpuInfo& gpu : host.gpu.gpus) {
        add_gpu(gpu, options, runtime, defs);
    }
}

}  // namespace assay
