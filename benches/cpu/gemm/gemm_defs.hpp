#pragma once
/// Catalog entries of the CPU GEMM family (gemm.square, gemm.llm) on every backend.
#include <vector>

#include "benches/catalog.hpp"
#include "benches/kernel.hpp"
#include "core/host_info.hpp"

namespace assay {

/// Appends the CPU GEMM benchmarks: backend (BenchmarkDef::backend "openblas" | "blis" |
/// "onednn") x dtype x shape x layout x placement, with skip reasons for what this build, the
/// libraries found at run time, the CPU or the memory cap cannot do. Case params say only what is
/// measured: {dtype, layout, m, n, k, placement} (+ {shape, tokens} for gemm.llm).
///
/// Matrix (sized for a full-suite gemm run of ~15 minutes on a 2-core VM):
/// - gemm.square, all_cores: the square sweep (256..8192 + 1000, 3000) in nn; nt up to 4096.
/// - gemm.square, one_core and numa0_cores (multi-node hosts): 1024 and 4096, nn.
/// - gemm.llm: Llama-3-8B/70B projections at 1/16/128/2048 tokens, nt (y = x W^T), all_cores,
///   every dtype but f64.
/// - quick suite: f32 1024^3 nn all_cores on each backend.
/// Loads OpenBLAS/BLIS (dlopen) and asks oneDNN which dtypes it implements on this CPU.
void add_gemm_cpu_defs(const HostInfo& host, const CatalogOptions& options,
                       std::vector<BenchmarkDef>& defs);

}  // namespace assay
