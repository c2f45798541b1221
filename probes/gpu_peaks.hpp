#pragma once
/// Theoretical dense peak *estimates* for a CUDA GPU, per dtype, from its SM count, SM clock and
/// compute capability. Never a measurement: the formula travels with every figure.
#include <vector>

#include "core/host_info.hpp"

namespace assay {

/// Pure: dense (no structured sparsity) peak estimates for `gpu`, one per dtype its compute
/// capability supports: "fp64", "fp32", "tf32", "fp16", "bf16", "int8", "fp8" (FLOP/s, OP/s for
/// int8; an FMA counts 2). Empty when the SM clock is unknown, the SM count is 0, or the compute
/// capability is not in the table (Volta 7.0, Turing 7.5, Ampere 8.0/8.6, Ada 8.9, Hopper 9.0,
/// Blackwell 10.0). fp16 assumes fp32 accumulation at the full tensor rate (data-center parts;
/// GeForce parts run it at half rate, so their fp16 figure is an overestimate).
std::vector<PeakEstimate> gpu_peak_estimates(const GpuInfo& gpu);

}  // namespace assay
