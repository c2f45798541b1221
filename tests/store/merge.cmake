# Ingest tests (store/merge.*, store/gbench_import.*). Owner: ingest.
target_sources(store_tests PRIVATE merge_test.cpp gbench_import_test.cpp)
target_link_libraries(store_tests PRIVATE nlohmann_json::nlohmann_json)
# A real Google Benchmark program: the import test runs it and imports its fresh JSON output.
add_executable(gbench_sample_bench gbench_sample_bench.cpp)
target_link_libraries(gbench_sample_bench PRIVATE benchmark::benchmark)
add_dependencies(store_tests gbench_sample_bench)
# Cross builds run the program through the same emulator CTest uses (qemu-user for aarch64).
if(CMAKE_CROSSCOMPILING_EMULATOR)
  list(JOIN CMAKE_CROSSCOMPILING_EMULATOR " " _gbench_runner)
else()
  set(_gbench_runner "")
endif()
target_compile_definitions(store_tests PRIVATE
  ASSAY_GBENCH_SAMPLE="$<TARGET_FILE:gbench_sample_bench>"
  ASSAY_GBENCH_RUNNER="${_gbench_runner}"
  ASSAY_STORE_TEST_DATA="${CMAKE_CURRENT_SOURCE_DIR}/data")
