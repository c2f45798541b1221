#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "benches/catalog.hpp"
#include "benches/kernel.hpp"
#include "core/case.hpp"
#include "core/host_info.hpp"
#include "core/result.hpp"

/// Small rules shared by every benchmark family's catalog function, so that all families size
/// working sets, name context metrics and treat an unknown LLC the same way.
namespace assay::catalog {

inline constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;
/// STREAM's rule: DRAM working sets (each array) at least 4x the total last-level cache, so no
/// run is cache-resident.
inline constexpr std::uint64_t kLlcFactor = 4;
/// LLC assumed when the probe could not determine it (large enough for current server parts).
inline constexpr std::uint64_t kAssumedLlcBytes = 64 * kMiB;
/// Cache-line granule of working-set sizes.
inline constexpr std::uint64_t kLineBytes = 64;
/// Smallest point of the working-set sweeps: one 4 KiB page, far inside any L1d.
inline constexpr std::uint64_t kSweepMinBytes = 4096;

/// A CPU case of the full suite: `benchmark` with `params` on device "cpu", backend "cpu.native",
/// portable to aarch64 ("yes"); callers add sampling hints, context and the kernel factory.
BenchmarkDef cpu_full_suite_def(std::string benchmark, Params params);

/// A context metric (Direction::none): a host-specific amount that describes a case's run.
Metric context_metric(std::string name, double value, std::string unit);

/// The cap on one benchmark's total working set: options.max_working_set_bytes when set, else a
/// quarter of the OS-available memory (or of the NUMA memory when that is unknown); 0 = no cap
/// known.
std::uint64_t working_set_cap_bytes(const HostInfo& host, const CatalogOptions& options);

/// The total LLC the catalog sizes DRAM working sets from.
struct LlcSize {
    std::uint64_t bytes = 0;  ///< probed total LLC, or kAssumedLlcBytes when unknown
    bool assumed = false;     ///< true when the probe could not determine the LLC
};

/// The probed total LLC of `host`, or kAssumedLlcBytes (assumed = true) when it is unknown.
LlcSize llc_size(const HostInfo& host);

/// Working-set sizes in bytes from 4 KiB up to the first point >= 4x `llc_bytes`, in steps of
/// sqrt(2) (powers of two and the geometric midpoints between them, rounded to whole cache lines).
std::vector<std::uint64_t> sqrt2_points_bytes(std::uint64_t llc_bytes);

/// Array sizing of a DRAM-sized STREAM case (`arrays` arrays shared by `threads` workers).
struct StreamArraySize {
    std::uint64_t array_bytes = 0;   ///< bytes per array; 0 = the cap leaves no room
    std::uint64_t wanted_bytes = 0;  ///< kLlcFactor x LLC: the size each array should reach
    LlcSize llc;                     ///< the LLC the size derives from
};

/// Sizes the arrays of a DRAM STREAM case: each array kLlcFactor x LLC rounded up to whole
/// cache lines per thread, shrunk (rounded down to that granule) so that all arrays fit in
/// `cap_bytes` (0 = no cap).
StreamArraySize dram_stream_array_size(const HostInfo& host, std::uint64_t arrays,
                                       std::uint64_t threads, std::uint64_t cap_bytes);

/// The skip reason when dram_stream_array_size() leaves no room (array_bytes == 0).
std::string dram_stream_too_small_reason(std::uint64_t cap_bytes, std::uint64_t arrays,
                                         std::uint64_t threads);

/// Appends the context metrics every DRAM STREAM case records: threads, array_bytes,
/// working_set_bytes and llc_bytes.
void add_dram_stream_context(BenchmarkDef& def, const StreamArraySize& size, std::uint64_t arrays,
                             std::uint64_t threads);

/// Appends the flags of a DRAM STREAM case: llc_bytes_assumed when the LLC was assumed, and
/// working_set_below_4x_llc when the cap shrank the arrays below kLlcFactor x LLC.
void add_dram_stream_flags(BenchmarkDef& def, const StreamArraySize& size);

}  // namespace assay::catalog
