# CUDA attention suite: flash-2 prefill and split-KV decode on the tensor cores / CUDA cores, and
# the cuDNN SDPA backend entry. attention_cuda_defs.cpp builds without CUDA too (it then offers
# skipped entries with the reason).
# attention_cudnn.cpp (the cuDNN SDPA graph as data) builds without CUDA too: unit-tested anywhere.
target_sources(assay_benches PRIVATE cuda/attention_cuda_defs.cpp cuda/attention_cudnn.cpp)
if(ASSAY_HAVE_CUDA)
  # attention_cuda.cu: nvcc, C++17, CUDA types stay inside; attention_cuda_kernel.cpp: the Kernels.
  target_sources(assay_benches PRIVATE cuda/attention_cuda.cu cuda/attention_cuda_kernel.cpp)
  # cuDNN SDPA (backend graph API): dlopen'ed at run time like cuBLASLt (gemm_cuda.cmake), so a
  # CUDA-enabled binary still starts without cuDNN and its cuda.cudnn cases are skipped with the
  # loader's reason. Only cudnn.h is needed here (the toolkit's include dir, or CUDNN_INCLUDE_DIR);
  # the toolkit's lib dir is the fallback when libcudnn.so.9 is not on the loader's path.
  find_path(ASSAY_CUDNN_INCLUDE_DIR cudnn.h HINTS ${CUDNN_INCLUDE_DIR} ${CUDAToolkit_INCLUDE_DIRS})
  if(ASSAY_CUDNN_INCLUDE_DIR)
    target_sources(assay_benches PRIVATE cuda/attention_cudnn.cu cuda/attention_cudnn_kernel.cpp)
    target_include_directories(assay_benches PRIVATE ${ASSAY_CUDNN_INCLUDE_DIR})
    target_compile_definitions(assay_benches PRIVATE ASSAY_HAVE_CUDNN=1)
    set_source_files_properties(cuda/attention_cudnn.cu PROPERTIES
      COMPILE_DEFINITIONS "ASSAY_CUDNN_FALLBACK_DIR=\"${CUDAToolkit_LIBRARY_DIR}\"")
    target_link_libraries(assay_benches PRIVATE ${CMAKE_DL_LIBS})
  else()
    message(STATUS "cudnn.h not found: the cuda.cudnn attention cases are skipped (no cuDNN backend)")
  endif()
endif()
