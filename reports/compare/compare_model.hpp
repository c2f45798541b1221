#pragma once
/// `assay report compare`: the comparison as plain data. build_compare_model() reads stored runs
/// (one per selected host) and lines their results up; the renderers (compare_render.hpp for
/// Markdown/CSV/JSON, compare_html.hpp for the HTML page) turn this model into text and never
/// read the store or compute statistics themselves.
///
/// Lanes and rows. A *lane* is one device of one host ("gpu-host cuda:0", "gpu-host cpu",
/// "ai-cpu cpu"). A *row* is one case (benchmark + canonical params, see match_key) compared
/// between one device of the baseline host and one device kind of the other hosts, e.g.
/// "gemm.square bf16 4096 — cpu (baseline) vs cuda:0". For every case, every device the baseline
/// host ran it on is paired with every device the other hosts ran it on, so a GPU host compared
/// with a CPU-only host gets both a "cpu vs cpu" row and a "cpu vs cuda:0" row; devices within
/// one host are never compared with each other.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/ceiling.hpp"
#include "core/host_info.hpp"
#include "core/run_info.hpp"
#include "reports/compare/price.hpp"

namespace assay {

class Store;

// ---------------------------------------------------------------------------------------------
// Hosts

/// One measured ceiling of a host, as stored with its run.
struct CompareCeiling {
    std::string device;  ///< "cpu", "cuda:0"
    std::string name;    ///< e.g. "gemm.bf16", "mem.bandwidth.read.L2.one_core"
    double value = 0;
    std::string unit;   ///< "GB/s", "ns", "GFLOP/s", "GOP/s"
    std::string basis;  ///< how it was derived
};

/// One cache level for the card and for marking curves: "L2", 1 MiB per instance, 2 instances.
struct CompareCache {
    std::string name;  ///< "L1d", "L2", "L3"
    std::uint64_t size_bytes = 0;
    unsigned instances = 0;
    unsigned cores_per_instance = 0;
};

/// One GPU on the card.
struct CompareGpu {
    std::string device;  ///< "cuda:0"
    std::string name;
    std::uint64_t memory_bytes = 0;
    int sm_count = 0;
    std::string compute_capability;  ///< "9.0"
};

/// Everything the host card shows. Empty strings / nullopt mean "unknown" (never guessed).
struct HostCard {
    // CPU and topology
    std::string cpu_model;
    std::string microarchitecture;
    std::string arch;
    unsigned packages = 0;
    unsigned numa_nodes = 0;
    unsigned cores = 0;
    unsigned pus = 0;
    std::uint64_t memory_bytes = 0;  ///< OS MemTotal when known, else the NUMA sum
    std::vector<CompareCache> caches;
    std::vector<CompareGpu> gpus;
    std::string gpu_note;  ///< driver/runtime, or why no GPU was seen
    /// Notable ISA features present (avx512f, avx512_bf16, amx_tile, sve, sve2, sme, neon, ...).
    std::vector<std::string> isa_highlights;
    std::optional<unsigned> sve_vector_bits;
    // OS facts
    std::string kernel;
    std::string os_release;
    std::string cpu_governor;
    std::string thp_enabled;
    std::string smt_control;
    std::string virtualization;
    std::string container;
    bool hw_counters_usable = false;
    std::string hw_counters_reason;
    // Provenance (of the compared run)
    std::string tool_version;
    std::string git_sha;
    std::string compiler;
    std::string build_type;
    std::string suite;
    std::string run_started_at;
    std::string run_finished_at;
    std::string run_status;  ///< "complete", "incomplete", "running"
    /// Measured ceilings of the compared run (or the hw_config's latest when the run has none),
    /// sorted by device then name.
    std::vector<CompareCeiling> ceilings;
};

struct CompareHost {
    std::string label;  ///< display name, unique in the model (hostname, "#2" if repeated)
    std::string hostname;
    std::string fingerprint;    ///< full sha256 hex
    std::string instance_type;  ///< DMI product name (cloud instance type); may be empty
    std::string db_path;        ///< store the run came from
    std::int64_t run_id = 0;    ///< run id in that store
    std::string run_uuid;
    bool baseline = false;
    HostCard card;
    /// Price from the price table (absent: "n/a (no price)").
    std::optional<double> usd_per_hour;
    std::string price_source;  ///< "<match> (<date>, <source>)", or why there is none
};

/// One device of one host.
struct CompareLane {
    std::size_t host = 0;  ///< index into CompareModel::hosts
    std::string device;    ///< "cpu", "cuda:0"
    std::string label;     ///< "gpu-host cuda:0"
};

// ---------------------------------------------------------------------------------------------
// Statistics results

enum class CompareVerdict { faster, slower, same, undecided };
/// "FASTER", "SLOWER", "SAME", "UNDECIDED".
const char* to_string(CompareVerdict v);

/// A ratio "other vs baseline" where > 1 always means better than the baseline.
struct RatioCi {
    double ratio = 0;
    double ci_low = 0;  ///< percentile bootstrap bounds
    double ci_high = 0;
    CompareVerdict verdict = CompareVerdict::undecided;
};

// ---------------------------------------------------------------------------------------------
// Rows

/// One host's value in a row: the best backend on that device (or the asked-for backend).
struct CompareCell {
    std::size_t host = 0;  ///< index into hosts
    std::string device;    ///< "cpu", "cuda:0"
    std::string backend;   ///< implementation that gave the value, e.g. "cpu.onednn", "cublaslt"
    std::string benchmark_params;  ///< the stored canonical params (placement included)
    std::string quantity;          ///< headline quantity, e.g. "throughput"
    double best = 0;               ///< headline best (max throughput / min time)
    double median = 0;             ///< headline median
    std::string unit;              ///< headline unit, e.g. "GFLOP/s"
    bool higher_is_better = true;
    double rel_iqr = 0;  ///< noise of the time samples
    std::size_t samples = 0;
    std::int64_t result_id = 0;
    /// Ratio to the baseline cell of the row; absent for the baseline cell itself.
    std::optional<RatioCi> vs_baseline;
    /// Measured average power during this result (telemetry), W; absent when not recorded.
    std::optional<double> power_w;
    /// Throughput per dollar: median × 3600 / usd_per_hour, in `per_dollar_unit`
    /// (e.g. "GFLOP/$"); absent with `per_dollar_note` "n/a (no price)" or
    /// "n/a (not a throughput)".
    std::optional<double> per_dollar;
    std::string per_dollar_unit;
    std::string per_dollar_note;
    /// Throughput per watt: median / power_w in `per_watt_unit` (e.g. "GFLOP/J"); absent with
    /// `per_watt_note` "n/a (no power telemetry)" or "n/a (not a throughput)".
    std::optional<double> per_watt;
    std::string per_watt_unit;
    std::string per_watt_note;
};

struct CompareRow {
    std::string family;           ///< "gemm", "stream", "attention", "mem", ...
    std::string benchmark;        ///< "gemm.square"
    std::string params;           ///< match key params (canonical, whole-device placement removed)
    std::string baseline_device;  ///< device of the baseline cell, "cpu"
    std::string other_device;     ///< device of the other cells, "cuda:0"
    /// "cpu" when both sides are the same device, else "cuda:0 vs cpu" (other vs baseline).
    std::string device_label;
    std::string quantity;  ///< baseline cell's headline quantity
    std::string unit;      ///< baseline cell's headline unit
    /// cells[0] is the baseline cell; then the other hosts' cells in host order.
    std::vector<CompareCell> cells;
};

/// Geometric mean of one family's row ratios for one compared lane.
struct FamilySummary {
    std::string family;
    std::size_t host = 0;  ///< the compared (non-baseline) host
    std::string baseline_device;
    std::string other_device;
    std::string device_label;  ///< as in CompareRow
    std::size_t rows = 0;
    RatioCi geomean;  ///< CI by bootstrapping every row of the family together
};

/// A case that only one side ran ("only on X").
struct OneSidedCase {
    std::string family;
    std::string benchmark;
    std::string params;
    std::vector<std::string> ran_on;      ///< lane labels that have it
    std::vector<std::string> missing_on;  ///< host labels that do not have it (on any device)
};

// ---------------------------------------------------------------------------------------------
// Curves, rooflines, GEMM efficiency

struct CurvePoint {
    double working_set_bytes = 0;
    double value = 0;  ///< GB/s for bandwidth, ns for latency (median of the host's result)
    double best = 0;
    std::string level;  ///< cache level the bench labelled the point with ("L1d", "DRAM"), or ""
};

/// Bandwidth (or latency) against working set for one host, device, and series.
struct Curve {
    std::size_t host = 0;
    std::string device;
    std::string kind;                ///< "bandwidth" (mem.sweep) or "latency" (mem.latency)
    std::string series;              ///< e.g. "sum one_core", "thp"
    std::string unit;                ///< "GB/s" or "ns"
    std::vector<CurvePoint> points;  ///< sorted by working set
};

/// Cache-level boundary to mark on a curve (from the host's topology).
struct CacheBoundary {
    std::size_t host = 0;
    std::string name;  ///< "L1d", "L2", "L3"
    std::uint64_t size_bytes = 0;
};

struct RooflineCeiling {
    std::string name;   ///< ceiling name, e.g. "gemm.bf16" or "mem.bandwidth.dram.triad.all_cores"
    std::string label;  ///< short label, e.g. "bf16 GEMM", "DRAM triad"
    double value = 0;   ///< GFLOP/s (compute) or GB/s (bandwidth)
    std::string unit;
};

struct RooflinePoint {
    std::string benchmark;
    std::string params;
    std::string backend;
    std::string dtype;
    double arithmetic_intensity = 0;  ///< FLOP per byte
    double gflop_per_s = 0;           ///< achieved (best)
};

/// Roofline inputs for one device of one host.
struct Roofline {
    std::size_t host = 0;
    std::string device;
    std::vector<RooflineCeiling> compute;    ///< gemm.<dtype> (best backend), GFLOP/s or GOP/s
    std::vector<RooflineCeiling> bandwidth;  ///< DRAM and per-cache-level, GB/s
    std::vector<RooflinePoint> points;       ///< GEMM and attention cases
};

/// One GEMM case's efficiency for the "efficiency vs shape" chart.
struct GemmEfficiencyPoint {
    std::size_t host = 0;
    std::string device;
    std::string backend;
    std::string dtype;
    std::string shape;       ///< "m=4096,n=4096,k=4096" plus shape/tokens when present
    double flops = 0;        ///< 2·m·n·k
    double gflop_per_s = 0;  ///< achieved (best)
    /// Achieved / the device's measured gemm.<dtype> ceiling, 0..1; absent without a ceiling.
    std::optional<double> fraction_of_ceiling;
};

// ---------------------------------------------------------------------------------------------
// Projections

/// An LLM-serving projection from measured ceilings (never a measurement).
struct Projection {
    std::size_t host = 0;
    std::string device;
    std::string model;    ///< "Llama-3-8B"
    std::string weights;  ///< "bf16" or "int8"
    double params = 0;    ///< parameter count
    std::uint64_t context_tokens = 0;
    std::uint64_t batch = 1;
    double weight_bytes = 0;
    double kv_bytes_per_token_read = 0;  ///< KV cache bytes read per decoded token at context
    /// Prefill tokens/s = compute ceiling / (2 · params); absent with prefill_skip as reason.
    std::optional<double> prefill_tokens_per_s;
    std::string prefill_ceiling;  ///< ceiling name and value used, e.g. "gemm.bf16 = 512 GFLOP/s"
    std::string prefill_formula;
    std::string prefill_skip;
    /// Decode tokens/s = bandwidth ceiling / (weight bytes + KV bytes); absent with decode_skip.
    std::optional<double> decode_tokens_per_s;
    std::string decode_ceiling;
    std::string decode_formula;
    std::string decode_skip;
    std::string note;  ///< e.g. "weights (141 GB) exceed device memory (80 GB)"
};

// ---------------------------------------------------------------------------------------------
// The model

struct CompareModel {
    std::string schema = "assay.compare/1";
    std::string generated_at;  ///< passed in (fixed in tests)
    std::vector<std::string> db_paths;
    std::size_t baseline = 0;  ///< index into hosts
    bool per_backend = false;
    std::string family_filter;  ///< the --family regex, "" = all
    std::string price_table;    ///< price file path, "" when none was given
    /// The statistics settings, shown in every format.
    std::size_t bootstrap_resamples = 0;
    std::uint64_t bootstrap_seed = 0;
    double confidence = 0;   ///< 0.95
    double same_margin = 0;  ///< 0.02: CI within [1 - m, 1 + m] is SAME
    std::vector<CompareHost> hosts;
    std::vector<CompareLane> lanes;
    std::vector<CompareRow> rows;  ///< sorted by family, benchmark, params, devices
    std::vector<FamilySummary> families;
    std::vector<OneSidedCase> one_sided;
    std::vector<Curve> curves;
    std::vector<CacheBoundary> cache_boundaries;
    std::vector<Roofline> rooflines;
    std::vector<GemmEfficiencyPoint> gemm_efficiency;
    std::vector<Projection> projections;
    std::vector<std::string> notes;  ///< e.g. "run 7 of host x is incomplete"
};

// ---------------------------------------------------------------------------------------------
// Building

/// How a host is chosen: "hostname:x", "fingerprint:abc" (prefix), "instance:x", "run:N", or a
/// bare hostname. Parsed by parse_host_selector (UsageError when malformed).
struct HostSelector {
    enum class Kind { hostname, fingerprint, instance, run } kind = Kind::hostname;
    std::string value;
    std::int64_t run_id = 0;  ///< for Kind::run
    std::string text;         ///< as the user wrote it
};
HostSelector parse_host_selector(const std::string& text);

struct CompareOptions {
    /// Hosts to compare, in order; empty = every host with a complete run, in store order.
    std::vector<HostSelector> hosts;
    /// Baseline host; absent = the first selected host.
    std::optional<HostSelector> baseline;
    std::string family_regex;  ///< ECMAScript regex on the family; "" = all
    bool per_backend = false;  ///< one row per (case, backend pair) instead of the best backend
    std::string generated_at;
    std::size_t bootstrap_resamples = 2000;
    std::uint64_t bootstrap_seed = 20261101;
    double confidence = 0.95;
    double same_margin = 0.02;
    std::string price_table_path;                     ///< for display
    const std::vector<PriceEntry>* prices = nullptr;  ///< optional; not owned
};

/// One opened store and its display path (the CLI opens them read-only).
struct CompareSource {
    const Store* store = nullptr;  ///< not owned
    std::string path;
};

/// Builds the model from the sources. A host present in several stores (same hostname and
/// fingerprint) is one host (the newest complete run wins). Throws UsageError for a selector
/// that matches nothing or a bad regex; a selection of fewer than two hosts is allowed (the
/// model then has cards and curves but no ratios).
CompareModel build_compare_model(const std::vector<CompareSource>& sources,
                                 const CompareOptions& options);

/// The device-independent part of a case used to line results up across devices: the stored
/// canonical params without a whole-device placement ("placement=all_cores" on CPUs,
/// "placement=device" on GPUs), so the same GEMM shape on cuda:0 and on all CPU cores meet.
std::string match_params(const Params& params);

}  // namespace assay
