# `assay report compare` end to end on the fixture store. Owner: compare data.
target_sources(cli_tests PRIVATE
  compare_cli_test.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/../reports/compare_fixture.cpp)
