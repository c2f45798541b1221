# CPU GEMM backends (OpenBLAS, BLIS, oneDNN) behind one interface, and their catalog entries.
# OpenBLAS and BLIS export the same BLAS/CBLAS symbols, so neither is linked: both are dlopen'ed
# (RTLD_LOCAL) at run time. oneDNN is linked when its CMake package is found.
target_sources(assay_benches PRIVATE cpu/gemm/gemm_cpu.cpp cpu/gemm/gemm_verify.cpp
  cpu/gemm/gemm_shapes.cpp cpu/gemm/gemm_defs.cpp cpu/gemm/openblas_backend.cpp
  cpu/gemm/blis_backend.cpp cpu/gemm/onednn_backend.cpp)
target_link_libraries(assay_benches PRIVATE ${CMAKE_DL_LIBS})
find_package(dnnl CONFIG QUIET)
if(dnnl_FOUND)
  set_property(SOURCE cpu/gemm/onednn_backend.cpp APPEND PROPERTY COMPILE_DEFINITIONS
    ASSAY_HAVE_DNNL=1)
  target_link_libraries(assay_benches PRIVATE DNNL::dnnl)
  message(STATUS "Assay: CPU GEMM with oneDNN ${dnnl_VERSION}")
else()
  message(STATUS "Assay: CPU GEMM without oneDNN (libdnnl-dev not found); its cases are skipped")
endif()
