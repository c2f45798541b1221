// AVX-512F kernels (fp32 prefill; decode with fp32 / bf16 / fp16 KV). Built with AVX-512 flags
// (flash.cmake); called only after a runtime check that the CPU has AVX-512F.
#include "benches/cpu/attention/flash_avx512_vec.hpp"

namespace assay::attention::detail {

KernelSet avx512_kernels() {
    return make_kernel_set<V512>("avx512f");
}

}  // namespace assay::attention::detail
