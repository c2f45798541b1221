# `assay regress` end to end (exit codes on small synthetic DBs). Owner: regress.
target_sources(cli_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR}/regress_cli_test.cpp)
