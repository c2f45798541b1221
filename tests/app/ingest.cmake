# End-to-end ingest/export tests. Owner: ingest.
target_sources(cli_tests PRIVATE ingest_cli_test.cpp)
target_compile_definitions(cli_tests PRIVATE ASSAY_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
