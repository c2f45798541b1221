#pragma once
/// The one narrow interface every benchmark backend implements (BabelStream's lesson):
/// prepare once, run blocking (one timed sample), verify the output, and state the analytic
/// work model that turns times into throughput. The harness owns timing, sampling and stats.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/case.hpp"
#include "core/result.hpp"

namespace assay {

/// Work done by one run(), counted analytically (never measured).
struct WorkModel {
    double bytes_stream = 0;          ///< STREAM convention: bytes the kernel reads + writes
    double bytes_write_allocate = 0;  ///< + the read-for-ownership of written lines
    double flops = 0;                 ///< floating-point operations (2 per FMA)
    /// Latency-bound operations timed by one run() (dependent loads of a pointer chase, one-way
    /// cache-line transfers of a ping-pong): the harness derives latency_ns.* (time/operations)
    /// and, with a known clock, latency_cycles.*.
    double operations = 0;
    /// Integer operations (int8 GEMM MACs count 2): derives "gop_per_s.*".
    double int_ops = 0;
};

struct Verification {
    bool ok = false;
    std::string detail;  ///< what was checked, tolerance, worst error seen
};

/// One prepared instance of a benchmark case on one backend. Not thread-safe: the harness calls
/// it from one thread; the kernel may use its own pinned worker threads inside run().
class Kernel {
  public:
    virtual ~Kernel() = default;
    /// Allocate, first-touch (NUMA-local) and initialise inputs with seeded non-zero data.
    virtual void prepare() = 0;
    /// One blocking execution of the kernel: returns when the work is complete.
    virtual void run() = 0;
    /// Check the output of the most recent run() against an analytic or fp64 reference.
    virtual Verification verify() = 0;
    /// Work done by one run().
    virtual WorkModel work() const = 0;
    /// Device-timed kernels (CUDA events) return the last run()'s seconds; CPU kernels return
    /// nullopt and the harness times run() with a steady clock.
    virtual std::optional<double> last_run_seconds() const { return std::nullopt; }
    /// Kernel-specific measured values to store with the result, read once after verify()
    /// (e.g. the background streams' bandwidth of a loaded-latency run). Never constants.
    virtual std::vector<Metric> extra_metrics() const { return {}; }
    /// Which implementation actually ran, as the library reports it (oneDNN's primitive
    /// implementation, the cuBLASLt algorithm, the SIMD path); read after prepare().
    virtual std::string implementation() const { return {}; }
};

/// A benchmark's own sampling needs, applied over the run's policy (e.g. a GPU kernel that takes
/// microseconds needs more samples; a minutes-long one fewer). Unset fields keep the policy's.
struct SamplingHints {
    std::optional<double> max_seconds;
    std::optional<std::size_t> min_samples;
    std::optional<double> target_rel_iqr;
};

/// A benchmark the catalog offers: its case, where it runs, and how to make it.
struct BenchmarkDef {
    Case bench_case;
    std::string device = "cpu";       ///< "cpu", "cuda:0"
    std::string backend;              ///< "cpu.native", "cuda", ...
    std::vector<std::string> suites;  ///< "quick", "full"
    std::string skip_reason;          ///< non-empty: cannot run here, and why
    /// "yes" when the kernel has an aarch64 implementation, else "n/a on aarch64: <reason>".
    std::string aarch64;
    std::vector<Metric> context;                    ///< host-specific facts stored with the result
                                                    ///< (threads, working_set_bytes, ...)
    std::function<std::unique_ptr<Kernel>()> make;  ///< null when skip_reason is set
    SamplingHints sampling;                         ///< per-benchmark overrides of the run's policy

    /// Name as Google Benchmark sees it: "<case id>@<device>:<backend>".
    std::string full_name() const;
};

}  // namespace assay
