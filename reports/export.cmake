# Export of selections as CSV/JSON. Owner: ingest.
target_sources(assay_reports PRIVATE export.cpp)
