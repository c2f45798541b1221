# Export rendering tests. Owner: ingest.
target_sources(reports_tests PRIVATE export_test.cpp)
