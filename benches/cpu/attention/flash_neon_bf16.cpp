// Arm BF16 prefill (BFDOT for Q·Kᵀ and P·V, P rounded to bf16; max, sum and the accumulator stay
// fp32). Built with +bf16; called only when AT_HWCAP2 has HWCAP2_BF16.
#include "benches/cpu/attention/flash_neon_vec.hpp"

namespace assay::attention::detail {

PrefillFn neon_bf16_prefill() {
    return &prefill_item<VNeon, true>;
}

}  // namespace assay::attention::detail
