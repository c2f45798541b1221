#pragma once
// Probes, for the benches tests, of facilities this host may lack: NUMA memory binding, the OS
// telling where a page lives, CPUs outside this process's cpuset. A test probes first, then
// either exercises the facility or checks the "unavailable, with this reason" path.
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "benches/cpu/numa_memory.hpp"
#include "benches/cpu/numa_plan.hpp"
#include "core/error.hpp"
#include "core/host_info.hpp"
#include "probes/probe.hpp"
#include "tests/benches/test_cpus.hpp"

namespace assay::test {

inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

struct FreeDeleter {
    void operator()(void* p) const noexcept { std::free(p); }
};
using AlignedBytes = std::unique_ptr<void, FreeDeleter>;

/// `bytes` (a multiple of 2 MiB) aligned to 2 MiB; never null (fails the calling test).
inline AlignedBytes aligned_bytes(std::size_t bytes) {
    AlignedBytes p(std::aligned_alloc(kHugePageBytes, bytes));
    if (!p) {
        throw std::bad_alloc();
    }
    return p;
}

/// This machine, probed live (no GPU query).
inline HostInfo live_host() {
    ProbeOptions options;
    options.query_gpus = false;
    return probe_host(options);
}

/// OS indices of this host's NUMA nodes with memory (numa_memory_nodes), or of every node when
/// the probe knows no node's memory size; hwloc always reports at least one node.
inline std::vector<unsigned> live_memory_nodes(const HostInfo& host) {
    std::vector<unsigned> nodes = numa_memory_nodes(host.topology);
    if (nodes.empty()) {
        for (const NumaNodeInfo& node : host.topology.numa_nodes) {
            nodes.push_back(node.os_index);
        }
    }
    return nodes;
}

/// Non-empty when this environment refuses memory binding outright: qemu-user and kernels
/// without NUMA support (ENOSYS), containers whose seccomp profile denies mbind (EPERM). It is the
/// text of the Error bind_memory_to_numa_node threw for one page bound to `node`, which
/// the kernels then throw too. Empty when the binding was accepted (or refused for another
/// reason, such as a missing node, which the callers test on their own).
inline std::string binding_unsupported_reason(unsigned node) {
    const AlignedBytes page = aligned_bytes(kHugePageBytes);
    try {
        bind_memory_to_numa_node(page.get(), kHugePageBytes, node);
    } catch (const Error& e) {
        const std::string what = e.what();
        if (what.find(std::strerror(ENOSYS)) != std::string::npos ||
            what.find(std::strerror(EPERM)) != std::string::npos) {
            return what;
        }
    }
    return {};
}

/// The message shape every refused binding must have: which node, and the OS's reason.
inline bool is_specific_binding_refusal(const std::string& message, unsigned node) {
    return message.rfind("cannot bind ", 0) == 0 &&
           message.find("to NUMA node " + std::to_string(node) + ": ") != std::string::npos &&
           (message.find(std::strerror(ENOSYS)) != std::string::npos ||
            message.find(std::strerror(EPERM)) != std::string::npos);
}

/// Empty when the kernel answers "which node holds this page" (move_pages with no target
/// nodes, what hwloc_get_area_memlocation uses); otherwise why not (ENOSYS under qemu-user or a
/// NUMA-less kernel, EPERM from a seccomp profile that allows mbind but not move_pages).
inline std::string page_location_unsupported_reason(const void* address) {
    void* page = const_cast<void*>(address);
    int status = -1;
    if (syscall(SYS_move_pages, 0, 1UL, &page, nullptr, &status, 0) != 0) {
        return std::string("move_pages: ") + std::strerror(errno);
    }
    if (status < 0) {
        return std::string("move_pages status: ") + std::strerror(-status);
    }
    return {};
}

/// A PU number this host does not have (one past the largest PU of the live topology): pinning
/// a worker there is refused with an Error naming it. (A CPU merely outside this process's
/// affinity mask, as under taskset, can still be pinned to; one outside a cgroup cpuset cannot.)
inline unsigned pu_missing_from_this_host() {
    const HostInfo host = live_host();
    unsigned next = 0;
    for (const CoreInfo& core : host.topology.core_list) {
        for (const unsigned pu : core.pu_os_indices) {
            next = std::max(next, pu + 1);
        }
    }
    for (const NumaNodeInfo& node : host.topology.numa_nodes) {
        for (const unsigned pu : node.pu_os_indices) {
            next = std::max(next, pu + 1);
        }
    }
    return next;
}

/// Whether `message` is ThreadTeam's refusal to pin a worker (a PU outside a cgroup cpuset, or
/// one this host lacks).
inline bool is_pin_refusal(const std::string& message) {
    return message.rfind("cannot pin a worker thread to PU ", 0) == 0;
}

}  // namespace assay::test
