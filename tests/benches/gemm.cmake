target_sources(benches_tests PRIVATE gemm_cpu_test.cpp gemm_verify_test.cpp gemm_defs_test.cpp)
