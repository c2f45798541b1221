#pragma once
/// Thread placements for CPU kernels: pure functions from the probed topology (as data) to the OS
/// PU indices the workers are pinned to, plus the cache level a per-thread working set fits in.
#include <cstdint>
#include <string>
#include <vector>

#include "core/host_info.hpp"

namespace assay {

/// A named set of PUs, one worker thread per entry (OS indices, in worker order).
struct Placement {
    std::string label;          ///< "one_core", "numa0_cores", "all_cores", "all_pus", "socket0"
    std::vector<unsigned> pus;  ///< OS PU indices; empty when the topology has no usable cores
};

/// The first PU of the first core: 1 thread (empty without cores).
std::vector<unsigned> one_core_pus(const TopologyInfo& topo);
/// The first PU of each core local to the first NUMA node that has cores. A core belongs to a
/// node when its first PU is among the node's PUs; empty without NUMA information.
std::vector<unsigned> numa0_cores_pus(const TopologyInfo& topo);
/// The first PU of every core, all NUMA nodes and packages.
std::vector<unsigned> all_cores_pus(const TopologyInfo& topo);
/// Every PU of every core (SMT siblings included), core by core.
std::vector<unsigned> all_pus_pus(const TopologyInfo& topo);
/// The first PU of each core of package 0 (logical index).
std::vector<unsigned> socket0_pus(const TopologyInfo& topo);

/// The placements worth measuring on this topology, in this order: one_core, numa0_cores (only
/// when more than one NUMA node has cores; otherwise it equals all_cores), all_cores, all_pus
/// (only when max_pus_per_core > 1) and socket0 (only when packages > 1). Always contains
/// one_core and all_cores, possibly with empty PU lists (the catalog then skips with a reason).
std::vector<Placement> cpu_placements(const TopologyInfo& topo);

/// The smallest cache level a working set of bytes_per_thread fits in: "L1d", "L2", "L3" (or
/// "L4"), else "DRAM". Rule: each data/unified cache instance is shared by the threads running on
/// the cores it serves, so a thread's share is size_bytes / sharers, where sharers is
/// cores_per_instance, or min(cores_per_instance, active_threads) when active_threads > 0 (e.g.
/// 1 for a one_core placement, which has a shared L3 to itself). The working set fits a level
/// when bytes_per_thread <= that share. Caches of unknown size are ignored.
std::string cache_level_label(const TopologyInfo& topo, std::uint64_t bytes_per_thread,
                              unsigned active_threads = 0);

}  // namespace assay
