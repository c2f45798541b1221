#include "benches/cpu/gemm/gemm_shapes.hpp"

#include <algorithm>

namespace assay {

std::string_view gemm_dtype_name(GemmDtype dtype) {
    switch (dtype) {
        case GemmDtype::f32:
            return "f32";
        case GemmDtype::f64:
            return "f64";
        case GemmDtype::bf16:
            return "bf16";
        case GemmDtype::f16:
            return "f16";
        case GemmDtype::s8s8s32:
            return "s8s8s32";
        case GemmDtype::u8s8s32:
            return "u8s8s32";
    }
    return "unknown";
}

std::optional<GemmDtype> gemm_dtype_from_name(std::string_view name) {
    for (const GemmDtype d : {GemmDtype::f32, GemmDtype::f64, GemmDtype::bf16, GemmDtype::f16,
                              GemmDtype::s8s8s32, GemmDtype::u8s8s32}) {
        if (gemm_dtype_name(d) == name) {
            return d;
        }
    }
    return std::nullopt;
}

std::string_view gemm_layout_name(GemmLayout layout) {
    return layout == GemmLayout::nn ? "nn" : "nt";
}

std::string gemm_peak_dtype(GemmDtype dtype) {
    switch (dtype) {
        case GemmDtype::f32:
            return "fp32";
        case GemmDtype::f64:
            return "fp64";
        case GemmDtype::bf16:
            return "bf16";
        case GemmDtype::s8s8s32:
        case GemmDtype::u8s8s32:
            return "int8";
        case GemmDtype::f16:
            return {};
    }
    return {};
}

bool gemm_dtype_is_integer(GemmDtype dtype) {
    return dtype == GemmDtype::s8s8s32 || dtype == GemmDtype::u8s8s32;
}

std::size_t gemm_input_bytes(GemmDtype dtype) {
    switch (dtype) {
        case GemmDtype::f32:
            return 4;
        case GemmDtype::f64:
            return 8;
        case GemmDtype::bf16:
        case GemmDtype::f16:
            return 2;
        case GemmDtype::s8s8s32:
        case GemmDtype::u8s8s32:
            return 1;
    }
    return 0;
}

std::size_t gemm_output_bytes(GemmDtype dtype) {
    return dtype == GemmDtype::f64 ? 8 : 4;
}

double GemmProblem::operations() const {
    return 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
}

std::uint64_t GemmProblem::working_set_bytes() const {
    return (m * k + k * n) * gemm_input_bytes(dtype) + m * n * gemm_output_bytes(dtype);
}

std::string LlmProjection::shape() const {
    return model + "." + name;
}

std::vector<std::uint64_t> gemm_square_sizes(std::uint64_t max_n) {
    std::vector<std::uint64_t> sizes;
    for (std::uint64_t n = 256; n <= max_n; n *= 2) {
        sizes.push_back(n);
    }
    // Odd sizes: no power-of-two blocking luck, partial tiles at every level.
    for (const std::uint64_t odd : {std::uint64_t{1000}, std::uint64_t{3000}}) {
        if (odd <= max_n) {
            sizes.push_back(odd);
        }
    }
    std::sort(sizes.begin(), sizes.end());
    return sizes;
}

std::vector<LlmProjection> llama3_projections() {
    constexpr std::uint64_t kHeadDim = 128;
    constexpr std::uint64_t kKvHeads = 8;
    struct Model {
        const char* name;
        std::uint64_t hidden;
        std::uint64_t mlp;
    };
    std::vector<LlmProjection> out;
    for (const Model& model : {Model{"llama3-8b", 4096, 14336}, Model{"llama3-70b", 8192, 28672}}) {
        const std::uint64_t h = model.hidden;
        out.push_back({model.name, "q", h, h});
        out.push_back({model.name, "kv", kKvHeads * kHeadDim, h});
        out.push_back({model.name, "o", h, h});
        out.push_back({model.name, "mlp_gate_up", model.mlp, h});
        out.push_back({model.name, "mlp_down", h, model.mlp});
    }
    return out;
}

std::vector<std::uint64_t> llm_token_counts() {
    return {1, 16, 128, 2048};
}

}  // namespace assay
