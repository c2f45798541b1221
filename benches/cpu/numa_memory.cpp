#include "benches/cpu/numa_memory.hpp"

#include <fmt/format.h>
#include <hwloc.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "core/error.hpp"

namespace assay {
namespace {

struct TopologyDeleter {
    void operator()(hwloc_topology* t) const noexcept { hwloc_topology_destroy(t); }
};
using TopologyPtr = std::unique_ptr<hwloc_topology, TopologyDeleter>;

struct BitmapDeleter {
    void operator()(hwloc_bitmap_s* b) const noexcept { hwloc_bitmap_free(b); }
};
using BitmapPtr = std::unique_ptr<hwloc_bitmap_s, BitmapDeleter>;

/// This process's topology, loaded once: bind and placement checks happen in prepare() and
/// verify() of every NUMA-bound kernel (six page checks per STREAM verify), and a load costs
/// milliseconds. hwloc allows concurrent read-only use of a loaded topology.
hwloc_topology_t process_topology() {
    static const TopologyPtr topology = [] {
        hwloc_topology_t raw = nullptr;
        if (hwloc_topology_init(&raw) != 0) {
            throw Error("hwloc: cannot initialise a topology");
        }
        TopologyPtr loaded(raw);
        if (hwloc_topology_load(raw) != 0) {
            throw Error("hwloc: cannot load this host's topology");
        }
        return loaded;
    }();
    return topology.get();
}

}  // namespace

void bind_memory_to_numa_node(void* data, std::size_t bytes, unsigned node_os_index) {
    hwloc_topology_t topology = process_topology();
    hwloc_obj_t node = nullptr;
    while ((node = hwloc_get_next_obj_by_type(topology, HWLOC_OBJ_NUMANODE, node)) != nullptr) {
        if (node->os_index == node_os_index) {
            break;
        }
    }
    if (node == nullptr) {
        throw Error(fmt::format("cannot bind memory to NUMA node {}: no such node", node_os_index));
    }
    const int flags = HWLOC_MEMBIND_BYNODESET | HWLOC_MEMBIND_STRICT | HWLOC_MEMBIND_MIGRATE;
    if (hwloc_set_area_membind(topology, data, bytes, node->nodeset, HWLOC_MEMBIND_BIND, flags) !=
        0) {
        const int err = errno;
        throw Error(fmt::format("cannot bind {} bytes to NUMA node {}: {}", bytes, node_os_index,
                                std::strerror(err)));
    }
}

std::optional<unsigned> numa_node_of_page(const void* address) {
    hwloc_topology_t topology = process_topology();
    const BitmapPtr nodeset(hwloc_bitmap_alloc());
    if (!nodeset) {
        return std::nullopt;
    }
    // One byte: the page holding `address`. HWLOC_MEMBIND_BYNODESET: the result is a nodeset.
    if (hwloc_get_area_memlocation(topology, address, 1, nodeset.get(), HWLOC_MEMBIND_BYNODESET) !=
        0) {
        return std::nullopt;
    }
    const int first = hwloc_bitmap_first(nodeset.get());
    if (first < 0 || hwloc_bitmap_weight(nodeset.get()) != 1) {
        return std::nullopt;
    }
    return static_cast<unsigned>(first);
}

}  // namespace assay
