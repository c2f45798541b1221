#pragma once
/// Catalog entries of the CUDA attention suite on "cuda:N": the same cases (benchmark names and
/// params, attention_cases.hpp) as the CPU suite, so results line up across devices.
///
/// Backends:
///   cuda.flash  prefill: flash-2 kernel on the tensor cores; decode: split-KV kernel
///               (benches/cuda/attention_cuda.hpp). Cases whose Q and K/V are both bf16 or both
///               f16; the fp32 and mixed-dtype cases are the CPU suite's and are not listed here.
///   cuda.cudnn  cuDNN's fused SDPA through the backend graph API
///   (benches/cuda/attention_cudnn.hpp),
///               for the same prefill and decode cases. Skipped with the reason when cuDNN cannot
///               be loaded (or is a release with known SDPA bugs), below compute capability 8.0,
///               or, found at run time, when cuDNN has no engine for the graph on the device.
/// Quick suite: prefill bf16 llama3_8b S=4096 causal (both backends) and decode bf16 llama3_8b
/// batch 8 KV 16384 (cuda.flash).
/// Compiles with and without CUDA: without a CUDA build or a GPU it adds only the two quick-suite
/// cases on cuda.flash (bf16 prefill and decode), skipped with the reason.
/// Context: peak_estimate_ops_per_s (probes/gpu_peaks for the dtype), working_set_bytes (device),
/// gpu_memory_bytes, flops_per_run.unmasked_pairs, kv_bytes.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "benches/attention_cases.hpp"
#include "benches/catalog.hpp"
#include "benches/cuda/attention_cuda.hpp"
#include "benches/cuda/attention_cudnn.hpp"
#include "benches/kernel.hpp"
#include "core/host_info.hpp"

namespace assay {

/// What the running build offers the CUDA attention suite (a test seam: tests pass a fake).
struct CudaAttentionRuntime {
    /// Non-empty: nothing can run (built without CUDA), and why.
    std::string unavailable_reason;
    /// Makes the kernel of one case on device `device`; set when unavailable_reason is empty.
    std::function<std::unique_ptr<Kernel>(const attention::AttentionCase&, int device)> make_kernel;
    /// Non-empty: the cuda.cudnn entries are skipped with it (cuDNN not loadable, or a release
    /// with known SDPA bugs).
    std::string cudnn_unavailable_reason;
    /// Makes the cuDNN SDPA kernel of one case; set when cudnn_unavailable_reason is empty.
    std::function<std::unique_ptr<Kernel>(const attention::AttentionCase&, int device)>
        make_cudnn_kernel;
};

/// This build's runtime: the CUDA kernels when compiled in, else the reason. cuDNN is loaded
/// (dlopen) only when `host` has a GPU.
CudaAttentionRuntime cuda_attention_runtime(const HostInfo& host);

/// The device problem of a case, or nullopt with `why` (fp32 or mixed dtypes, shapes outside
/// cuda::attn_problem_reason()).
std::optional<cuda::AttnProblem> cuda_attention_problem(const attention::AttentionCase& c,
                                                        std::string& why);

/// The cuDNN SDPA problem of a case, or nullopt with `why` (fp32 or mixed dtypes, shapes outside
/// cuda::cudnn_sdpa_reason()).
std::optional<cuda::AttnProblem> cudnn_attention_problem(const attention::AttentionCase& c,
                                                         std::string& why);

/// The CUDA attention suite for `host` with this build's runtime.
void add_attention_cuda_defs(const HostInfo& host, const CatalogOptions& options,
                             std::vector<BenchmarkDef>& defs);

/// The CUDA attention suite for `host` with an explicit runtime (tests).
void add_attention_cuda_defs(const HostInfo& host, const CatalogOptions& options,
                             const CudaAttentionRuntime& runtime, std::vector<BenchmarkDef>& defs);

}  // namespace assay
