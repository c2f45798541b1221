# Qualification and fleet outlier tests (synthetic runs; no store needed). Owner: qualify-fleet.
target_sources(reports_tests PRIVATE qualify_test.cpp fleet_test.cpp)
