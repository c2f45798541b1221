// SVE kernels at a fixed 128-bit vector length (-msve-vector-bits=128): fp32 prefill; decode with
// fp32 / bf16 / fp16 KV. Called only when the CPU's SVE vector length is 128 bits.
#include "benches/cpu/attention/flash_sve_vec.hpp"

static_assert(assay::attention::detail::kSveBits == 128,
              "build this file with -msve-vector-bits=128");

namespace assay::attention::detail {

KernelSet sve128_kernels() {
    return make_kernel_set<VSve>("sve128");
}

}  // namespace assay::attention::detail
