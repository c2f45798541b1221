# GPU memory benchmarks: device-memory kernels, host<->device and device<->device transfers.
# cuda_memory_defs.cpp builds without CUDA too (it then offers skipped entries with the reason).
target_sources(assay_benches PRIVATE cuda/cuda_memory_defs.cpp)
if(ASSAY_HAVE_CUDA)
  # memory_cuda.cu: nvcc, C++17, CUDA types stay inside; gpu_memory_kernels.cpp: the Kernels.
  target_sources(assay_benches PRIVATE cuda/memory_cuda.cu cuda/gpu_memory_kernels.cpp)
endif()
