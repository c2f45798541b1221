#pragma once
/// Catalog entries for topology-shaped memory benchmarks: the NUMA matrix (bandwidth and latency
/// from the cores of node i to memory bound on node j) and core-to-core cache-line latency.
/// The lead's build_catalog() calls these; both add full-suite cases only.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "benches/catalog.hpp"
#include "benches/kernel.hpp"
#include "core/host_info.hpp"

namespace assay {

/// Round trips of one mem.c2c run(): ~1-20 ms per sample at 50-1000 ns per round trip.
inline constexpr std::size_t kC2cRoundTrips = 10000;

/// The NUMA matrix, one cell per numa_matrix_plan() pair (OS node indices):
/// - `mem.numa.bandwidth` {cpu_node, mem_node, kernel=sum|triad}: STREAM sum (read-only) and
///   triad on one thread per core of node i, arrays bound to node j, each array >= 4x the total
///   LLC (STREAM's rule), capped by the working-set cap and by a quarter of node j's memory;
/// - `mem.numa.latency` {cpu_node, mem_node}: a pointer chase (THP-backed) from the first core of
///   node i over a buffer bound to node j, sized like one bandwidth array.
/// Each cell samples for at most 5 s. Context: threads, working_set_bytes, cpu_node, mem_node
/// (and array_bytes, llc_bytes for bandwidth; flags when the working set is below 4x LLC or the
/// LLC size was assumed). No numa_distance: TopologyInfo carries no distance matrix yet. A host
/// without NUMA information gets one skipped case of each with the reason.
void add_numa_defs(const HostInfo& host, const CatalogOptions& options,
                   std::vector<BenchmarkDef>& defs);

/// Core-to-core latency, `mem.c2c` {a, b} (OS PU indices of the initiator and responder), one
/// case per c2c_pair_plan() pair: kC2cRoundTrips round trips of a cache-line ping-pong whose
/// latency_ns is the one-way latency. Context: relation.<smt|same_l2|same_l3|same_package|
/// cross_package> = 1, core_a/core_b (logical core indices), round_trips. Sampling: at least 5
/// samples within 1 s. A host with fewer than two PUs gets one skipped case with the reason.
void add_c2c_defs(const HostInfo& host, const CatalogOptions& options,
                  std::vector<BenchmarkDef>& defs);

}  // namespace assay
