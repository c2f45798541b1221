#pragma once
/// What a CPU GEMM measures: element types, operand layout, problem dimensions, and the shape
/// tables of the catalog (the square sweep and the Llama-3 projection GEMMs).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace assay {

/// Operand types of C = A * B. Float types accumulate and store C in fp32 (f64: fp64); the int8
/// types name A, B and C: u8s8s32 = unsigned A, signed B, int32 C.
enum class GemmDtype { f32, f64, bf16, f16, s8s8s32, u8s8s32 };

/// Row-major operands. nn: B is K x N; nt: B is stored N x K (a weight matrix as frameworks keep
/// it, y = x * W^T) and used transposed.
enum class GemmLayout { nn, nt };

/// "f32", "f64", "bf16", "f16", "s8s8s32", "u8s8s32" (the case parameter).
std::string_view gemm_dtype_name(GemmDtype dtype);
/// Inverse of gemm_dtype_name; nullopt for an unknown name.
std::optional<GemmDtype> gemm_dtype_from_name(std::string_view name);
/// "nn" or "nt".
std::string_view gemm_layout_name(GemmLayout layout);
/// The probe's PeakEstimate dtype for this GEMM dtype ("fp32", "fp64", "bf16", "int8"); empty
/// when the probe has no estimate for it (f16).
std::string gemm_peak_dtype(GemmDtype dtype);
/// True for the int8 dtypes (integer operations, exact verification).
bool gemm_dtype_is_integer(GemmDtype dtype);
/// Bytes of one element of A (and B), and of C.
std::size_t gemm_input_bytes(GemmDtype dtype);
std::size_t gemm_output_bytes(GemmDtype dtype);

/// One GEMM: C (m x n) = A (m x k) * B (k x n), alpha 1, beta 0.
struct GemmProblem {
    std::uint64_t m = 0;
    std::uint64_t n = 0;
    std::uint64_t k = 0;
    GemmDtype dtype = GemmDtype::f32;
    GemmLayout layout = GemmLayout::nn;

    /// 2*m*n*k: floating-point operations (float dtypes) or integer operations (int8).
    double operations() const;
    /// Bytes of A + B + C.
    std::uint64_t working_set_bytes() const;
};

/// A projection GEMM of a transformer layer: activations (tokens x k) times a weight (n x k)^T.
struct LlmProjection {
    std::string model;  ///< "llama3-8b", "llama3-70b"
    std::string name;   ///< "q", "kv", "o", "mlp_gate_up", "mlp_down"
    std::uint64_t n = 0;
    std::uint64_t k = 0;
    /// "<model>.<name>", the case's shape parameter.
    std::string shape() const;
};

/// Largest square size by default.
inline constexpr std::uint64_t kGemmMaxSquareDefault = 8192;

/// The square sweep: powers of two 256..max_n plus odd sizes (1000, 3000) below max_n.
std::vector<std::uint64_t> gemm_square_sizes(std::uint64_t max_n = kGemmMaxSquareDefault);

/// The projection GEMMs of Llama-3-8B (hidden 4096, 32 heads, 8 KV heads of 128, MLP 14336) and
/// Llama-3-70B (hidden 8192, 64 heads, 8 KV heads of 128, MLP 28672). K and V projections have
/// the same shape (one "kv" entry), as do the MLP gate and up projections ("mlp_gate_up").
std::vector<LlmProjection> llama3_projections();

/// Token counts (GEMM m) from decode to prefill: 1, 16, 128, 2048.
std::vector<std::uint64_t> llm_token_counts();

}  // namespace assay
