// AVX512-BF16 prefill (VDPBF16PS for Q·Kᵀ and P·V, P rounded to bf16 as FlashAttention does;
// max, sum and the output accumulator stay fp32). Built with -mavx512bf16; called only after a
// runtime check for avx512bf16.
#include "benches/cpu/attention/flash_avx512_vec.hpp"

namespace assay::attention::detail {

PrefillFn avx512_bf16_prefill() {
    return &prefill_item<V512, true>;
}

}  // namespace assay::attention::detail
