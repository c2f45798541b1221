# Comparison HTML page. Owner: compare html.
# Unit tests of the SVG primitives and the page (in reports_tests; the page tests use compare
# data's fixture store, compiled into reports_tests by its fragment).
target_sources(reports_tests PRIVATE svg_chart_test.cpp compare_html_test.cpp)

# Browser test: the real CLI renders the fixture comparison, headless Chromium loads it (no
# console errors, charts and tables in the DOM) and screenshots it to <build>/artifacts/.
# Exits 77 (skipped, reason printed) when no Chromium is installed.
add_executable(compare_html_browser_test compare_html_browser_test.cpp compare_fixture.cpp)
assay_target(compare_html_browser_test)
target_link_libraries(compare_html_browser_test PRIVATE assay_reports assay_store assay_core)
target_compile_definitions(compare_html_browser_test PRIVATE
  ASSAY_BINARY="$<TARGET_FILE:assay>"
  ASSAY_TEST_TMP="${CMAKE_CURRENT_BINARY_DIR}/tmp"
  ASSAY_ARTIFACT_DIR="${CMAKE_BINARY_DIR}/artifacts")
add_dependencies(compare_html_browser_test assay)
add_test(NAME compare_html_browser COMMAND compare_html_browser_test)
set_tests_properties(compare_html_browser PROPERTIES
  LABELS smoke SKIP_RETURN_CODE 77 TIMEOUT 300)
