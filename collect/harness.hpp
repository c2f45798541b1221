#pragma once
/// The measurement harness: registers benchmarks with Google Benchmark at run time, samples each
/// until its noise target or time limit (nvbench's stdrel criterion), verifies the output, and
/// hands a complete Result (every sample + stats + derived metrics) to a sink.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "benches/kernel.hpp"
#include "collect/counters.hpp"
#include "collect/telemetry.hpp"
#include "core/result.hpp"

namespace assay {

/// When to stop sampling one benchmark.
struct SamplingPolicy {
    double target_rel_iqr = 0.005;  ///< stop once IQR/median is below this...
    std::size_t min_samples = 10;   ///< ...and at least this many samples were taken...
    double min_seconds = 0.5;       ///< ...and at least this much time was sampled
    double max_seconds = 15.0;      ///< stop regardless after this long (noise noted)
    std::size_t max_samples = 100000;
    double warmup_seconds = 0.1;  ///< untimed runs first (at least one)

    static SamplingPolicy quick();     ///< CI-sized: 0.02 target, 5 samples, 0.2 s, 3 s max
    static SamplingPolicy thorough();  ///< 0.005 target, 20 samples, 1 s, 60 s max
};

struct HarnessOptions {
    SamplingPolicy policy;
    /// When true (the user set limits explicitly), BenchmarkDef::sampling hints are ignored.
    bool policy_is_explicit = false;
    /// Measure every benchmark this many times (a fresh kernel each time); the samples of all
    /// repetitions form one Result, emitted after the benchmark's last repetition.
    std::size_t repetitions = 1;
    /// Visit the benchmarks in a new random order in every repetition round.
    bool interleave = false;
    std::uint64_t shuffle_seed = 0;  ///< recorded by the caller so an order can be replayed
    std::string filter_regex;        ///< Google Benchmark --benchmark_filter semantics
    /// Polled between samples and between benchmarks: true = stop (results so far are kept).
    std::function<bool()> stop_requested;
    /// Human progress lines ("[3/12] stream.triad ... 21.3 GB/s"); may be null.
    std::function<void(const std::string&)> progress;
    /// Events to count around each benchmark's sampling phase (event names and `group:NAME`);
    /// empty = no counting. Unavailable events are noted in the summary, never fatal.
    std::vector<std::string> counters;
    /// The probed CPU microarchitecture: chooses specialised counter groups
    /// (collect/groups/<arch>/, collect/groups/<microarchitecture slug>/).
    std::string microarchitecture;
    /// Sample CPU clocks / package energy (and the GPU of cuda:N devices) while sampling.
    bool telemetry = true;
    /// Nominal CPU clock: an average clock below 90 % of it marks a result throttled.
    std::optional<double> nominal_cpu_mhz;
};

struct HarnessSummary {
    std::size_t selected = 0, ok = 0, failed = 0, skipped = 0;
    bool interrupted = false;
    /// What could be counted / sampled in this run (store them with the run).
    std::vector<CounterAvailability> counter_availability;
    std::vector<TelemetryAvailability> telemetry_availability;
};

/// Runs every def whose full_name() matches the filter. Each finished benchmark's Result goes to
/// sink() before the next starts (so a store can commit it at once). With options.counters set,
/// each Result also carries "counter.*" metrics (per kernel execution) and, with telemetry,
/// "telemetry.*" metrics. Throws UsageError on a bad filter regex or a garbled counter list /
/// unknown counter group, InputError on a malformed group file (all before anything runs).
HarnessSummary run_benchmarks(const std::vector<BenchmarkDef>& defs, const HarnessOptions& options,
                              const std::function<void(const Result&)>& sink);

/// The defs a filter selects, in run order (for `assay list` and for counting).
std::vector<const BenchmarkDef*> select_benchmarks(const std::vector<BenchmarkDef>& defs,
                                                   const std::string& filter_regex);

/// The policy for one benchmark: the run's policy with the def's hints applied (unless the
/// user's limits are explicit).
SamplingPolicy effective_policy(const SamplingPolicy& policy, const SamplingHints& hints,
                                bool policy_is_explicit);

/// Derived metrics from a work model and sample stats: for bytes, "<convention>_gb_per_s.best"
/// (bytes / min time) and ".median"; for flops, "gflop_per_s.best" / ".median"; for int_ops,
/// "gop_per_s.*"; for latency-bound operations, "latency_ns.best" (min time / operations) and
/// ".median". The harness adds "percent_of_peak.*" (context `peak_estimate_ops_per_s`) and
/// "latency_cycles.*" (measured clock, else nominal) on top.
std::vector<Metric> derived_metrics(const WorkModel& work, const SampleStats& stats);

}  // namespace assay
