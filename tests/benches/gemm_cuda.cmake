# cuBLASLt GEMM: catalog entries (unit, no GPU) and, with CUDA, a gpu-labelled executable that
# exits 77 (skipped, with the reason) when no CUDA device exists.
target_sources(benches_tests PRIVATE gemm_cuda_defs_test.cpp)
if(ASSAY_HAVE_CUDA)
  add_executable(gpu_gemm_cuda_tests gemm_cuda_gpu_test.cpp)
  assay_target(gpu_gemm_cuda_tests)
  target_link_libraries(gpu_gemm_cuda_tests PRIVATE assay_benches Catch2::Catch2)
  add_test(NAME gpu_gemm_cuda_tests COMMAND gpu_gemm_cuda_tests)
  set_tests_properties(gpu_gemm_cuda_tests PROPERTIES LABELS gpu SKIP_RETURN_CODE 77)
endif()
