#pragma once
/// Memory placed on a chosen NUMA node, for the NUMA matrix (CPUs of node i reading memory of
/// node j) and for host buffers next to a GPU. hwloc stays behind this header.
#include <cstddef>
#include <optional>
#include <string>

namespace assay {

/// Binds the pages of [data, data + bytes) to NUMA node `node_os_index` (hwloc strict bind,
/// migrating pages that were already touched). Call before first touch for the cheapest path.
/// Throws Error naming the node when the OS refuses (no such node, no memory there, no
/// permission) — the caller turns that into a failed or skipped result, never a silent fallback.
void bind_memory_to_numa_node(void* data, std::size_t bytes, unsigned node_os_index);

/// The NUMA node (OS index) that currently holds the page at `address`, or nullopt when the OS
/// cannot tell (hwloc_get_area_memlocation unsupported). Used by verification to prove placement.
std::optional<unsigned> numa_node_of_page(const void* address);

}  // namespace assay
