#pragma once
/// Inputs and verification of CPU GEMMs: deterministic seeded non-zero operands, and sampled
/// output entries recomputed in fp64 from the inputs exactly as stored (after bf16/f16/int8
/// conversion).
///
/// Tolerances (per checked entry c_ij, with s_ij = sum_k |a_ik| |b_kj|):
/// - float dtypes: |c_ij - ref_ij| <= (K + 2) * u * s_ij, the classic worst-case bound of a
///   K-term dot product (gamma_K) in the accumulation precision, u = 2^-53 for f64 and 2^-24
///   for f32, bf16 and f16 (those accumulate in fp32; bf16 x bf16 and f16 x f16 products are
///   exact in fp32, so only accumulation rounds). Deterministic: a correct GEMM of any blocking
///   order cannot exceed it; a wrong entry (a dropped or doubled term, a bit flip above the
///   rounding level) does.
/// - int8 dtypes: exact (int32 accumulation of K <= 2^17 products cannot overflow with these
///   input ranges).
#include <cstdint>
#include <vector>

#include "benches/cpu/gemm/gemm_shapes.hpp"
#include "benches/kernel.hpp"

namespace assay {

/// Where verification looks: full rows, full columns and single entries (the corners).
struct GemmSamples {
    std::vector<std::uint64_t> rows;
    std::vector<std::uint64_t> cols;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> entries;  ///< (row, col)
};

/// Two random full rows, two random full columns (seeded) and the four corners.
GemmSamples gemm_verify_samples(const GemmProblem& problem, std::uint64_t seed);

/// Fills A (m x k, row-major) and B (k x n row-major for nn, n x k row-major for nt) with seeded,
/// non-zero values: floats uniform in +-[0.5, 1.5) rounded to the dtype; u8 A in [1, 255]; s8 A
/// in +-[1, 127]; s8 B in +-[1, 63]. The B range keeps every u8*s8 pair sum below 2^15, so
/// x86 kernels without VNNI (VPMADDUBSW saturates int16) stay exact too.
void fill_gemm_inputs(const GemmProblem& problem, void* a, void* b, std::uint64_t seed);

/// Checks C (m x n row-major; fp32 for f32/bf16/f16, fp64 for f64, int32 for int8) at
/// gemm_verify_samples(problem, seed) against an fp64 reference of the stored inputs.
Verification verify_gemm(const GemmProblem& problem, const void* a, const void* b, const void* c,
                         std::uint64_t seed);

/// bf16 <-> fp32 (round to nearest even) and IEEE binary16 <-> fp32 conversions.
std::uint16_t float_to_bf16(float value);
float bf16_to_float(std::uint16_t bits);
std::uint16_t float_to_f16(float value);
float f16_to_float(std::uint16_t bits);

}  // namespace assay
