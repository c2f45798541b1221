#pragma once
/// Human-readable rendering of a probed host (what `assay probe` prints without --json).
#include <cstdint>
#include <string>

#include "core/host_info.hpp"

namespace assay {

/// A compact, aligned text summary: topology, caches, CPU/ISA, peaks (marked as estimates),
/// OS facts that change results, GPUs, identity and fingerprint.
std::string render_host_summary(const HostInfo& host);

/// Bytes as "32 MiB", "1.5 GiB", "48 KiB"; exact powers keep no decimals.
std::string format_bytes(std::uint64_t bytes);

}  // namespace assay
