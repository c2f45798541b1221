#pragma once
/// Report section for attention results (attention.prefill / attention.decode on any device and
/// backend): a prefill table (shape, dtype, causal, backend, TFLOP/s best and median by the
/// unmasked-pairs FLOP convention, % of the dtype's GEMM ceiling, fused vs unfused speedup) and
/// a decode table (KV bytes, GB/s best and median, % of the DRAM read ceiling).
#include <string>
#include <vector>

#include "core/run_info.hpp"

namespace assay {

/// The Markdown attention section of one run's results; "" when the run has no attention
/// results. Failed and skipped cases appear with their reason. "% of ceiling" comes from the
/// results' percent_of_ceiling.best metric and names the ceiling (metric ceiling.<name>); the
/// fused/unfused speedup of a fused row is its best throughput over the best unfused backend's
/// for the same case on the same device.
std::string render_attention_section(const std::vector<StoredResult>& results);

}  // namespace assay
