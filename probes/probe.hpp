#pragma once
/// The host probe: hwloc topology + CPU/ISA + OS facts + GPU inventory -> HostInfo.
/// hwloc and the CUDA runtime never leave this module (and the pinning helper in benches).
#include <filesystem>
#include <optional>

#include "core/host_info.hpp"

namespace assay {

struct ProbeOptions {
    /// Load this saved hwloc XML instead of the live topology (the test seam). CPU ISA, OS facts
    /// and GPUs are then reported as not available from XML, never taken from this host.
    std::optional<std::filesystem::path> topology_xml;
    /// Root for /proc and /sys reads ("/" normally; a fake tree in tests).
    std::filesystem::path fs_root = "/";
    /// Query the CUDA runtime for GPUs (when built with CUDA).
    bool query_gpus = true;
};

/// Probes the host (or the XML). Throws InputError for an unreadable/invalid topology XML.
/// Missing sysfs/procfs files become unknown values, never errors.
HostInfo probe_host(const ProbeOptions& options = {});

}  // namespace assay
