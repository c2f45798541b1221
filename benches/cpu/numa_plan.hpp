#pragma once
/// The NUMA matrix plan: which (CPU node, memory node) pairs to measure and which PUs run each
/// pair. Pure functions over the probed topology (as data); nothing here touches the host.
#include <optional>
#include <vector>

#include "core/host_info.hpp"

namespace assay {

/// One cell of the NUMA matrix: threads on the cores of `cpu_node` access memory of `memory_node`.
struct NumaPair {
    unsigned cpu_node = 0;          ///< OS index of the node whose cores run the threads
    unsigned memory_node = 0;       ///< OS index of the node the memory is bound to
    std::vector<unsigned> cpu_pus;  ///< first PU (OS index) of each core local to cpu_node
};

/// The first PU (OS index) of each core local to NUMA node `node_os_index`, in core order. A core
/// is local to a node when its first PU is among the node's PUs (as in placement.hpp). Empty for
/// unknown or CPU-less nodes.
std::vector<unsigned> numa_node_core_pus(const TopologyInfo& topo, unsigned node_os_index);

/// The PU that runs the NUMA latency chase from node `node_os_index`: the first PU of the node's
/// first core; nullopt when the node has no cores.
std::optional<unsigned> numa_chaser_pu(const TopologyInfo& topo, unsigned node_os_index);

/// OS indices, ascending, of the nodes that can be sources of the matrix (they have cores).
std::vector<unsigned> numa_cpu_nodes(const TopologyInfo& topo);

/// OS indices, ascending, of the nodes that can be targets (local memory > 0 bytes). Memory-only
/// nodes (HBM, CXL, GPU memory exposed as NUMA nodes) are targets but never sources.
std::vector<unsigned> numa_memory_nodes(const TopologyInfo& topo);

/// Every (i, j) with i in numa_cpu_nodes() and j in numa_memory_nodes(), ordered by i then j:
/// N_cpu x N_mem pairs (1 x 1 on a single-node host, empty without NUMA information).
std::vector<NumaPair> numa_matrix_plan(const TopologyInfo& topo);

}  // namespace assay
