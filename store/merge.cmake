# Ingest of other stores and Google Benchmark JSON. Owner: ingest.
target_sources(assay_store PRIVATE merge.cpp gbench_import.cpp)
