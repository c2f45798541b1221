// SVE BF16 prefill at a fixed 128-bit vector length (BFDOT for Q·Kᵀ and P·V, P rounded to bf16 by
// BFCVT; max, sum and the accumulator stay fp32). Built with +sve+bf16 -msve-vector-bits=128;
// called only when the vector length is 128 bits and AT_HWCAP2 has HWCAP2_SVEBF16.
#include "benches/cpu/attention/flash_sve_vec.hpp"

static_assert(assay::attention::detail::kSveBits == 128,
              "build this file with -msve-vector-bits=128");
static_assert(assay::attention::detail::VSve::kBf16, "build this file with +bf16");

namespace assay::attention::detail {

PrefillFn sve128_bf16_prefill() {
    return &prefill_item<VSve, true>;
}

}  // namespace assay::attention::detail
