# Regression report. Owner: regress.
target_sources(assay_reports PRIVATE ${CMAKE_CURRENT_LIST_DIR}/regress_report.cpp)
