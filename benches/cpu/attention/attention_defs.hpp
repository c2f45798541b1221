#pragma once
/// Catalog entries of the CPU attention suite.
#include <vector>

#include "benches/catalog.hpp"

namespace assay {

/// Appends the CPU attention cases (benches/attention_cases.hpp): the fused kernel (backend
/// "cpu.flash") for every prefill case in f32/bf16 and every decode dtype pair it implements, and
/// the unfused fp32 prefill reference ("cpu.unfused.openblas", "cpu.unfused.blis") up to S=8192.
/// All run on all cores (the first NUMA node's cores on multi-node hosts); a case is skipped with
/// a reason when the dtype pair cannot run here (FlashAttentionCpu::skip_reason), the BLAS does
/// not load, or its working set exceeds the catalog's cap. Context metrics: threads,
/// working_set_bytes, flops_per_run.unmasked_pairs, kv_bytes and, where the probe has one for the
/// dtype, peak_estimate_ops_per_s (the placement's share).
void add_attention_cpu_defs(const HostInfo& host, const CatalogOptions& options,
                            std::vector<BenchmarkDef>& defs);

}  // namespace assay
