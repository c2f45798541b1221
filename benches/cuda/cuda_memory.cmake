# GPU memory benchmarks: device-memory kernels, host<->device and device<->device transfers.
# cuda_memory_defs.cpp builds without CUDA too (it then offers skipped entries with the reason).
target_sources(assay_benches PRIVATE cuda/cuda_memory_defs.cpp)
