#pragma once
/// Attention cases shared by the CPU and CUDA backends: shapes, presets, canonical case params,
/// FLOP/byte conventions, seeded inputs and the fp64 reference verification of sampled rows.
///
/// C++17 on purpose: CUDA translation units include it. No third-party types, no core/ headers
/// (those are C++20). The Dtype enum and the Shape struct are the ones of the fused CPU kernel's
/// contract (benches/cpu/attention/flash_cpu.hpp), so both backends speak the same types; only
/// Dtype, Shape and Tensors are used from that header (it declares no third-party type).
///
/// Layout convention (same as flash_cpu.hpp): Q [B][H][S_q][D], K/V [B][H_kv][S_kv][D], O
/// [B][H][S_q][D], query head h reads KV head h / (H / H_kv); causal mask bottom-right aligned:
/// query i sees key j iff j <= i + (S_kv - S_q). Other layouts are described by TensorView
/// strides for verification.
///
/// FLOP convention ("unmasked pairs"): 4·B·H·D·P where P is the number of (query, key) pairs
/// that the mask lets through for one (batch, head): S_q·S_kv without a mask, S(S+1)/2 for a
/// causal square prefill. 2·D for Q·Kᵀ and 2·D for P·V per pair; softmax is not counted. Work
/// a kernel skips because of the mask is not counted as done.
///
/// KV-bytes convention (decode): K and V read once, 2·B·H_kv·S_kv·D·sizeof(kv), plus Q read
/// and O written (B·H·S_q·D each, in their dtypes).
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "benches/cpu/attention/flash_cpu.hpp"

namespace assay {
namespace attention {

/// Benchmark names of the two phases.
inline constexpr const char* kPrefillBenchmark = "attention.prefill";
inline constexpr const char* kDecodeBenchmark = "attention.decode";

enum class Phase { prefill, decode };

/// Case-param spelling of a dtype, the same as the GEMM suite's: "f32", "bf16", "f16".
const char* dtype_param(Dtype d);
/// Inverse of dtype_param; nullopt for anything else.
std::optional<Dtype> dtype_from_param(const std::string& name);
/// Bytes per element: 4, 2, 2.
std::size_t element_bytes(Dtype d);

/// A model-like head configuration.
struct Preset {
    const char* name;  ///< case param "preset", e.g. "llama3_8b"
    std::int64_t heads_q;
    std::int64_t heads_kv;
    std::int64_t head_dim;
};

/// The named presets: llama3_8b (H=32, H_kv=8, D=128: GQA 4), llama3_70b (64, 8, 128: GQA 8),
/// mha_d128 (32, 32, 128: GQA 1, Llama-2-7B-like), gqa4_d64 (32, 8, 64: head dim 64).
const std::vector<Preset>& presets();
/// The preset of that name, or nullopt.
std::optional<Preset> find_preset(const std::string& name);

/// One attention case: what both backends measure under the same canonical params.
struct AttentionCase {
    Phase phase = Phase::prefill;
    std::string preset;  ///< Preset::name
    Shape shape;         ///< prefill: seq_q == seq_kv; decode: seq_q == 1, causal == false
    Dtype q_dtype = Dtype::f32;
    Dtype kv_dtype = Dtype::f32;      ///< prefill: == q_dtype
    std::vector<std::string> suites;  ///< "quick" and/or "full"
};

/// Prefill cases, batch 1, for q = kv dtype in {f32, bf16, f16} (a backend keeps the dtypes it
/// implements): llama3_8b at S = 512, 1024, 2048, 4096, 8192, 16384, causal and non-causal;
/// llama3_70b at 512, 2048, 8192 causal and non-causal; mha_d128 and gqa4_d64 at 512, 2048,
/// 8192 causal. Quick suite: llama3_8b f32 S=512 causal and S=2048 causal.
std::vector<AttentionCase> prefill_cases();

/// Decode cases (one query token, no mask) for (q, kv) dtype pairs (f32, f32), (f32, bf16),
/// (f32, f16), (bf16, bf16), (f16, f16): llama3_8b at KV length 1024, 4096, 16384, 65536,
/// 131072 with batch 1, 8, 64; llama3_70b and mha_d128 at 4096 and 65536 with batch 1 and 8.
/// Quick suite: llama3_8b f32/f32 batch 1 KV 4096.
std::vector<AttentionCase> decode_cases();

/// Benchmark name of the case's phase.
const char* benchmark_name(Phase phase);

/// Canonical params (the same on every device, so results line up):
///   prefill: dtype, batch, heads_q, heads_kv, head_dim, seq, causal ("true"/"false"), preset
///   decode:  dtype, kv_dtype, batch, heads_q, heads_kv, head_dim, kv_len, preset
std::map<std::string, std::string> case_params(const AttentionCase& c);

/// Unmasked (query, key) pairs of one (batch, head) under the bottom-right causal rule.
double unmasked_pairs(const Shape& s);
/// FLOP of one attention call: 4·B·H·D·unmasked_pairs (see the convention above).
double attention_flops(const Shape& s);
/// K and V bytes read once: 2·B·H_kv·S_kv·D·sizeof(kv).
double kv_bytes(const Shape& s, Dtype kv_dtype);
/// Bytes of one decode call: kv_bytes + Q read (q_dtype) + O written (fp32).
double decode_bytes(const Shape& s, Dtype q_dtype, Dtype kv_dtype);
/// Elements of Q (= O) and of K (= V).
std::size_t q_elements(const Shape& s);
std::size_t kv_elements(const Shape& s);
/// Short shape label for reports: "B1 H32/8 D128 S2048 causal" / "B1 H32/8 D128 KV4096".
std::string shape_label(const AttentionCase& c);
/// Throws std::invalid_argument for non-positive sizes or heads_q % heads_kv != 0.
void check_shape(const Shape& s);

/// bf16/fp16 <-> float, round-to-nearest-even (NaN kept quiet). Portable software versions.
std::uint16_t float_to_bf16_bits(float f);
float bf16_bits_to_float(std::uint16_t b);
std::uint16_t float_to_fp16_bits(float f);
float fp16_bits_to_float(std::uint16_t h);

/// Seeded inputs: element i of a tensor is a uniform value in [-1, 1) drawn from a counter-based
/// hash of (seed, i), so any sub-range can be filled by the thread that first-touches it and the
/// result does not depend on the split. Writes elements [begin, end) of `data` in dtype (raw
/// bf16/fp16 bits for the half types; the value is rounded to that dtype).
void fill_random(void* data, Dtype dtype, std::size_t begin, std::size_t end, std::uint64_t seed);
/// Element i of `data` (dtype) as double.
double load_element(const void* data, Dtype dtype, std::size_t index);
/// Stores value into element i (rounded to dtype); used by tests and corruption seams.
void store_element(void* data, Dtype dtype, std::size_t index, double value);

/// A tensor in host memory with element strides (the last dimension is contiguous).
struct TensorView {
    const void* data = nullptr;
    Dtype dtype = Dtype::f32;
    std::int64_t stride_batch = 0;  ///< elements between batches
    std::int64_t stride_head = 0;   ///< elements between heads
    std::int64_t stride_seq = 0;    ///< elements between rows
};
/// The flash_cpu.hpp layout [batch][heads][seq][head_dim].
TensorView contiguous_bhsd(const void* data, Dtype dtype, std::int64_t heads, std::int64_t seq,
                           std::int64_t head_dim);

/// One sampled output row.
struct RowIndex {
    std::int64_t batch = 0;
    std::int64_t head = 0;
    std::int64_t query = 0;
};

/// The rows verification checks: batches {0, middle, last}, heads {0, one in another KV group
/// (when H_kv > 1), last}, queries {0, middle, last} plus `extra_queries` seeded random ones per
/// (batch, head). Deterministic, duplicates removed.
std::vector<RowIndex> sample_rows(const Shape& s, std::size_t extra_queries = 2,
                                  std::uint64_t seed = 7);

/// Outcome of a verification.
struct AttentionCheck {
    bool ok = false;
    std::string detail;                ///< rows checked, tolerance rule, worst error and where
    double worst_abs_error = 0;        ///< largest |O - O_ref| seen
    double worst_tolerance_ratio = 0;  ///< largest |O - O_ref| / tolerance (> 1 fails)
    std::size_t rows_checked = 0;
};

/// Checks the given rows of O against an fp64 reference computed from the stored (already
/// rounded) inputs, causal mask included; a NaN/Inf output fails. `compute_dtype` is the dtype of
/// the kernel's products (q_dtype for fused kernels: P is rounded to it for P·V when it is a
/// half type). Per-element tolerance, from a first-order error analysis (u = 2^-24, fp32
/// accumulation; p_j the normalised reference probabilities, o the reference output):
///   tol = 2 · (2·e_s + e_p + e_acc) · Σ_j p_j (|v_j| + |o|) + e_o·|o| + 2^-24
///   e_s   score error: (D + 2)·u·scale·max_j Σ_d |q_d k_jd|, plus, for half compute dtypes,
///         e_half·scale·max_j Σ_d |q_d k_jd| with e_half = e_p/2 (the kernel may pre-scale Q and
///         round it to that dtype);
///         a score error δ changes p_j by a factor e^{±δ} and the normaliser too, hence 2·e_s;
///   e_p   P and exp rounding: fp32 2^-20 (fast vectorised exp, ~1e-6 relative), bf16 2^-8
///         (P rounded to bf16 for P·V; covers truncation), fp16 2^-11;
///   e_acc accumulation of P·V and of the row sum over n visible keys: 8·sqrt(n)·u (Higham's
///         statistical estimate with a safety factor; the deterministic worst case is n·u);
///   e_o   rounding of O itself when o.dtype is a half type (bf16 2^-8, fp16 2^-11), else 0;
/// the leading 2 is a safety factor. Rows with no visible key must be 0.
AttentionCheck verify_rows(const Shape& s, Dtype compute_dtype, const TensorView& q,
                           const TensorView& k, const TensorView& v, const TensorView& o,
                           const std::vector<RowIndex>& rows);

/// verify_rows over sample_rows(s) with the flash_cpu.hpp layout and an fp32 O.
AttentionCheck verify_sampled(const Shape& s, Dtype q_dtype, Dtype kv_dtype, const void* q,
                              const void* k, const void* v, const float* o);

}  // namespace attention
}  // namespace assay
