# cuBLASLt GEMM. gemm_cuda_defs.cpp builds without CUDA too (skipped entries with the reason).
# The peak estimates (% of peak) are data: GpuInfo::peaks, filled by the probe (probes/gpu_peaks).
target_sources(assay_benches PRIVATE cuda/gemm_cuda_defs.cpp)
if(ASSAY_HAVE_CUDA)
  target_sources(assay_benches PRIVATE cuda/gemm_cublaslt.cu cuda/gemm_cuda_kernel.cpp)
  # cuBLASLt is dlopen'ed at run time (not linked): a CUDA-enabled binary still starts on hosts
  # without the CUDA libraries, and its GEMM cases are skipped with the loader's reason. Only its
  # headers are needed here; the toolkit's lib dir is the fallback when the soname is not on the
  # loader's path.
  target_include_directories(assay_benches PRIVATE ${CUDAToolkit_INCLUDE_DIRS})
  set_source_files_properties(cuda/gemm_cublaslt.cu PROPERTIES
    COMPILE_DEFINITIONS "ASSAY_CUBLASLT_FALLBACK_DIR=\"${CUDAToolkit_LIBRARY_DIR}\"")
  target_link_libraries(assay_benches PRIVATE ${CMAKE_DL_LIBS})
endif()
