# CPU GEMM backends (OpenBLAS, BLIS, oneDNN) behind one interface, and their catalog entries.
target_sources(assay_benches PRIVATE cpu/gemm/gemm_cpu.cpp cpu/gemm/gemm_verify.cpp
  cpu/gemm/gemm_shapes.cpp cpu/gemm/gemm_defs.cpp)
