# Regression analysis and report. Owner: regress.
target_sources(reports_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR}/regress_report_test.cpp)
