// Portable kernels: one-lane "vectors" (plain C++, the compiler may auto-vectorise). Runs on any
// CPU; bf16 is emulated (rounded exactly like the hardware paths, products in fp32).
#include <cmath>
#include <cstdint>

#include "benches/cpu/attention/flash_tiles.hpp"

namespace assay::attention::detail {
namespace {

struct VScalar {
    using F = float;
    struct FB {
        float lo;
        float hi;
    };
    static constexpr int W = 1;
    static constexpr bool kBf16 = true;

    static F zero() { return 0.0F; }
    static F set1(float x) { return x; }
    static F load(const float* p) { return *p; }
    static void store(float* p, F x) { *p = x; }
    static F fma(F a, F b, F c) { return a * b + c; }
    static F mul(F a, F b) { return a * b; }
    static F add(F a, F b) { return a + b; }
    static F sub(F a, F b) { return a - b; }
    static F max(F a, F b) { return a > b ? a : b; }
    static F exp2(F x) { return ::exp2f(x); }
    static float hmax(F x) { return x; }
    static float hsum(F x) { return x; }
    static void hsum16(const F* v, float* out) {
        for (int i = 0; i < 16; ++i) {
            out[i] = v[i];
        }
    }
    static F finite_or_zero(F x) { return x == kNegInf ? 0.0F : x; }
    static F mask_rows(F x, const std::int32_t* limit, std::int64_t j) {
        return limit[0] <= j ? kNegInf : x;
    }
    static F mask_tail(F x, std::int64_t valid) { return valid <= 0 ? kNegInf : x; }
    static F load_bf16(const std::uint16_t* p) { return bf16_to_f32(*p); }
    static F load_f16(const std::uint16_t* p) { return f16_to_f32(*p); }

    static FB bcast_pair(std::uint32_t u) {
        return FB{bf16_to_f32(static_cast<std::uint16_t>(u & 0xffffU)),
                  bf16_to_f32(static_cast<std::uint16_t>(u >> 16))};
    }
    static FB load_pairs(const std::uint32_t* p) { return bcast_pair(*p); }
    static F dot2(F acc, FB a, FB b) { return acc + a.lo * b.lo + a.hi * b.hi; }
    static void store_pairs(std::uint32_t* dst, F lo, F hi) {
        *dst = std::uint32_t{f32_to_bf16(lo)} | (std::uint32_t{f32_to_bf16(hi)} << 16);
    }
    static void interleave_rows(const std::uint16_t* r0, const std::uint16_t* r1,
                                std::uint32_t* dst) {
        *dst = std::uint32_t{*r0} | (std::uint32_t{*r1} << 16);
    }
};

}  // namespace

KernelSet portable_kernels() {
    return make_kernel_set<VScalar>("portable");
}

}  // namespace assay::attention::detail
