#pragma once
/// Catalog entries of the cuBLASLt GEMM family on "cuda:N", backend "cublaslt": the same cases
/// (benchmark names, params, shapes) as the CPU GEMM family, so results compare across devices.
/// Compiles with and without CUDA: without a CUDA build, GPUs or cuBLASLt it adds one skipped
/// entry per dtype (the 8192^3 square case) that says why.
///
/// Cases (params say what is measured; m, n, k in row-major semantics C[MxN] = A[MxK] . B):
///   gemm.square  {dtype, m=n=k, layout}: 256, 512, 1024, 2048, 4096, 8192 and the non-powers of
///                two 1000 and 3000; full suite, except the 8192 bf16 (nn) and fp8e4m3 (nt)
///                cases, which are also in quick.
///   gemm.llm     {dtype, m=tokens, n=out features, k=in features, layout, shape, tokens} for
///                Llama-3-8B-like (hidden 4096, MLP 14336, 8 KV heads x 128) and 70B-like
///                (hidden 8192, MLP 28672, 8 KV heads x 128) projections at 1, 16, 128 and 2048
///                tokens: shape llama3-<size>.{q, kv (k and v each, GQA), o, mlp_gate_up (gate
///                and up each), mlp_down}; dtypes bf16 and fp8e4m3; full suite.
/// Layouts: nn and nt for f64, f32, tf32, f16, bf16; nt only for s8s8s32 and fp8e4m3 (cuBLASLt's
/// IMMA and fp8 kernels take only the TN form): their nn cases are listed as skipped with that
/// reason. fp8e4m3 needs n and k multiples of 16 and s8s8s32 multiples of 4 (m, the token count,
/// is free), so fp8's 1000 and 3000 are skipped too. fp8 needs compute capability >= 8.9, bf16
/// and tf32 >= 8.0, s8s8s32 >= 7.5.
/// Every sample runs after an L2 flush (cold cache, as nvbench); the timed region is the GEMM.
/// Context: peak_estimate_ops_per_s (probes/gpu_peaks for the dtype), working_set_bytes,
/// gpu_memory_bytes.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "benches/catalog.hpp"
#include "benches/cuda/gemm_cublaslt.hpp"
#include "benches/kernel.hpp"
#include "core/host_info.hpp"

namespace assay {

/// What the running build offers the GEMM family (a test seam: tests pass a fake).
struct CudaGemmRuntime {
    /// Non-empty: no GEMM can run (built without CUDA, cuBLASLt missing), and why.
    std::string unavailable_reason;
    /// Makes the kernel of one case; must be set when unavailable_reason is empty.
    std::function<std::unique_ptr<Kernel>(const cuda::GemmProblem&, const cuda::GemmSetup&)>
        make_kernel;
};

/// This build's runtime: CUDA compiled in and libcublasLt loadable (checked only when `host`
/// has GPUs, since loading it is slow).
CudaGemmRuntime cuda_gemm_runtime(const HostInfo& host);

/// The GEMM family for `host` with this build's runtime.
void add_gemm_cuda_defs(const HostInfo& host, const CatalogOptions& options,
                        std::vector<BenchmarkDef>& defs);

/// The GEMM family for `host` with an explicit runtime (tests).
void add_gemm_cuda_defs(const HostInfo& host, const CatalogOptions& options,
                        const CudaGemmRuntime& runtime, std::vector<BenchmarkDef>& defs);

}  // namespace assay
