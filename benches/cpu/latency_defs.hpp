#pragma once
/// Catalog entries of the memory latency family: mem.latency (idle pointer chase over a cache
/// sweep, THP and small pages) and mem.loaded_latency (one chaser under N streaming cores).
#include <cstdint>
#include <vector>

#include "benches/catalog.hpp"
#include "benches/kernel.hpp"
#include "core/host_info.hpp"

namespace assay {

/// Working-set sizes of the latency sweep in bytes: 4 KiB up to the first point >= 4x llc_bytes,
/// in steps of sqrt(2) (powers of two and their geometric midpoints rounded to 64 B lines) —
/// the same points as the bandwidth sweep (mem.sweep).
std::vector<std::uint64_t> latency_points_bytes(std::uint64_t llc_bytes);

/// Streamer counts of the loaded-latency curve with `other_cores` cores besides the chaser's:
/// 0, 1, 2, 4, ... (powers of two below other_cores), then other_cores itself.
std::vector<unsigned> loaded_latency_stream_counts(unsigned other_cores);

/// Appends the latency family to `defs`:
/// - mem.latency {pages=thp|small, bytes=<working set>}: one chaser on the first PU of the first
///   core over every latency_points_bytes() point of the total LLC (64 MiB assumed when
///   unknown) up to the working-set cap. Context: level.<L1d|L2|L3|DRAM> (cache_level_label with
///   1 active thread), working_set_bytes, loads, llc_bytes. Full suite; the last (DRAM-sized)
///   thp point is also in the quick suite.
/// - mem.loaded_latency {streams=<N>}: chaser on the first core over >= 4x LLC while N read-only
///   streamers run on the first PU of the next N cores (together >= 4x LLC), N from
///   loaded_latency_stream_counts(). Full suite.
/// The working-set cap is options.max_working_set_bytes, else 1/4 of the available memory.
/// Without cores every entry is skipped with the reason.
void add_latency_defs(const HostInfo& host, const CatalogOptions& options,
                      std::vector<BenchmarkDef>& defs);

}  // namespace assay
