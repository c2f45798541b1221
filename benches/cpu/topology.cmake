# Topology-shaped memory benchmarks: NUMA matrix plan and kernels, core-to-core latency.
target_sources(assay_benches PRIVATE cpu/numa_plan.cpp cpu/core_to_core.cpp cpu/topology_defs.cpp)
