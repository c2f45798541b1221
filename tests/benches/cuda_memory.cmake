# GPU memory benchmarks: catalog entries (unit, no GPU needed) and the kernels on a real device.
target_sources(benches_tests PRIVATE cuda_memory_defs_test.cpp)
if(ASSAY_HAVE_CUDA)
  # The defs test checks runnable per-GPU entries in a CUDA build, skipped ones otherwise.
  set_source_files_properties(cuda_memory_defs_test.cpp PROPERTIES
    COMPILE_DEFINITIONS ASSAY_CUDA_MEMORY_TEST_HAVE_CUDA=1)
  # Runs and verifies every kernel on device 0; exits 77 (skipped, with the reason) without one.
  add_executable(gpu_memory_tests cuda_memory_gpu_test.cpp)
  assay_target(gpu_memory_tests)
  target_link_libraries(gpu_memory_tests PRIVATE assay_benches assay_probes Catch2::Catch2)
  add_test(NAME gpu_memory_tests COMMAND gpu_memory_tests)
  set_tests_properties(gpu_memory_tests PROPERTIES LABELS gpu SKIP_RETURN_CODE 77)
endif()
