#pragma once
/// Private to the fused CPU attention: the SVE vector trait for flash_tiles.hpp, fixed-length.
///
/// flash_tiles.hpp keeps arrays of vectors (`typename V::F acc[16]`), which the sizeless SVE
/// types do not allow, so each including file is compiled for one vector length N with
/// `-msve-vector-bits=N` and F is svfloat32_t fixed at N bits (W = N / 32 lanes). That code is
/// correct only on a CPU whose SVE vector length is exactly N: flash_cpu.cpp checks it at run
/// time. The bf16 part (BFDOT, BFCVT/BFCVTNT) needs +bf16 in the compile target (SVE BF16).
#if !defined(__aarch64__) || !defined(__ARM_FEATURE_SVE)
#error "flash_sve_vec.hpp needs an aarch64 +sve compile target"
#endif
#if !defined(__ARM_FEATURE_SVE_BITS) ||                                \
    (__ARM_FEATURE_SVE_BITS != 128 && __ARM_FEATURE_SVE_BITS != 256 && \
     __ARM_FEATURE_SVE_BITS != 512)
#error "flash_sve_vec.hpp needs -msve-vector-bits=128, 256 or 512"
#endif
#include <arm_sve.h>

// GCC 12 does not define __ARM_FEATURE_SVE_BF16; with +sve, +bf16 enables the SVE BF16
// intrinsics too.
#if defined(__ARM_FEATURE_SVE_BF16) || defined(__ARM_FEATURE_BF16_VECTOR_ARITHMETIC)
#define ASSAY_FLASH_SVE_BF16 1
#endif

#include <cstdint>

#include "benches/cpu/attention/flash_tiles.hpp"

namespace assay::attention::detail {
namespace {

/// SVE vector length of this translation unit, in bits.
inline constexpr int kSveBits = __ARM_FEATURE_SVE_BITS;

struct VSve {
    using F = svfloat32_t __attribute__((arm_sve_vector_bits(__ARM_FEATURE_SVE_BITS)));
    static constexpr int W = kSveBits / 32;
#if defined(ASSAY_FLASH_SVE_BF16)
    using FB = svbfloat16_t __attribute__((arm_sve_vector_bits(__ARM_FEATURE_SVE_BITS)));
    static constexpr bool kBf16 = true;
#else
    static constexpr bool kBf16 = false;
#endif
    static_assert(kRowPad % W == 0 && kPrefillKvBlock % W == 0 && kDecodeKvBlock % W == 0);
    static_assert(16 % W == 0, "hsum16 reduces 16 vectors into 16 / W result vectors");

    static svbool_t all() {
        return svptrue_b32();
    }
    static F zero() {
        return svdup_n_f32(0.0F);
    }
    static F set1(float x) {
        return svdup_n_f32(x);
    }
    static F load(const float* p) {
        return svld1_f32(all(), p);
    }
    static void store(float* p, F x) {
        svst1_f32(all(), p, x);
    }
    static F fma(F a, F b, F c) {
        return svmla_f32_x(all(), c, a, b);
    }
    static F mul(F a, F b) {
        return svmul_f32_x(all(), a, b);
    }
    static F add(F a, F b) {
        return svadd_f32_x(all(), a, b);
    }
    static F sub(F a, F b) {
        return svsub_f32_x(all(), a, b);
    }
    static F max(F a, F b) {
        return svmax_f32_x(all(), a, b);
    }
    /// 2^x as in the AVX-512 trait: n = round(x), 2^f on [-0.5, 0.5] by the degree-7 polynomial,
    /// then FSCALE by n (correctly rounded into the subnormals). Clamped at -150 first: -inf and
    /// deep underflow give 2^-150 · 1, which rounds to exactly 0.
    static F exp2(F x) {
        const svbool_t pg = all();
        x = svmax_n_f32_x(pg, x, -150.0F);
        const F n = svrintn_f32_x(pg, x);
        const F f = svsub_f32_x(pg, x, n);
        F p = svdup_n_f32(1.525273380405984e-05F);
        p = svmad_n_f32_x(pg, p, f, 1.5403530393381606e-04F);
        p = svmad_n_f32_x(pg, p, f, 1.3333558146428443e-03F);
        p = svmad_n_f32_x(pg, p, f, 9.618129107628477e-03F);
        p = svmad_n_f32_x(pg, p, f, 5.550410866482158e-02F);
        p = svmad_n_f32_x(pg, p, f, 2.402265069591007e-01F);
        p = svmad_n_f32_x(pg, p, f, 6.931471805599453e-01F);
        p = svmad_n_f32_x(pg, p, f, 1.0F);
        return svscale_f32_x(pg, p, svcvt_s32_f32_x(pg, n));
    }
    static float hmax(F x) {
        return svmaxv_f32(all(), x);
    }
    static float hsum(F x) {
        return svaddv_f32(all(), x);
    }
    /// out[i] = horizontal sum of v[i], for 16 vectors: log2(W) levels of pairwise adds. UZP1 /
    /// UZP2 of (a, b) hold the even / odd lanes of a then of b, so their sum is a's lane pairs
    /// summed in the low half and b's in the high half (NEON's FADDP); after log2(W) levels each
    /// of the 16 / W vectors holds W consecutive complete sums, in order.
    static void hsum16(const F* v, float* out) {
        F t[16];
        for (int i = 0; i < 16; ++i) {
            t[i] = v[i];
        }
        int count = 16;
        for (int lanes = W; lanes > 1; lanes /= 2) {
            for (int i = 0; i < count / 2; ++i) {
                const F a = t[2 * i];
                const F b = t[2 * i + 1];
                t[i] = svadd_f32_x(all(), svuzp1_f32(a, b), svuzp2_f32(a, b));
            }
            count /= 2;
        }
        for (int i = 0; i < count; ++i) {
            store(out + i * W, t[i]);
        }
    }
    static F finite_or_zero(F x) {
        return svsel_f32(svcmpeq_n_f32(all(), x, kNegInf), zero(), x);
    }
    static F mask_rows(F x, const std::int32_t* limit, std::int64_t j) {
        const svbool_t keep =
            svcmpgt_n_s32(all(), svld1_s32(all(), limit), static_cast<std::int32_t>(j));
        return svsel_f32(keep, x, set1(kNegInf));
    }
    static F mask_tail(F x, std::int64_t valid) {
        if (valid >= W) {
            return x;
        }
        const std::int32_t v = valid <= 0 ? 0 : static_cast<std::int32_t>(valid);
        return svsel_f32(svwhilelt_b32_s32(0, v), x, set1(kNegInf));
    }
    /// W bf16 (or fp16) values, each zero-extended into the low half of a 32-bit lane.
    static svuint32_t load_u16_widened(const std::uint16_t* p) {
        return svld1uh_u32(all(), p);
    }
    static F load_bf16(const std::uint16_t* p) {
        return svreinterpret_f32_u32(svlsl_n_u32_x(all(), load_u16_widened(p), 16));
    }
    /// FCVT (half to single) reads the even-numbered 16-bit elements, i.e. the low half of each
    /// 32-bit lane: exactly where the widening load put them.
    static F load_f16(const std::uint16_t* p) {
        return svcvt_f32_f16_x(all(), svreinterpret_f16_u32(load_u16_widened(p)));
    }

#if defined(ASSAY_FLASH_SVE_BF16)
    // A "pair" is one 32-bit lane holding two bf16 (low half: the even key / dimension), the
    // layout BFDOT multiplies: lane i of dot2 adds a.lo·b.lo + a.hi·b.hi.
    static FB bcast_pair(std::uint32_t u) {
        return svreinterpret_bf16_u32(svdup_n_u32(u));
    }
    static FB load_pairs(const std::uint32_t* p) {
        return svreinterpret_bf16_u32(svld1_u32(all(), p));
    }
    static F dot2(F acc, FB a, FB b) {
        return svbfdot_f32(acc, a, b);
    }
    /// BFCVT writes the even 16-bit elements (low halves), BFCVTNT the odd ones (high halves);
    /// both round to nearest even.
    static void store_pairs(std::uint32_t* dst, F lo, F hi) {
        const svbfloat16_t even = svcvt_bf16_f32_x(all(), lo);
        const svbfloat16_t both = svcvtnt_bf16_f32_m(even, all(), hi);
        svst1_u32(all(), dst, svreinterpret_u32_bf16(both));
    }
    static void interleave_rows(const std::uint16_t* r0, const std::uint16_t* r1,
                                std::uint32_t* dst) {
        const svuint32_t lo = load_u16_widened(r0);
        const svuint32_t hi = svlsl_n_u32_x(all(), load_u16_widened(r1), 16);
        svst1_u32(all(), dst, svorr_u32_x(all(), lo, hi));
    }
#endif
};

}  // namespace
}  // namespace assay::attention::detail
