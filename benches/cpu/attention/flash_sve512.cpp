// SVE kernels at a fixed 512-bit vector length (-msve-vector-bits=512): fp32 prefill; decode with
// fp32 / bf16 / fp16 KV. Called only when the CPU's SVE vector length is 512 bits.
#include "benches/cpu/attention/flash_sve_vec.hpp"

static_assert(assay::attention::detail::kSveBits == 512,
              "build this file with -msve-vector-bits=512");

namespace assay::attention::detail {

KernelSet sve512_kernels() {
    return make_kernel_set<VSve>("sve512");
}

}  // namespace assay::attention::detail
