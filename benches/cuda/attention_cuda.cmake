# CUDA attention suite: flash-2 prefill and split-KV decode on the tensor cores / CUDA cores, and
# the cuDNN SDPA backend entry. attention_cuda_defs.cpp builds without CUDA too (it then offers
# skipped entries with the reason).
target_sources(assay_benches PRIVATE cuda/attention_cuda_defs.cpp)
if(ASSAY_HAVE_CUDA)
  # attention_cuda.cu: nvcc, C++17, CUDA types stay inside; attention_cuda_kernel.cpp: the Kernels.
  target_sources(assay_benches PRIVATE cuda/attention_cuda.cu cuda/attention_cuda_kernel.cpp)
endif()
