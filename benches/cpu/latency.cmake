# Latency kernels (pointer chase, loaded latency) and their catalog entries.
target_sources(assay_benches PRIVATE cpu/pointer_chase.cpp cpu/loaded_latency.cpp
  cpu/latency_defs.cpp)
