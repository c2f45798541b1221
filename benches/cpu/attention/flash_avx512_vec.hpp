#pragma once
/// Private to the fused CPU attention: the AVX-512 vector trait for flash_tiles.hpp (16 fp32
/// lanes). Included only by files built with AVX-512 flags; the bf16 part needs -mavx512bf16.
#if !defined(__AVX512F__)
#error "flash_avx512_vec.hpp needs AVX-512F compile flags"
#endif
#include <immintrin.h>

#include <bit>
#include <cstdint>

#include "benches/cpu/attention/flash_tiles.hpp"

namespace assay::attention::detail {
namespace {

struct V512 {
    using F = __m512;
    static constexpr int W = 16;
#if defined(__AVX512BF16__)
    using FB = __m512bh;
    static constexpr bool kBf16 = true;
#else
    static constexpr bool kBf16 = false;
#endif

    static F zero() {
        return _mm512_setzero_ps();
    }
    static F set1(float x) {
        return _mm512_set1_ps(x);
    }
    static F load(const float* p) {
        return _mm512_loadu_ps(p);
    }
    static void store(float* p, F x) {
        _mm512_storeu_ps(p, x);
    }
    static F fma(F a, F b, F c) {
        return _mm512_fmadd_ps(a, b, c);
    }
    static F mul(F a, F b) {
        return _mm512_mul_ps(a, b);
    }
    static F add(F a, F b) {
        return _mm512_add_ps(a, b);
    }
    static F sub(F a, F b) {
        return _mm512_sub_ps(a, b);
    }
    static F max(F a, F b) {
        return _mm512_max_ps(a, b);
    }
    /// 2^x: round to nearest n, 2^f on [-0.5, 0.5] by its degree-7 Taylor polynomial (truncation
    /// < 6e-9 relative), then scalef. Clamped at -150 first so -inf and deep underflow give 0.
    static F exp2(F x) {
        x = _mm512_max_ps(x, _mm512_set1_ps(-150.0F));
        const F n = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        const F f = _mm512_sub_ps(x, n);
        F p = _mm512_set1_ps(1.525273380405984e-05F);
        p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.5403530393381606e-04F));
        p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.3333558146428443e-03F));
        p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.618129107628477e-03F));
        p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.550410866482158e-02F));
        p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.402265069591007e-01F));
        p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.931471805599453e-01F));
        p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0F));
        return _mm512_scalef_ps(p, n);
    }
    static float hmax(F x) {
        return _mm512_reduce_max_ps(x);
    }
    static float hsum(F x) {
        return _mm512_reduce_add_ps(x);
    }
    /// The merge steps of the transpose-and-add reductions: lanes 0-7 of the result are a's two
    /// 256-bit halves added, lanes 8-15 b's (merge_halves); then, of two such vectors, each
    /// 128-bit block k gathers the partial lanes of the four inputs k (merge_blocks).
    static F merge_halves(F a, F b) {
        return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xee));
    }
    static F merge_blocks(F a, F b) {
        return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x88), _mm512_shuffle_f32x4(a, b, 0xdd));
    }
    /// out[i] = horizontal sum of v[i], for 16 vectors: a transpose-and-add tree (15 merges of
    /// 3 instructions) instead of 16 separate horizontal reductions.
    static void hsum16(const F* v, float* out) {
        F w8[8];
        for (int i = 0; i < 8; ++i) {  // lanes 0-7: v[2i] halves summed; 8-15: v[2i+1]
            w8[i] = merge_halves(v[2 * i], v[2 * i + 1]);
        }
        F w4[4];
        for (int i = 0; i < 4; ++i) {  // 128-bit blocks: v[4i], v[4i+1], v[4i+2], v[4i+3]
            w4[i] = merge_blocks(w8[2 * i], w8[2 * i + 1]);
        }
        F w2[2];
        for (int i = 0; i < 2; ++i) {  // per 128-bit block: pairs of two vectors
            const F a = w4[2 * i];
            const F b = w4[2 * i + 1];
            w2[i] = _mm512_add_ps(_mm512_shuffle_ps(a, b, 0x44), _mm512_shuffle_ps(a, b, 0xee));
        }
        const F r = _mm512_add_ps(_mm512_shuffle_ps(w2[0], w2[1], 0x88),
                                  _mm512_shuffle_ps(w2[0], w2[1], 0xdd));
        // Lane 4k + e of r now holds the sum of v[4e + k]: a 4×4 transpose puts it in order.
        const __m512i order =
            _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
        _mm512_storeu_ps(out, _mm512_permutexvar_ps(order, r));
    }
    /// s[r·stride + c] = horizontal sum of v[2r + c] for r < rows (≤ 4): the decode Q·Kᵀ
    /// reduction of 4 rows × 2 keys. The first two merge levels of hsum16, then neighbouring
    /// lanes; stored straight from registers (64-bit stores), with no staging array to reload.
    static void hsum8_pairs(const F* v, float* s, std::int64_t stride, int rows) {
        F w4[4];
        for (int i = 0; i < 4; ++i) {
            w4[i] = merge_halves(v[2 * i], v[2 * i + 1]);
        }
        F w2[2];  // 128-bit block k: 4 partial lanes of v[4i + k]
        for (int i = 0; i < 2; ++i) {
            w2[i] = merge_blocks(w4[2 * i], w4[2 * i + 1]);
        }
        // Block k: lanes 0-1 hold v[k], lanes 2-3 hold v[4 + k]; then add neighbouring lanes.
        const F y = _mm512_add_ps(_mm512_shuffle_ps(w2[0], w2[1], 0x44),
                                  _mm512_shuffle_ps(w2[0], w2[1], 0xee));
        const F z = _mm512_add_ps(y, _mm512_shuffle_ps(y, y, 0xb1));
        const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 2, 6, 10, 14, 0, 0, 0, 0, 0, 0, 0, 0);
        const __m256 sums = _mm512_castps512_ps256(_mm512_permutexvar_ps(order, z));
        const __m128 lo = _mm256_castps256_ps128(sums);
        const __m128 hi = _mm256_extractf128_ps(sums, 1);
        _mm_storel_pi(reinterpret_cast<__m64*>(s), lo);
        if (rows > 1) {
            _mm_storeh_pi(reinterpret_cast<__m64*>(s + stride), lo);
        }
        if (rows > 2) {
            _mm_storel_pi(reinterpret_cast<__m64*>(s + 2 * stride), hi);
        }
        if (rows > 3) {
            _mm_storeh_pi(reinterpret_cast<__m64*>(s + 3 * stride), hi);
        }
    }
    static F finite_or_zero(F x) {
        const __mmask16 is_neg_inf = _mm512_cmp_ps_mask(x, _mm512_set1_ps(kNegInf), _CMP_EQ_OQ);
        return _mm512_mask_blend_ps(is_neg_inf, x, _mm512_setzero_ps());
    }
    static F mask_rows(F x, const std::int32_t* limit, std::int64_t j) {
        const __m512i lim = _mm512_loadu_si512(limit);
        const __mmask16 keep = _mm512_cmpgt_epi32_mask(lim, _mm512_set1_epi32(static_cast<int>(j)));
        return _mm512_mask_blend_ps(keep, _mm512_set1_ps(kNegInf), x);
    }
    static F mask_tail(F x, std::int64_t valid) {
        if (valid >= W) {
            return x;
        }
        const auto keep =
            static_cast<__mmask16>(valid <= 0 ? 0U : (1U << static_cast<unsigned>(valid)) - 1U);
        return _mm512_mask_blend_ps(keep, _mm512_set1_ps(kNegInf), x);
    }
    static __m512i widen_u16(const std::uint16_t* p) {
        return _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    }
    static F load_bf16(const std::uint16_t* p) {
        return _mm512_castsi512_ps(_mm512_slli_epi32(widen_u16(p), 16));
    }
    static F load_f16(const std::uint16_t* p) {
        return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    }

#if defined(__AVX512BF16__)
    static FB bcast_pair(std::uint32_t u) {
        return std::bit_cast<FB>(_mm512_set1_epi32(static_cast<int>(u)));
    }
    static FB load_pairs(const std::uint32_t* p) {
        return std::bit_cast<FB>(_mm512_loadu_si512(p));
    }
    static F dot2(F acc, FB a, FB b) {
        return _mm512_dpbf16_ps(acc, a, b);
    }
    static void store_pairs(std::uint32_t* dst, F lo, F hi) {
        const __m512i l = _mm512_cvtepu16_epi32(std::bit_cast<__m256i>(_mm512_cvtneps_pbh(lo)));
        const __m512i h = _mm512_cvtepu16_epi32(std::bit_cast<__m256i>(_mm512_cvtneps_pbh(hi)));
        _mm512_storeu_si512(dst, _mm512_or_si512(l, _mm512_slli_epi32(h, 16)));
    }
    static void interleave_rows(const std::uint16_t* r0, const std::uint16_t* r1,
                                std::uint32_t* dst) {
        _mm512_storeu_si512(dst,
                            _mm512_or_si512(widen_u16(r0), _mm512_slli_epi32(widen_u16(r1), 16)));
    }
#endif
};

}  // namespace
}  // namespace assay::attention::detail
