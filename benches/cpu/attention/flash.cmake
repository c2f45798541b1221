# Fused CPU attention kernels (flash prefill, split-K decode). Owner: attention kernel.
# The tile algorithms (flash_tiles.hpp) are compiled once per ISA, each file with its own flags;
# flash_cpu.cpp picks one at run time from the CPU's features.
target_sources(assay_benches PRIVATE cpu/attention/flash_cpu.cpp cpu/attention/flash_portable.cpp)
set_source_files_properties(cpu/attention/flash_portable.cpp PROPERTIES COMPILE_OPTIONS "-O3")
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  target_sources(assay_benches PRIVATE cpu/attention/flash_avx512.cpp
    cpu/attention/flash_avx512_bf16.cpp)
  # -Wno-(maybe-)uninitialized: GCC 12's AVX-512 intrinsic headers trip them at -O3 through
  # _mm512_undefined_ps() (GCC bug 105593), not this code; the same templates are compiled with
  # every warning in flash_portable.cpp.
  set(_assay_flash_avx512 -O3 -mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma -mf16c
    -Wno-maybe-uninitialized -Wno-uninitialized)
  set_source_files_properties(cpu/attention/flash_avx512.cpp PROPERTIES
    COMPILE_OPTIONS "${_assay_flash_avx512}")
  set_source_files_properties(cpu/attention/flash_avx512_bf16.cpp PROPERTIES
    COMPILE_OPTIONS "${_assay_flash_avx512};-mavx512bf16")
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
  target_sources(assay_benches PRIVATE cpu/attention/flash_neon.cpp
    cpu/attention/flash_neon_bf16.cpp)
  set_source_files_properties(cpu/attention/flash_neon.cpp PROPERTIES COMPILE_OPTIONS "-O3")
  set_source_files_properties(cpu/attention/flash_neon_bf16.cpp PROPERTIES
    COMPILE_OPTIONS "-O3;-march=armv8.2-a+bf16")
  # SVE at a fixed vector length per file (the tiles keep arrays of vectors, which need sized
  # types); flash_cpu.cpp runs the one whose length equals the CPU's. The bf16 files are separate
  # because SVE CPUs without BF16 exist (A64FX).
  foreach(_assay_sve_bits 128 256 512)
    target_sources(assay_benches PRIVATE cpu/attention/flash_sve${_assay_sve_bits}.cpp
      cpu/attention/flash_sve${_assay_sve_bits}_bf16.cpp)
    set_source_files_properties(cpu/attention/flash_sve${_assay_sve_bits}.cpp PROPERTIES
      COMPILE_OPTIONS "-O3;-march=armv8.2-a+sve;-msve-vector-bits=${_assay_sve_bits}")
    set_source_files_properties(cpu/attention/flash_sve${_assay_sve_bits}_bf16.cpp PROPERTIES
      COMPILE_OPTIONS "-O3;-march=armv8.2-a+sve+bf16;-msve-vector-bits=${_assay_sve_bits}")
  endforeach()
endif()
