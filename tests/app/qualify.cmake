# End-to-end `assay qualify` / `assay fleet` on a real quick run. Owner: qualify-fleet.
target_sources(cli_tests PRIVATE qualify_cli_test.cpp)
