#include "benches/cuda/attention_cuda_defs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "benches/catalog_support.hpp"

#if ASSAY_HAVE_CUDA
#include "benches/cuda/attention_cuda_kernel.hpp"
#if ASSAY_HAVE_CUDNN
#include "benches/cuda/attention_cudnn_kernel.hpp"
#endif
#endif

namespace assay {
namespace {

using attention::AttentionCase;
using attention::Dtype;
using attention::Phase;
using catalog::context_metric;

constexpr const char* kFlashBackend = "cuda.flash";
constexpr const char* kCudnnBackend = "cuda.cudnn";
constexpr const char* kHeadlinePreset = "llama3_8b";
constexpr std::int64_t kHeadlineSeq = 4096;
constexpr std::int64_t kQuickDecodeBatch = 8;
constexpr std::int64_t kQuickDecodeKv = 16384;

bool cuda_dtype(const AttentionCase& c) {
    return c.q_dtype == c.kv_dtype && (c.q_dtype == Dtype::bf16 || c.q_dtype == Dtype::f16);
}

/// The device problem of a bf16/f16 case (both backends take the same one).
cuda::AttnProblem device_problem(const AttentionCase& c) {
    cuda::AttnProblem p;
    p.dtype = c.q_dtype == Dtype::bf16 ? cuda::AttnDtype::bf16 : cuda::AttnDtype::f16;
    p.decode = c.phase == Phase::decode;
    p.batch = c.shape.batch;
    p.heads_q = c.shape.heads_q;
    p.heads_kv = c.shape.heads_kv;
    p.head_dim = c.shape.head_dim;
    p.seq_q = c.shape.seq_q;
    p.seq_kv = c.shape.seq_kv;
    p.causal = c.shape.causal;
    return p;
}

bool headline_prefill(const AttentionCase& c) {
    return c.phase == Phase::prefill && c.preset == kHeadlinePreset &&
           c.shape.seq_q == kHeadlineSeq && c.shape.causal;
}

bool headline_decode(const AttentionCase& c) {
    return c.phase == Phase::decode && c.preset == kHeadlinePreset &&
           c.shape.batch == kQuickDecodeBatch && c.shape.seq_kv == kQuickDecodeKv;
}

/// The cases this suite lists: every bf16/f16 prefill and decode case.
std::vector<AttentionCase> cuda_cases() {
    std::vector<AttentionCase> out;
    for (auto list : {attention::prefill_cases(), attention::decode_cases()}) {
        for (AttentionCase& c : list) {
            if (cuda_dtype(c)) {
                const bool quick =
                    c.q_dtype == Dtype::bf16 && (headline_prefill(c) || headline_decode(c));
                c.suites = quick ? std::vector<std::string>{"quick", "full"}
                                 : std::vector<std::string>{"full"};
                out.push_back(std::move(c));
            }
        }
    }
    return out;
}

/// The probe's peak-estimate name for an input dtype.
const char* peak_dtype(Dtype d) {
    return d == Dtype::bf16 ? "bf16" : "fp16";
}

BenchmarkDef base_def(const AttentionCase& c, int device, const char* backend) {
    BenchmarkDef def;
    def.bench_case.benchmark = attention::benchmark_name(c.phase);
    def.bench_case.params = attention::case_params(c);
    def.device = fmt::format("cuda:{}", device);
    def.backend = backend;
    def.suites = c.suites;
    def.aarch64 = "yes";  // host-architecture neutral (Grace Hopper)
    // Microseconds (decode) to tens of milliseconds (long prefill) per call on a quiet device.
    def.sampling.max_seconds = 5.0;
    def.sampling.min_samples = 20;
    return def;
}

/// Skip reason when the case's device working set exceeds the cap, else empty.
std::string cap_reason(const GpuInfo& gpu, const CatalogOptions& options,
                       std::uint64_t working_set) {
    // Room for the L2-flush buffer and other processes: half the device memory.
    std::uint64_t cap = gpu.memory_bytes / 2;
    if (options.max_working_set_bytes != 0) {
        cap = std::min(cap, options.max_working_set_bytes);
    }
    if (working_set <= cap) {
        return {};
    }
    return fmt::format(
        "working set of {} bytes exceeds the cap of {} bytes (half the GPU's memory, or the "
        "working-set option)",
        working_set, cap);
}

/// The context both backends store with a runnable case.
void add_context(BenchmarkDef& def, const GpuInfo& gpu, const AttentionCase& c,
                 std::uint64_t working_set) {
    const char* peak_name = peak_dtype(c.q_dtype);
    const auto peak = std::find_if(gpu.peaks.begin(), gpu.peaks.end(),
                                   [&](const PeakEstimate& e) { return e.dtype == peak_name; });
    if (peak != gpu.peaks.end()) {
        def.context.push_back(
            context_metric("peak_estimate_ops_per_s", peak->ops_per_second, "OP/s"));
    }
    def.context.push_back(
        context_metric("working_set_bytes", static_cast<double>(working_set), "bytes"));
    def.context.push_back(
        context_metric("gpu_memory_bytes", static_cast<double>(gpu.memory_bytes), "bytes"));
    def.context.push_back(context_metric("flops_per_run.unmasked_pairs",
                                         attention::attention_flops(c.shape),
                                         "FLOP (4·B·H·D·unmasked pairs)"));
    def.context.push_back(
        context_metric("kv_bytes", attention::kv_bytes(c.shape, c.kv_dtype), "bytes"));
}

std::string cc_reason(const GpuInfo& gpu, const char* needs) {
    if (gpu.cc_major * 10 + gpu.cc_minor >= 80) {
        return {};
    }
    return fmt::format("compute capability {}.{} is below 8.0 ({})", gpu.cc_major, gpu.cc_minor,
                       needs);
}

BenchmarkDef flash_def(const GpuInfo& gpu, const CatalogOptions& options,
                       const CudaAttentionRuntime& runtime, const AttentionCase& c) {
    BenchmarkDef def = base_def(c, gpu.index, kFlashBackend);
    if (!runtime.unavailable_reason.empty()) {
        def.skip_reason = runtime.unavailable_reason;
        return def;
    }
    def.skip_reason = cc_reason(gpu, "the kernels use bf16 mma.sync and cp.async");
    if (!def.skip_reason.empty()) {
        return def;
    }
    std::string why;
    const auto problem = cuda_attention_problem(c, why);
    if (!problem) {
        def.skip_reason = std::move(why);
        return def;
    }
    const std::uint64_t working_set = problem->device_bytes();
    def.skip_reason = cap_reason(gpu, options, working_set);
    if (!def.skip_reason.empty()) {
        return def;
    }
    add_context(def, gpu, c, working_set);
    def.make = [make = runtime.make_kernel, c, device = gpu.index]() { return make(c, device); };
    return def;
}

/// Device bytes of the cuDNN case: Q, K, V and O in the input dtype (the plan's workspace is
/// known only once cuDNN has chosen an engine: the kernel reports it as cudnn_workspace_bytes).
std::uint64_t cudnn_device_bytes(const cuda::AttnProblem& p) {
    const auto q = static_cast<std::uint64_t>(p.q_elements());
    const auto kv = static_cast<std::uint64_t>(p.kv_elements());
    return (2 * q + 2 * kv) * 2;
}

BenchmarkDef cudnn_def(const GpuInfo& gpu, const CatalogOptions& options,
                       const CudaAttentionRuntime& runtime, const AttentionCase& c) {
    BenchmarkDef def = base_def(c, gpu.index, kCudnnBackend);
    // The quick suite keeps one cuDNN entry: the headline bf16 prefill.
    if (c.phase == Phase::decode) {
        def.suites = {"full"};
    }
    if (!runtime.unavailable_reason.empty()) {
        def.skip_reason = runtime.unavailable_reason;
        return def;
    }
    if (!runtime.cudnn_unavailable_reason.empty() || !runtime.make_cudnn_kernel) {
        def.skip_reason = runtime.cudnn_unavailable_reason.empty()
                              ? "cuDNN SDPA backend: not in this build"
                              : runtime.cudnn_unavailable_reason;
        return def;
    }
    def.skip_reason = cc_reason(gpu, "cuDNN's fused flash attention needs sm_80 or newer");
    if (!def.skip_reason.empty()) {
        return def;
    }
    std::string why;
    const auto problem = cudnn_attention_problem(c, why);
    if (!problem) {
        def.skip_reason = std::move(why);
        return def;
    }
    const std::uint64_t working_set = cudnn_device_bytes(*problem);
    def.skip_reason = cap_reason(gpu, options, working_set);
    if (!def.skip_reason.empty()) {
        return def;
    }
    add_context(def, gpu, c, working_set);
    def.make = [make = runtime.make_cudnn_kernel, c, device = gpu.index]() {
        return make(c, device);
    };
    return def;
}

}  // namespace

CudaAttentionRuntime cuda_attention_runtime(const HostInfo& host) {
    CudaAttentionRuntime runtime;
#if ASSAY_HAVE_CUDA
    runtime.make_kernel = [](const AttentionCase& c, int device) -> std::unique_ptr<Kernel> {
        return std::make_unique<CudaAttentionKernel>(c, device);
    };
#if ASSAY_HAVE_CUDNN
    if (!host.gpu.gpus.empty()) {
        std::string why;
        if (!cuda::cudnn_loadable(why)) {
            runtime.cudnn_unavailable_reason = "cuDNN unavailable: " + why;
        }
    }
    runtime.make_cudnn_kernel = [](const AttentionCase& c, int device) -> std::unique_ptr<Kernel> {
        return std::make_unique<CudnnAttentionKernel>(c, device);
    };
#else
    (void)host;
    runtime.cudnn_unavailable_reason = "built without cuDNN (cudnn.h not found at configure time)";
#endif
#else
    (void)host;
    runtime.unavailable_reason = "built without CUDA (ASSAY_CUDA=OFF or nvcc not found)";
#endif
    return runtime;
}

std::optional<cuda::AttnProblem> cuda_attention_problem(const AttentionCase& c, std::string& why) {
    if (!cuda_dtype(c)) {
        why = fmt::format(
            "the CUDA attention kernels take Q and K/V both bf16 or both f16, not q={} kv={}",
            attention::dtype_param(c.q_dtype), attention::dtype_param(c.kv_dtype));
        return std::nullopt;
    }
    const cuda::AttnProblem p = device_problem(c);
    why = cuda::attn_problem_reason(p);
    if (!why.empty()) {
        return std::nullopt;
    }
    return p;
}

std::optional<cuda::AttnProblem> cudnn_attention_problem(const AttentionCase& c, std::string& why) {
    if (!cuda_dtype(c)) {
        why = fmt::format("cuDNN SDPA takes Q and K/V both bf16 or both f16, not q={} kv={}",
                          attention::dtype_param(c.q_dtype), attention::dtype_param(c.kv_dtype));
        return std::nullopt;
    }
    const cuda::AttnProblem p = device_problem(c);
    why = cuda::cudnn_sdpa_reason(p);
    if (!why.empty()) {
        return std::nullopt;
    }
    return p;
}

void add_attention_cuda_defs(const HostInfo& host, const CatalogOptions& options,
                             std::vector<BenchmarkDef>& defs) {
    add_attention_cuda_defs(host, options, cuda_attention_runtime(host), defs);
}

void add_attention_cuda_defs(const HostInfo& host, const CatalogOptions& options,
                             const CudaAttentionRuntime& runtime, std::vector<BenchmarkDef>& defs) {
    const std::vector<AttentionCase> cases = cuda_cases();
    if (host.gpu.gpus.empty() || !runtime.unavailable_reason.empty()) {
        // The two quick-suite cases (bf16 prefill and decode), skipped, record the absence
        // without a hundred rows.
        std::string why = runtime.unavailable_reason;
        if (why.empty()) {
            why = host.gpu.none_reason.empty() ? "no CUDA GPU detected"
                                               : "no CUDA GPU: " + host.gpu.none_reason;
        }
        for (const AttentionCase& c : cases) {
            if (c.q_dtype == Dtype::bf16 && (headline_prefill(c) || headline_decode(c))) {
                BenchmarkDef def = base_def(c, 0, kFlashBackend);
                def.skip_reason = why;
                defs.push_back(std::move(def));
            }
        }
        return;
    }
    for (const GpuInfo& gpu : host.gpu.gpus) {
        for (const AttentionCase& c : cases) {
            defs.push_back(flash_def(gpu, options, runtime, c));
            defs.push_back(cudnn_def(gpu, options, runtime, c));
        }
    }
}

}  // namespace assay
