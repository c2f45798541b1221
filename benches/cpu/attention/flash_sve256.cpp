// SVE kernels at a fixed 256-bit vector length (-msve-vector-bits=256): fp32 prefill; decode with
// fp32 / bf16 / fp16 KV. Called only when the CPU's SVE vector length is 256 bits.
#include "benches/cpu/attention/flash_sve_vec.hpp"

static_assert(assay::attention::detail::kSveBits == 256,
              "build this file with -msve-vector-bits=256");

namespace assay::attention::detail {

KernelSet sve256_kernels() {
    return make_kernel_set<VSve>("sve256");
}

}  // namespace assay::attention::detail
