target_sources(benches_tests PRIVATE pointer_chase_test.cpp loaded_latency_test.cpp
  latency_defs_test.cpp)
