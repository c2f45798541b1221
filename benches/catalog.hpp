#pragma once
/// The benchmark catalog: every benchmark Assay knows, sized and placed from the probed host.
/// benches never probes: it receives HostInfo as data.
#include <cstdint>
#include <vector>

#include "benches/kernel.hpp"
#include "core/host_info.hpp"

namespace assay {

struct CatalogOptions {
    /// Cap on any one benchmark's total working set; 0 = derive from the host's available memory.
    std::uint64_t max_working_set_bytes = 0;
};

/// All benchmarks for this host, including the ones that must be skipped (with reasons).
std::vector<BenchmarkDef> build_catalog(const HostInfo& host, const CatalogOptions& options = {});

}  // namespace assay
