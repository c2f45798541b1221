#pragma once
/// LLM-serving projections from measured ceilings: what a device's measured GEMM throughput and
/// memory bandwidth imply for prefill and decode of a named model. PROJECTIONS, not
/// measurements: each carries its formula and the ceilings it used.
///   prefill tokens/s = GEMM ceiling (weights dtype) / (2 · params)
///   decode tokens/s  = bandwidth ceiling / (weight bytes + KV bytes read per token)
///   KV bytes per token = 2 (K and V) · layers · kv_heads · head_dim · 2 bytes (bf16 cache)
///                        · context tokens, at batch 1
#include <cstdint>
#include <string>
#include <vector>

#include "reports/compare/compare_model.hpp"

namespace assay {

struct LlmConfig {
    std::string model;  ///< "Llama-3-8B"
    double params = 0;
    unsigned layers = 0;
    unsigned kv_heads = 0;
    unsigned head_dim = 0;
};

/// Llama-3-8B (8.03e9 params, 32 layers) and Llama-3-70B (70.6e9, 80 layers); both 8 KV heads
/// of dimension 128 (GQA).
const std::vector<LlmConfig>& llm_configs();

/// The context length the decode projection assumes (tokens already in the KV cache).
inline constexpr std::uint64_t kProjectionContextTokens = 4096;

/// Projections for one device from its ceilings (those of `device` only): every config × weights
/// in {bf16, int8}. Compute ceiling: "gemm.bf16" for bf16 weights, "gemm.s8s8s32" (else
/// "gemm.u8s8s32") for int8. Bandwidth ceiling: the largest DRAM bandwidth ceiling of the device
/// ("mem.bandwidth.dram.*"), else "mem.bandwidth.read.DRAM.*". A missing ceiling gives a skip
/// reason instead of a number. `memory_bytes` (0 = unknown) adds a note when the weights do not
/// fit.
std::vector<Projection> project_llm(std::size_t host, const std::string& device,
                                    const std::vector<CompareCeiling>& ceilings,
                                    std::uint64_t memory_bytes);

}  // namespace assay
