# cuBLASLt GEMM. gemm_cuda_defs.cpp builds without CUDA too (skipped entries with the reason).
target_sources(assay_benches PRIVATE cuda/gemm_cuda_defs.cpp)
