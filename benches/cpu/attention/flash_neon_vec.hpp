#pragma once
/// Private to the fused CPU attention: the Advanced SIMD (NEON) vector trait for
/// flash_tiles.hpp (4 fp32 lanes). The bf16 part (BFDOT) needs a +bf16 compile target.
#if !defined(__aarch64__)
#error "flash_neon_vec.hpp is aarch64 only"
#endif
#include <arm_neon.h>

#include <cstdint>

#include "benches/cpu/attention/flash_tiles.hpp"

namespace assay::attention::detail {
namespace {

struct VNeon {
    using F = float32x4_t;
    static constexpr int W = 4;
#if defined(__ARM_FEATURE_BF16_VECTOR_ARITHMETIC)
    using FB = bfloat16x8_t;
    static constexpr bool kBf16 = true;
#else
    static constexpr bool kBf16 = false;
#endif

    static F zero() {
        return vdupq_n_f32(0.0F);
    }
    static F set1(float x) {
        return vdupq_n_f32(x);
    }
    static F load(const float* p) {
        return vld1q_f32(p);
    }
    static void store(float* p, F x) {
        vst1q_f32(p, x);
    }
    static F fma(F a, F b, F c) {
        return vfmaq_f32(c, a, b);
    }
    static F mul(F a, F b) {
        return vmulq_f32(a, b);
    }
    static F add(F a, F b) {
        return vaddq_f32(a, b);
    }
    static F sub(F a, F b) {
        return vsubq_f32(a, b);
    }
    static F max(F a, F b) {
        return vmaxq_f32(a, b);
    }
    /// 2^x as in the AVX-512 trait (degree-7 polynomial on [-0.5, 0.5]); 2^n is built in the
    /// exponent field, so x < -126 (and -inf) is forced to exactly 0.
    static F exp2(F x) {
        const uint32x4_t tiny = vcltq_f32(x, vdupq_n_f32(-126.0F));
        x = vmaxq_f32(x, vdupq_n_f32(-126.0F));
        const F n = vrndnq_f32(x);
        const F f = vsubq_f32(x, n);
        F p = vdupq_n_f32(1.525273380405984e-05F);
        p = vfmaq_f32(vdupq_n_f32(1.5403530393381606e-04F), p, f);
        p = vfmaq_f32(vdupq_n_f32(1.3333558146428443e-03F), p, f);
        p = vfmaq_f32(vdupq_n_f32(9.618129107628477e-03F), p, f);
        p = vfmaq_f32(vdupq_n_f32(5.550410866482158e-02F), p, f);
        p = vfmaq_f32(vdupq_n_f32(2.402265069591007e-01F), p, f);
        p = vfmaq_f32(vdupq_n_f32(6.931471805599453e-01F), p, f);
        p = vfmaq_f32(vdupq_n_f32(1.0F), p, f);
        const int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
        const F r = vmulq_f32(p, vreinterpretq_f32_s32(e));
        return vbslq_f32(tiny, vdupq_n_f32(0.0F), r);
    }
    static float hmax(F x) {
        return vmaxvq_f32(x);
    }
    static float hsum(F x) {
        return vaddvq_f32(x);
    }
    /// out[i] = horizontal sum of v[i], for 16 vectors (pairwise adds, 4 vectors per result).
    static void hsum16(const F* v, float* out) {
        for (int i = 0; i < 4; ++i) {
            const F ab = vpaddq_f32(v[4 * i], v[4 * i + 1]);
            const F cd = vpaddq_f32(v[4 * i + 2], v[4 * i + 3]);
            vst1q_f32(out + 4 * i, vpaddq_f32(ab, cd));
        }
    }
    static F finite_or_zero(F x) {
        return vbslq_f32(vceqq_f32(x, vdupq_n_f32(kNegInf)), vdupq_n_f32(0.0F), x);
    }
    static F mask_rows(F x, const std::int32_t* limit, std::int64_t j) {
        const uint32x4_t keep =
            vcgtq_s32(vld1q_s32(limit), vdupq_n_s32(static_cast<std::int32_t>(j)));
        return vbslq_f32(keep, x, vdupq_n_f32(kNegInf));
    }
    static F mask_tail(F x, std::int64_t valid) {
        if (valid >= W) {
            return x;
        }
        const std::int32_t v = valid <= 0 ? 0 : static_cast<std::int32_t>(valid);
        const std::int32_t iota_values[4] = {0, 1, 2, 3};
        const uint32x4_t keep = vcltq_s32(vld1q_s32(iota_values), vdupq_n_s32(v));
        return vbslq_f32(keep, x, vdupq_n_f32(kNegInf));
    }
    static F load_bf16(const std::uint16_t* p) {
        return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16));
    }
    static F load_f16(const std::uint16_t* p) {
        return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
    }

#if defined(__ARM_FEATURE_BF16_VECTOR_ARITHMETIC)
    static FB bcast_pair(std::uint32_t u) {
        return vreinterpretq_bf16_u32(vdupq_n_u32(u));
    }
    static FB load_pairs(const std::uint32_t* p) {
        return vreinterpretq_bf16_u32(vld1q_u32(p));
    }
    static F dot2(F acc, FB a, FB b) {
        return vbfdotq_f32(acc, a, b);
    }
    static void zip_store(std::uint32_t* dst, uint16x4_t lo, uint16x4_t hi) {
        const uint16x8_t z = vcombine_u16(vzip1_u16(lo, hi), vzip2_u16(lo, hi));
        vst1q_u32(dst, vreinterpretq_u32_u16(z));
    }
    static void store_pairs(std::uint32_t* dst, F lo, F hi) {
        zip_store(dst, vreinterpret_u16_bf16(vcvt_bf16_f32(lo)),
                  vreinterpret_u16_bf16(vcvt_bf16_f32(hi)));
    }
    static void interleave_rows(const std::uint16_t* r0, const std::uint16_t* r1,
                                std::uint32_t* dst) {
        zip_store(dst, vld1_u16(r0), vld1_u16(r1));
    }
#endif
};

}  // namespace
}  // namespace assay::attention::detail
