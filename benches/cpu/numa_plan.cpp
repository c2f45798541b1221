#include "benches/cpu/numa_plan.hpp"

#include <algorithm>

namespace assay {
namespace {

const NumaNodeInfo* find_node(const TopologyInfo& topo, unsigned node_os_index) {
    for (const NumaNodeInfo& node : topo.numa_nodes) {
        if (node.os_index == node_os_index) {
            return &node;
        }
    }
    return nullptr;
}

}  // namespace

std::vector<unsigned> numa_node_core_pus(const TopologyInfo& topo, unsigned node_os_index) {
    std::vector<unsigned> out;
    const NumaNodeInfo* node = find_node(topo, node_os_index);
    if (node == nullptr) {
        return out;
    }
    for (const CoreInfo& core : topo.core_list) {
        if (!core.pu_os_indices.empty() &&
            std::find(node->pu_os_indices.begin(), node->pu_os_indices.end(),
                      core.pu_os_indices.front()) != node->pu_os_indices.end()) {
            out.push_back(core.pu_os_indices.front());
        }
    }
    return out;
}

std::optional<unsigned> numa_chaser_pu(const TopologyInfo& topo, unsigned node_os_index) {
    const std::vector<unsigned> pus = numa_node_core_pus(topo, node_os_index);
    if (pus.empty()) {
        return std::nullopt;
    }
    return pus.front();
}

std::vector<unsigned> numa_cpu_nodes(const TopologyInfo& topo) {
    std::vector<unsigned> out;
    for (const NumaNodeInfo& node : topo.numa_nodes) {
        if (!numa_node_core_pus(topo, node.os_index).empty()) {
            out.push_back(node.os_index);
        }
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::vector<unsigned> numa_memory_nodes(const TopologyInfo& topo) {
    std::vector<unsigned> out;
    for (const NumaNodeInfo& node : topo.numa_nodes) {
        if (node.local_memory_bytes > 0) {
            out.push_back(node.os_index);
        }
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::vector<NumaPair> numa_matrix_plan(const TopologyInfo& topo) {
    std::vector<NumaPair> out;
    const std::vector<unsigned> memory_nodes = numa_memory_nodes(topo);
    for (const unsigned cpu_node : numa_cpu_nodes(topo)) {
        const std::vector<unsigned> pus = numa_node_core_pus(topo, cpu_node);
        for (const unsigned memory_node : memory_nodes) {
            out.push_back(NumaPair{cpu_node, memory_node, pus});
        }
    }
    return out;
}

}  // namespace assay
