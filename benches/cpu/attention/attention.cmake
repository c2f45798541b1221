# CPU attention suite: kernels around the fused flash kernel, the unfused BLAS reference, catalog. Owner: attention bench.
target_sources(assay_benches PRIVATE attention_cases.cpp cpu/attention/attention_defs.cpp
  cpu/attention/attention_kernels.cpp cpu/attention/attention_unfused.cpp)
# The unfused reference's softmax must vectorise whatever the build type (a fair baseline).
set_source_files_properties(cpu/attention/attention_unfused.cpp PROPERTIES COMPILE_OPTIONS "-O3")
# The catalog's cpu.flash entries reference the fused kernel (flash.cmake's sources).
set_property(SOURCE cpu/attention/attention_defs.cpp APPEND PROPERTY COMPILE_DEFINITIONS
  ASSAY_ATTENTION_FLASH=1)
