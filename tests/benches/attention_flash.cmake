# Fused CPU attention kernels: every path against an fp64 reference (label unit, via
# benches_tests). The throughput check is hidden: benches_tests "[.benchmark]".
target_sources(benches_tests PRIVATE attention_flash_test.cpp)
