#include "benches/cpu/placement.hpp"

#include <algorithm>
#include <utility>

namespace assay {

std::vector<unsigned> one_core_pus(const TopologyInfo& topo) {
    for (const CoreInfo& core : topo.core_list) {
        if (!core.pu_os_indices.empty()) {
            return {core.pu_os_indices.front()};
        }
    }
    return {};
}

std::vector<unsigned> numa0_cores_pus(const TopologyInfo& topo) {
    for (const NumaNodeInfo& node : topo.numa_nodes) {
        std::vector<unsigned> out;
        for (const CoreInfo& core : topo.core_list) {
            if (!core.pu_os_indices.empty() &&
                std::find(node.pu_os_indices.begin(), node.pu_os_indices.end(),
                          core.pu_os_indices.front()) != node.pu_os_indices.end()) {
                out.push_back(core.pu_os_indices.front());
            }
        }
        if (!out.empty()) {
            return out;
        }
    }
    return {};
}

std::vector<unsigned> all_cores_pus(const TopologyInfo& topo) {
    std::vector<unsigned> out;
    for (const CoreInfo& core : topo.core_list) {
        if (!core.pu_os_indices.empty()) {
            out.push_back(core.pu_os_indices.front());
        }
    }
    return out;
}

std::vector<unsigned> all_pus_pus(const TopologyInfo& topo) {
    std::vector<unsigned> out;
    for (const CoreInfo& core : topo.core_list) {
        out.insert(out.end(), core.pu_os_indices.begin(), core.pu_os_indices.end());
    }
    return out;
}

std::vector<unsigned> socket0_pus(const TopologyInfo& topo) {
    std::vector<unsigned> out;
    for (const CoreInfo& core : topo.core_list) {
        if (core.package == 0 && !core.pu_os_indices.empty()) {
            out.push_back(core.pu_os_indices.front());
        }
    }
    return out;
}

std::vector<Placement> cpu_placements(const TopologyInfo& topo) {
    std::vector<Placement> out;
    out.push_back({"one_core", one_core_pus(topo)});
    unsigned nodes_with_cores = 0;
    for (const NumaNodeInfo& node : topo.numa_nodes) {
        if (!node.pu_os_indices.empty()) {
            ++nodes_with_cores;
        }
    }
    if (nodes_with_cores > 1) {
        out.push_back({"numa0_cores", numa0_cores_pus(topo)});
    }
    out.push_back({"all_cores", all_cores_pus(topo)});
    if (topo.max_pus_per_core > 1) {
        out.push_back({"all_pus", all_pus_pus(topo)});
    }
    if (topo.packages > 1) {
        out.push_back({"socket0", socket0_pus(topo)});
    }
    return out;
}

std::string cache_level_label(const TopologyInfo& topo, std::uint64_t bytes_per_thread,
                              unsigned active_threads) {
    // caches are ordered by level; the instruction cache never holds a working set.
    for (const CacheLevel& cache : topo.caches) {
        if (cache.type == "instruction" || cache.size_bytes == 0) {
            continue;
        }
        std::uint64_t sharers = std::max(1u, cache.cores_per_instance);
        if (active_threads > 0) {
            sharers = std::min<std::uint64_t>(sharers, active_threads);
        }
        if (bytes_per_thread <= cache.size_bytes / sharers) {
            return cache.name();
        }
    }
    return "DRAM";
}

}  // namespace assay
