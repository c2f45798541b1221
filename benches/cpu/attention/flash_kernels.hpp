#pragma once
/// Private to the fused CPU attention: the work descriptions shared by the dispatcher
/// (flash_cpu.cpp) and the per-ISA kernel files, and the kernel sets each ISA file exports.
#include <cstdint>

#include "benches/cpu/attention/flash_cpu.hpp"

namespace assay::attention::detail {

/// Keys per KV tile of prefill, and of decode on the software-prefetch path (also the unit decode
/// chunks are counted in). A decode tile's scores are computed for every query row of the item,
/// then its V rows are swept once per row group (see flash_tiles.hpp); there 64 keys (32 KiB of
/// fp32 K at D=128) measured as fast as 128 and faster than 32 on Zen 4. Both must stay
/// multiples of the widest vector (16 fp32).
inline constexpr std::int64_t kPrefillKvBlock = 64;
inline constexpr std::int64_t kDecodeKvBlock = 64;
/// Keys per decode tile where the sequential path runs (kernels whose vectors hold a query row
/// in at most 16 registers: AVX-512 and SVE ≥ 256 bits at D ≤ 128/256). Each tile's Q·Kᵀ reads
/// one long run of K (512 KiB of fp32 K at D=128), then its P·V one long run of V: on Zen 4
/// (per-core bound, paired with a plain read) 64, 256, 1024, 2048 and 4096 keys measured
/// 0.69-0.73, 0.73-0.76, 0.81-0.84, 0.75-0.79 and 0.73-0.79 of the read in one sweep; 1024
/// keys measured 0.72-0.84 over the builds and sessions since (this shared host's spread).
inline constexpr std::int64_t kDecodeSeqTileKeys = 1024;
/// Row stride of the decode score scratch (the widest tile).
inline constexpr std::int64_t kDecodeScoreStride = kDecodeSeqTileKeys;
static_assert(kDecodeScoreStride >= kDecodeKvBlock && kDecodeScoreStride % kDecodeKvBlock == 0);

/// Whether decode at this head dim walks K and V sequentially (hardware prefetch, 1024-key
/// tiles) rather than in d-outer blocks with software prefetch (64-key tiles): when one query
/// row fits in 16 vector registers.
constexpr bool decode_walks_sequentially(std::int64_t head_dim, int vector_floats) {
    return head_dim / vector_floats <= 16;
}

/// Keys ahead of the current tile that decode prefetches into L2 (4 tiles: 128 KiB of fp32 K
/// at D=128, well inside L2). Against a plain read of the same buffers, paired in time on Zen 4:
/// 64, 128 and 256 keys ahead measured 0.78-0.81, 0.81-0.87 and 0.86-0.88; 512 no better.
inline constexpr std::int64_t kDecodePrefetchKeys = 4 * kDecodeKvBlock;
/// Query rows of a prefill work item are padded to this (the widest vector, AVX-512 fp32).
inline constexpr std::int64_t kRowPad = 16;

/// One prefill call. A work item is (batch, kv head, query block); its rows are the g query
/// heads sharing the kv head × the block's query positions: row r = head_in_group * nq + i.
struct PrefillJob {
    Shape shape;
    const void* q = nullptr;
    const void* k = nullptr;
    const void* v = nullptr;
    float* o = nullptr;
    std::int64_t block_rows = 0;  ///< query positions per item (Br)
    float scale_log2 = 0;         ///< log2(e) / sqrt(head_dim): scores live in the log2 domain
};

/// Per-thread prefill scratch, sized for block_rows (rows_pad = round_up(g·Br, kRowPad)).
struct PrefillScratch {
    void* qt = nullptr;             ///< Qᵀ: [D][rows_pad] f32, or bf16 pairs [D/2][rows_pad]
    float* st = nullptr;            ///< Sᵀ then Pᵀ: [kPrefillKvBlock][rows_pad]
    std::uint32_t* pp = nullptr;    ///< bf16 P pairs [kPrefillKvBlock/2][rows_pad]
    std::uint32_t* vp = nullptr;    ///< bf16 V pairs [kPrefillKvBlock/2][D] (lo: even key)
    float* o = nullptr;             ///< unnormalised output [rows_pad][D]
    float* m = nullptr;             ///< running max (log2 domain) [rows_pad]
    float* l = nullptr;             ///< running sum [rows_pad]
    float* alpha = nullptr;         ///< rescale factor of the current tile [rows_pad]
    std::int32_t* limit = nullptr;  ///< keys visible to row r: j < limit[r] [rows_pad]
};

/// One decode call. A work item is (batch, kv head, kv chunk); rows r = head_in_group·seq_q + i.
struct DecodeJob {
    Shape shape;
    Dtype q_dtype = Dtype::f32;
    const void* q = nullptr;
    const void* k = nullptr;
    const void* v = nullptr;
    std::int64_t chunks = 1;     ///< kv chunks per (batch, kv head)
    std::int64_t chunk_len = 1;  ///< keys per chunk (the last may be shorter)
    float scale_log2 = 0;
    /// Partial states, [item][row][2 + D]: m (log2 domain), l, unnormalised acc[D].
    float* partial = nullptr;
};

/// Per-thread decode scratch for rows = g·seq_q.
struct DecodeScratch {
    float* q = nullptr;  ///< [rows][D] fp32
    float* s = nullptr;  ///< scores then P: [rows][kDecodeScoreStride]
    float* o = nullptr;  ///< [rows][D]
    float* m = nullptr;
    float* l = nullptr;
    float* alpha = nullptr;
    std::int32_t* limit = nullptr;
};

using PrefillFn = void (*)(const PrefillJob&, std::int64_t item, const PrefillScratch&);
using DecodeFn = void (*)(const DecodeJob&, std::int64_t item, const DecodeScratch&);

/// What one ISA file offers; null entries are unsupported there.
struct KernelSet {
    const char* name = "";
    int vector_floats = 1;  ///< fp32 lanes per vector (W)
    PrefillFn prefill_f32 = nullptr;
    PrefillFn prefill_bf16 = nullptr;
    DecodeFn decode_kv_f32 = nullptr;
    DecodeFn decode_kv_bf16 = nullptr;
    DecodeFn decode_kv_f16 = nullptr;
};

KernelSet portable_kernels();
#if defined(__x86_64__)
KernelSet avx512_kernels();
/// The bf16 prefill of the AVX512-BF16 file (call only when the CPU has avx512bf16).
PrefillFn avx512_bf16_prefill();
#endif
#if defined(__aarch64__)
KernelSet neon_kernels();
/// The bf16 prefill of the BF16 (BFDOT) file (call only with HWCAP2_BF16).
PrefillFn neon_bf16_prefill();
/// Fixed-length SVE kernel sets, one per vector length (call only when the CPU has SVE at
/// exactly that length: the code assumes it), and their BF16 prefill (also needs
/// HWCAP2_SVEBF16).
KernelSet sve128_kernels();
KernelSet sve256_kernels();
KernelSet sve512_kernels();
PrefillFn sve128_bf16_prefill();
PrefillFn sve256_bf16_prefill();
PrefillFn sve512_bf16_prefill();
#endif

}  // namespace assay::attention::detail
