#pragma once
/// Private to benches: function multi-versioning for hot loops.
///
/// ASSAY_KERNEL_CLONES on a free function makes GCC emit AVX-512F, AVX2 and baseline versions on
/// x86-64 and pick one at load time (ifunc), so one binary runs at full width on every x86 host.
/// Elsewhere (aarch64: NEON is baseline armv8-a and auto-vectorisation uses it) it is empty.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define ASSAY_KERNEL_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ASSAY_KERNEL_CLONES
#endif
