# Comparison data model, statistics, renderers (golden files), prices, projections. Owner: compare data.
target_sources(reports_tests PRIVATE
  compare_fixture.cpp
  compare_stats_test.cpp
  compare_model_test.cpp
  compare_render_test.cpp
  price_projection_test.cpp)
target_link_libraries(reports_tests PRIVATE assay_store)
target_compile_definitions(reports_tests PRIVATE
  ASSAY_COMPARE_GOLDEN_DIR="${CMAKE_CURRENT_SOURCE_DIR}/golden")
