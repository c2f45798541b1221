#include "reports/compare/projection.hpp"

#include <fmt/format.h>

namespace assay {
namespace {

/// GFLOP/s, GOP/s -> ops/s; GB/s -> bytes/s; 0 for anything else.
double per_second_scale(const std::string& unit) {
    if (unit == "GFLOP/s" || unit == "GOP/s" || unit == "GB/s") {
        return 1e9;
    }
    if (unit == "TFLOP/s" || unit == "TOP/s" || unit == "TB/s") {
        return 1e12;
    }
    return 0;
}

const CompareCeiling* find(const std::vector<CompareCeiling>& ceilings, const std::string& device,
                           const std::string& name) {
    for (const CompareCeiling& c : ceilings) {
        if (c.device == device && c.name == name && c.value > 0 && per_second_scale(c.unit) > 0) {
            return &c;
        }
    }
    return nullptr;
}

/// The device's largest DRAM bandwidth ceiling (decode streams the weights from DRAM/HBM).
const CompareCeiling* dram_bandwidth(const std::vector<CompareCeiling>& ceilings,
                                     const std::string& device) {
    const CompareCeiling* best = nullptr;
    for (const std::string prefix : {"mem.bandwidth.dram.", "mem.bandwidth.read.DRAM."}) {
        for (const CompareCeiling& c : ceilings) {
            if (c.device == device && c.name.rfind(prefix, 0) == 0 && c.unit == "GB/s" &&
                c.value > 0 && (best == nullptr || c.value > best->value)) {
                best = &c;
            }
        }
        if (best != nullptr) {
            return best;
        }
    }
    return nullptr;
}

std::string ceiling_text(const CompareCeiling& c) {
    return fmt::format("{} = {:.6g} {}", c.name, c.value, c.unit);
}

}  // namespace

const std::vector<LlmConfig>& llm_configs() {
    static const std::vector<LlmConfig> configs = {
        {"Llama-3-8B", 8.03e9, 32, 8, 128},
        {"Llama-3-70B", 70.6e9, 80, 8, 128},
    };
    return configs;
}

std::vector<Projection> project_llm(std::size_t host, const std::string& device,
                                    const std::vector<CompareCeiling>& ceilings,
                                    std::uint64_t memory_bytes) {
    std::vector<Projection> out;
    const CompareCeiling* bw = dram_bandwidth(ceilings, device);
    for (const LlmConfig& cfg : llm_configs()) {
        for (const std::string weights : {"bf16", "int8"}) {
            Projection p;
            p.host = host;
            p.device = device;
            p.model = cfg.model;
            p.weights = weights;
            p.params = cfg.params;
            p.context_tokens = kProjectionContextTokens;
            p.batch = 1;
            const double bytes_per_weight = weights == "bf16" ? 2.0 : 1.0;
            p.weight_bytes = cfg.params * bytes_per_weight;
            p.kv_bytes_per_token_read = 2.0 * cfg.layers * cfg.kv_heads * cfg.head_dim * 2.0 *
                                        static_cast<double>(p.context_tokens);

            const CompareCeiling* gemm = nullptr;
            if (weights == "bf16") {
                gemm = find(ceilings, device, "gemm.bf16");
            } else {
                gemm = find(ceilings, device, "gemm.s8s8s32");
                if (gemm == nullptr) {
                    gemm = find(ceilings, device, "gemm.u8s8s32");
                }
            }
            p.prefill_formula =
                fmt::format("prefill tokens/s = {} ceiling / (2 x {:.3g} params)",
                            weights == "bf16" ? "gemm.bf16" : "int8 GEMM", cfg.params);
            if (gemm != nullptr) {
                p.prefill_tokens_per_s =
                    gemm->value * per_second_scale(gemm->unit) / (2.0 * cfg.params);
                p.prefill_ceiling = ceiling_text(*gemm);
            } else {
                p.prefill_skip = fmt::format("no measured {} GEMM ceiling on {}",
                                             weights == "bf16" ? "bf16" : "int8", device);
            }
            p.decode_formula = fmt::format(
                "decode tokens/s = DRAM bandwidth ceiling / ({:.3g} GB weights + {:.3g} GB KV "
                "cache read per token at {} tokens of context, batch 1)",
                p.weight_bytes / 1e9, p.kv_bytes_per_token_read / 1e9, p.context_tokens);
            if (bw != nullptr) {
                p.decode_tokens_per_s = bw->value * per_second_scale(bw->unit) /
                                        (p.weight_bytes + p.kv_bytes_per_token_read);
                p.decode_ceiling = ceiling_text(*bw);
            } else {
                p.decode_skip = fmt::format("no measured DRAM bandwidth ceiling on {}", device);
            }
            const double needed = p.weight_bytes + p.kv_bytes_per_token_read;
            if (memory_bytes > 0 && needed > static_cast<double>(memory_bytes)) {
                p.note = fmt::format(
                    "weights + KV cache ({:.3g} GB) exceed the device's memory ({:.3g} GB): "
                    "needs several devices",
                    needed / 1e9, static_cast<double>(memory_bytes) / 1e9);
            }
            out.push_back(std::move(p));
        }
    }
    return out;
}

}  // namespace assay
