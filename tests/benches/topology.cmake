target_sources(benches_tests PRIVATE numa_plan_test.cpp core_to_core_test.cpp
  topology_defs_test.cpp numa_memory_test.cpp)
