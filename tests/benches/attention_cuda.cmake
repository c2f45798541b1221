# CUDA attention suite: catalog entries and the device input generator (unit, no GPU) and, with
# CUDA, a gpu-labelled executable that runs small shapes of every kernel and exits 77 (skipped,
# with the reason) when no CUDA device exists.
target_sources(benches_tests PRIVATE attention_cuda_defs_test.cpp attention_cudnn_test.cpp)
if(ASSAY_HAVE_CUDA)
  add_executable(gpu_attention_cuda_tests attention_cuda_gpu_test.cpp)
  assay_target(gpu_attention_cuda_tests)
  target_link_libraries(gpu_attention_cuda_tests PRIVATE assay_benches Catch2::Catch2)
  add_test(NAME gpu_attention_cuda_tests COMMAND gpu_attention_cuda_tests)
  set_tests_properties(gpu_attention_cuda_tests PROPERTIES LABELS gpu SKIP_RETURN_CODE 77)
endif()
# The cuDNN SDPA backend is compiled when cudnn.h was found (benches/cuda/attention_cuda.cmake):
# its loader test (benches_tests) and GPU tests need to know.
if(ASSAY_HAVE_CUDA AND ASSAY_CUDNN_INCLUDE_DIR)
  target_compile_definitions(benches_tests PRIVATE ASSAY_HAVE_CUDNN=1)
  target_compile_definitions(gpu_attention_cuda_tests PRIVATE ASSAY_HAVE_CUDNN=1)
endif()
