#pragma once
/// Series identity: which stored numbers belong to one time series, so that "did it get worse
/// last night" compares like with like.
///
/// A series is (case, device, metric, host class, build class):
/// - case: Case::id(), the benchmark plus its canonical key=value parameters;
/// - device: "cpu", "cuda:0", ... (a slow GPU must not hide among fast ones);
/// - metric: the metric name the series follows (e.g. "bandwidth_stream_gb_per_s.median"), or
///   "time.median" when a result has no throughput headline;
/// - host class: a short hash of host_class_keys() -- *what kind of machine* this is. Hosts of
///   the same class are interchangeable for comparison (fleets group by it too);
/// - build class: a short hash of build_class_keys() -- *how the tool was built*, coarse enough
///   that nightly builds of one configuration stay one series.
///
/// Host class keys (one "key=value" line each, in this order; an unknown value is written as
/// "unknown", never guessed):
///   arch, cpu_vendor, cpu_model (marketing string), cpu_family, cpu_model_number, packages,
///   cores_per_package, threads_per_core, numa_nodes, memory_class_gib (OS MemTotal, else the
///   NUMA total, rounded *up* to a multiple of 4 GiB -- 1 GiB below 4 GiB -- so kernel
///   reservations and firmware changes don't split a series), gpus (sorted "count x name" per
///   distinct GPU model, "none" without GPUs), instance_type (DMI product_name).
/// Deliberately NOT in the host class: hostname, machine id, BIOS version, kernel, GPU driver,
/// CPU stepping, OS settings. Those are "what else changed" and are shown in reports next to a
/// change point instead of silently starting a new series.
///
/// Build class keys: tool_major (major version of tool_version; "0.x" tools use "0.<minor>"
/// because pre-1.0 minors may change kernels), compiler (e.g. "GNU 12.2.0"), build_type, and
/// these RunInfo::environment entries when present: cuda_build, cuda_runtime, and every key
/// naming a math library (blas, blis, dnnl, onednn, mkl, cublas, cudnn, nccl). NOT the git sha
/// (nightly builds of the same configuration are one series; the sha of the run at a change
/// point is reported as "what else changed").
///
/// The class strings are the first 16 hex digits of sha256 over the keys joined with '\n'.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/host_info.hpp"
#include "core/run_info.hpp"

namespace assay {

/// The identity of one time series. Ordered and comparable so it can key maps.
struct SeriesKey {
    std::string case_id;      ///< Case::id(): "stream.triad/dtype=f64,placement=all_cores"
    std::string device;       ///< "cpu", "cuda:0"
    std::string metric;       ///< metric name followed, e.g. "gflop_per_s.median"
    std::string host_class;   ///< host_class_of()
    std::string build_class;  ///< build_class_of()
    /// Result::backend ("cpu.native", "cuda", ...): two implementations of one case are two
    /// series.
    std::string backend;

    /// "case_id|device|metric|host_class|build_class|backend", a stable printable id.
    std::string to_string() const;
    friend bool operator==(const SeriesKey&, const SeriesKey&) = default;
    friend auto operator<=>(const SeriesKey&, const SeriesKey&) = default;
};

/// The documented host class key list for `host` (see the file comment), "key=value" each.
std::vector<std::string> host_class_keys(const HostInfo& host);
/// 16 lower-case hex digits: sha256 of host_class_keys() joined with '\n'.
std::string host_class_of(const HostInfo& host);

/// The documented build class key list for `run` (see the file comment), "key=value" each.
std::vector<std::string> build_class_keys(const RunInfo& run);
/// 16 lower-case hex digits: sha256 of build_class_keys() joined with '\n'.
std::string build_class_of(const RunInfo& run);

/// Memory size class in GiB as used by host_class_keys(): `bytes` rounded up to a multiple of
/// 4 GiB (of 1 GiB below 4 GiB); 0 when bytes is 0.
unsigned memory_class_gib(std::uint64_t bytes);

// ---- history: series as the store hands them to reports (filled by store/history) ----

/// One point of a series.
struct HistoryPoint {
    std::int64_t run_id = 0;
    std::int64_t result_id = 0;
    double value = 0;
};

struct HistorySeries {
    SeriesKey key;
    std::string unit;
    Direction direction = Direction::none;
    std::vector<HistoryPoint> points;  ///< oldest first (run start time, then run id)
};

/// A run of the history with its classes (what the series keys were built from).
struct HistoryRun {
    StoredRun run;
    std::string host_class;
    std::string build_class;
    std::size_t order = 0;  ///< position among the history's runs, oldest = 0
};

struct History {
    std::vector<HistorySeries> series;        ///< sorted by key
    std::map<std::int64_t, HistoryRun> runs;  ///< by run id: every run a point refers to
    /// Stored probe JSON per hw_config id (for "what else changed" reports).
    std::map<std::int64_t, std::string> probe_json;
};

}  // namespace assay
