#pragma once
/// Ceilings: the host's measured capabilities under stable names (rooflines, comparisons and
/// qualification read them): per-level memory bandwidth and latency, DRAM STREAM bandwidth,
/// GEMM throughput per dtype. Derived from a run's verified results — never estimated.
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace assay {

struct Ceiling {
    std::string device;  ///< "cpu", "cuda:0"
    /// Stable name, e.g. "mem.bandwidth.read.L2.one_core", "mem.latency.DRAM.thp",
    /// "mem.bandwidth.dram.triad.nt.all_cores", "gemm.bf16.onednn" / "gemm.bf16" (best backend).
    std::string name;
    double value = 0;
    std::string unit;  ///< "GB/s", "ns", "GFLOP/s", "GOP/s"
    Direction direction = Direction::none;
    /// How it was derived, e.g. "max of 6 mem.sweep points labelled L2 (best per point)".
    std::string basis;
    /// Index into the results the value came from (the winning result; for a median over
    /// several points the point closest to the median), -1 when not one result.
    std::int64_t source_index = -1;
};

/// The ceilings a set of results supports. Only verified (status ok) results count. Rules:
/// - mem.sweep points labelled cache level X (context metric "level.X"): bandwidth ceiling
///   "mem.bandwidth.<read|triad>.<X>.<placement>" = max over the level's points of the best
///   STREAM-convention bandwidth (read = the sum kernel). For DRAM, the largest working set
///   labelled DRAM (the first points past the LLC can still be partly cache-resident).
/// - stream.<op> DRAM cases: "mem.bandwidth.dram.<op>[.<stores>].<placement>" = best bandwidth.
/// - mem.latency points labelled X: "mem.latency.<X>.<pages>" = median over the level's points
///   of each point's median latency_ns (a plateau value, robust to the transition points); for
///   DRAM, the largest working set's median latency.
/// - gemm.* results: "gemm.<dtype>.<backend>" and "gemm.<dtype>" (best backend, named in the
///   basis) = max over shapes of the best gflop_per_s (gop_per_s for integer dtypes).
/// Results are per device: a ceiling never mixes devices.
std::vector<Ceiling> derive_ceilings(const std::vector<Result>& results);

/// The ceiling a result's family is bounded by, on the result's device, chosen from
/// `ceilings` (this run's, else the host's latest stored ones), or nullptr:
/// - attention.prefill (dtype X): the GEMM ceiling "gemm.<X>" — the same dtype's best GEMM;
/// - attention.decode: read bandwidth from DRAM: "mem.bandwidth.dram.sum.<placement>" (STREAM
///   sum = read-only), else "mem.bandwidth.read.DRAM.<placement>" (the sweep's DRAM point);
///   on a GPU (placement "device") "mem.bandwidth.dram.read.device".
/// Other families have no ceiling relation yet.
const Ceiling* bounding_ceiling(const Result& result, const std::vector<Ceiling>& ceilings);

/// "percent_of_ceiling.best" / ".median" (the result's throughput — gflop_per_s for
/// compute-bound prefill, bandwidth_stream_gb_per_s for memory-bound decode — over the
/// bounding ceiling's value) and "ceiling.<name>" (the ceiling's value and unit, so the
/// reference stays with the figure). Empty when there is no bounding ceiling or no throughput.
std::vector<Metric> ceiling_fraction_metrics(const Result& result,
                                             const std::vector<Ceiling>& ceilings);

}  // namespace assay

namespace assay {

/// A ceiling as stored with its run.
struct StoredCeiling {
    std::int64_t run_id = 0;
    Ceiling ceiling;                    ///< source_index is -1 when read back
    std::int64_t source_result_id = 0;  ///< 0 when none
};

}  // namespace assay
