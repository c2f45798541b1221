# Qualification (spec checks, JUnit, derive-from) and fleet outliers. Owner: qualify-fleet.
target_sources(assay_reports PRIVATE qualify.cpp fleet.cpp)
