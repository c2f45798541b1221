// Advanced SIMD (NEON) kernels: fp32 prefill; decode with fp32 / bf16 / fp16 KV (bf16 widened
// by a shift, fp16 by FCVTL, both baseline armv8-a).
#include "benches/cpu/attention/flash_neon_vec.hpp"

namespace assay::attention::detail {

KernelSet neon_kernels() {
    return make_kernel_set<VNeon>("neon");
}

}  // namespace assay::attention::detail
