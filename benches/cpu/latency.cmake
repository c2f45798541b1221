# Latency kernels (pointer chase, loaded latency) and their catalog entries.
target_sources(assay_benches PRIVATE cpu/pointer_chase.cpp cpu/loaded_latency.cpp
  cpu/read_stream.cpp cpu/latency_defs.cpp)
# The streamers' read loop must vectorise whatever the build type (as the STREAM kernels).
set_source_files_properties(cpu/read_stream.cpp PROPERTIES COMPILE_OPTIONS "-O3")
