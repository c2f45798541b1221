#include "collect/harness.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>
#include <random>
#include <string_view>
#include <utility>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/pattern.hpp"
#include "core/stats.hpp"

namespace assay {

SamplingPolicy SamplingPolicy::quick() {
    SamplingPolicy p;
    p.target_rel_iqr = 0.02;
    p.min_samples = 5;
    p.min_seconds = 0.2;
    p.max_seconds = 3.0;
    p.warmup_seconds = 0.05;
    return p;
}

SamplingPolicy SamplingPolicy::thorough() {
    SamplingPolicy p;
    p.target_rel_iqr = 0.005;
    p.min_samples = 20;
    p.min_seconds = 1.0;
    p.max_seconds = 60.0;
    p.warmup_seconds = 0.5;
    return p;
}

SamplingPolicy effective_policy(const SamplingPolicy& policy, const SamplingHints& hints,
                                bool policy_is_explicit) {
    SamplingPolicy p = policy;
    if (policy_is_explicit) {
        return p;
    }
    if (hints.max_seconds) {
        p.max_seconds = *hints.max_seconds;
        p.min_seconds = std::min(p.min_seconds, p.max_seconds);
    }
    if (hints.min_samples) {
        p.min_samples = *hints.min_samples;
    }
    if (hints.target_rel_iqr) {
        p.target_rel_iqr = *hints.target_rel_iqr;
    }
    return p;
}

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// A compiled --benchmark_filter: "" and "all" select everything, a leading '-' negates
/// (Google Benchmark's rules), otherwise a regex *searched* in the full name (RE2: linear time).
struct Filter {
    bool all = true;
    bool negate = false;
    std::optional<Pattern> re;

    explicit Filter(const std::string& spec) {
        if (spec.empty() || spec == "all") {
            return;
        }
        all = false;
        std::string pattern = spec;
        if (pattern.front() == '-') {
            negate = true;
            pattern.erase(0, 1);
        }
        const std::string error = Pattern::compile_error(pattern);
        if (!error.empty()) {
            throw UsageError(fmt::format("invalid --filter regex '{}': {}", spec, error));
        }
        re = Pattern::compile(pattern, "--filter");
    }

    bool matches(const std::string& name) const { return all || (re->search(name) != negate); }
};

bool stop_requested(const HarnessOptions& options) {
    return options.stop_requested && options.stop_requested();
}

/// One timed execution: the kernel's own device time when it has one, else the steady clock.
double timed_run(Kernel& kernel) {
    const auto t0 = Clock::now();
    kernel.run();
    const double wall = seconds_since(t0);
    return kernel.last_run_seconds().value_or(wall);
}

Metric noise_metric(std::string name, double value, std::string unit) {
    return Metric{std::move(name), value, std::move(unit), Direction::none};
}

/// The headline of a finished result for the progress line.
std::string progress_summary(const Result& r) {
    if (r.status == ResultStatus::skipped) {
        return fmt::format("skipped: {}", r.message);
    }
    std::string figures;
    const Metric* best = nullptr;
    const Metric* median = nullptr;
    std::string unit;
    // The first headline the result has, in this order of preference.
    for (const auto& [name, headline_unit] :
         {std::pair<const char*, const char*>{"bandwidth_stream_gb_per_s", "GB/s"},
          {"gflop_per_s", "GFLOP/s"},
          {"gop_per_s", "GOP/s"},
          {"latency_ns", "ns"}}) {
        best = r.find_metric(std::string(name) + ".best");
        median = r.find_metric(std::string(name) + ".median");
        unit = headline_unit;
        if (best != nullptr && median != nullptr) {
            break;
        }
    }
    if (best != nullptr && median != nullptr) {
        figures = fmt::format("{:.1f} {} best, {:.1f} median", best->value, unit, median->value);
    } else {
        figures = fmt::format("{:.3g} ms best, {:.3g} ms median", r.stats.min * 1e3,
                              r.stats.median * 1e3);
    }
    const std::string tail =
        r.status == ResultStatus::ok ? std::string("verified") : "FAILED: " + r.message;
    return fmt::format("{}, rel IQR {:.1f} %, {} samples, {}", figures, r.stats.rel_iqr() * 100,
                       r.samples.size(), tail);
}

/// One measurement of a def (one repetition): samples, verification, work, instruments.
struct Measurement {
    Result result;  ///< samples, status, verification, message, started_at, wall_seconds
    WorkModel work;
    std::vector<Metric> instrument_metrics;  ///< counters/telemetry, per kernel execution
};

/// State shared by the registered benchmark functions and the reporter of one run_benchmarks().
struct Collector {
    const HarnessOptions& options;
    const std::function<void(const Result&)>& sink;
    HarnessSummary summary;
    std::optional<Result> pending;       ///< the finished benchmark, handed over in ReportRuns
    std::string pending_label;           ///< "[i/n] name" of the pending result
    std::exception_ptr sink_error;       ///< a throwing sink stops the run; rethrown afterwards
    CounterSession* counters = nullptr;  ///< one per run, when options.counters is set
    std::vector<std::string> instrument_notes;  ///< counters/telemetry that failed mid-run

    /// Repetitions measured so far per def (index in the selection), until its last one.
    struct Partial {
        Measurement measurement;
        std::vector<double> repetition_medians;
    };
    std::map<std::size_t, Partial> partial;

    /// Keeps the first availability seen per telemetry source (the GPU one appears with the
    /// first cuda:N benchmark).
    void note_telemetry(const std::vector<TelemetryAvailability>& seen) {
        auto& known = summary.telemetry_availability;
        for (const TelemetryAvailability& a : seen) {
            const bool have = std::any_of(known.begin(), known.end(),
                                          [&](const auto& k) { return k.source == a.source; });
            if (!have) {
                known.push_back(a);
            }
        }
    }

    void progress(const std::string& line) const {
        if (options.progress) {
            options.progress(line);
        }
    }

    void flush() {
        if (!pending) {
            return;
        }
        Result r = std::move(*pending);
        pending.reset();
        switch (r.status) {
            case ResultStatus::ok:
                ++summary.ok;
                break;
            case ResultStatus::failed:
                ++summary.failed;
                break;
            case ResultStatus::skipped:
                ++summary.skipped;
                break;
        }
        progress(fmt::format("{} : {}", pending_label, progress_summary(r)));
        if (sink_error) {
            return;
        }
        try {
            sink(r);
        } catch (...) {
            sink_error = std::current_exception();
        }
    }
};

/// The display reporter Google Benchmark calls after each benchmark: prints nothing, and hands
/// the collector's finished Result to the sink before the next benchmark starts.
class CollectingReporter final : public benchmark::BenchmarkReporter {
  public:
    explicit CollectingReporter(Collector& collector) : collector_(collector) {}
    bool ReportContext(const Context& /*context*/) override { return true; }
    void ReportRuns(const std::vector<Run>& /*report*/) override { collector_.flush(); }

  private:
    Collector& collector_;
};

Result base_result(const BenchmarkDef& def) {
    Result r;
    r.bench_case = def.bench_case;
    r.device = def.device;
    r.backend = def.backend;
    r.started_at = utc_now_iso8601();
    return r;
}

/// Whether enough samples were taken to stop (nvbench's stdrel rule plus limits).
class StopRule {
  public:
    explicit StopRule(const SamplingPolicy& policy) : policy_(policy) {}

    bool done(const std::vector<double>& samples, double sampled_seconds, double wall_seconds) {
        const std::size_t n = samples.size();
        if (n >= policy_.max_samples || sampled_seconds >= policy_.max_seconds ||
            wall_seconds >= policy_.max_seconds) {
            return true;
        }
        if (n < policy_.min_samples || sampled_seconds < policy_.min_seconds) {
            return false;
        }
        // summarize() sorts: with fast kernels (tens of thousands of samples) check the noise
        // only every n/16 samples so sampling stays O(n log n).
        if (n >= 64 && n - last_check_ < n / 16) {
            return false;
        }
        last_check_ = n;
        return summarize(samples).rel_iqr() <= policy_.target_rel_iqr;
    }

  private:
    const SamplingPolicy& policy_;
    std::size_t last_check_ = 0;
};

/// The GPU index of a "cuda:N" device, for NVML telemetry.
std::optional<unsigned> gpu_index_of(const std::string& device) {
    const std::string_view prefix = "cuda:";
    const std::string_view digits =
        std::string_view(device).substr(std::min(prefix.size(), device.size()));
    if (device.rfind(prefix, 0) != 0 || digits.empty() || digits.size() > 9 ||
        digits.find_first_not_of("0123456789") != std::string_view::npos) {
        return std::nullopt;
    }
    return static_cast<unsigned>(std::stoul(std::string(digits)));
}

/// Counters and telemetry around one benchmark's sampling phase. Any failure in them becomes a
/// note, never a failed benchmark; the destructor stops what is still running (interrupts,
/// exceptions) and discards it.
class Instruments {
  public:
    Instruments(CounterSession* counters, TelemetrySampler* telemetry)
        : counters_(counters), telemetry_(telemetry) {}
    ~Instruments() { finish(0); }
    Instruments(const Instruments&) = delete;
    Instruments& operator=(const Instruments&) = delete;

    void start() {
        // Counters first: the telemetry thread started after them is not counted.
        if (counters_ != nullptr && counters_->any_available()) {
            guarded([&] { counters_->start(); });
            counting_ = true;
        }
        if (telemetry_ != nullptr) {
            guarded([&] { telemetry_->start(); });
            sampling_ = true;
        }
    }

    /// Counters only, around a kernel's prepare(): first-touch page faults and setup time are
    /// the cost of getting ready, stored as "counter.<event>.setup" totals.
    void start_setup() {
        if (counters_ != nullptr && counters_->any_available()) {
            guarded([&] { counters_->start(); });
            counting_ = true;
        }
    }
    std::vector<Metric> finish_setup() {
        std::vector<Metric> out;
        if (counting_) {
            counting_ = false;
            guarded([&] { out = counters_->stop(1, CounterPhase::setup); });
        }
        return out;
    }

    /// Stops both; metrics normalised per kernel execution (`iterations` = timed samples).
    std::vector<Metric> finish(double iterations) {
        std::vector<Metric> out;
        if (counting_) {
            counting_ = false;
            guarded([&] { out = counters_->stop(iterations); });
        }
        if (sampling_) {
            sampling_ = false;
            guarded([&] {
                std::vector<Metric> t = telemetry_->stop(iterations);
                out.insert(out.end(), t.begin(), t.end());
            });
        }
        return out;
    }

    const std::string& note() const { return note_; }

  private:
    template <typename Fn>
    void guarded(Fn&& fn) noexcept {
        try {
            fn();
        } catch (const std::exception& e) {
            note_ = e.what();
        } catch (...) {
            note_ = "unknown exception in counters/telemetry";
        }
    }

    CounterSession* counters_;
    TelemetrySampler* telemetry_;
    bool counting_ = false;
    bool sampling_ = false;
    std::string note_;
};

/// Measures one runnable def once. Returns nullopt when the stop flag interrupted it.
std::optional<Measurement> measure(const BenchmarkDef& def, const SamplingPolicy& policy,
                                   const HarnessOptions& options, CounterSession* counters,
                                   TelemetrySampler* telemetry, std::string& instrument_note) {
    Result r = base_result(def);
    const auto t_start = Clock::now();
    WorkModel work;
    std::vector<Metric> instrument_metrics;
    Instruments instruments(counters, telemetry);
    try {
        if (!def.make) {
            throw Error(fmt::format("benchmark '{}' has no kernel factory", def.full_name()));
        }
        std::unique_ptr<Kernel> kernel = def.make();
        if (!kernel) {
            throw Error(fmt::format("benchmark '{}': factory returned no kernel", def.full_name()));
        }
        instruments.start_setup();
        kernel->prepare();
        std::vector<Metric> setup_metrics = instruments.finish_setup();
        work = kernel->work();
        r.implementation = kernel->implementation();

        const auto t_warmup = Clock::now();
        double warm_seconds = 0;
        do {
            if (stop_requested(options)) {
                return std::nullopt;
            }
            warm_seconds += timed_run(*kernel);
        } while (warm_seconds < policy.warmup_seconds &&
                 seconds_since(t_warmup) < policy.warmup_seconds);

        instruments.start();
        const auto t_sampling = Clock::now();
        StopRule rule(policy);
        double sampled_seconds = 0;
        for (;;) {
            if (stop_requested(options)) {
                return std::nullopt;
            }
            const double s = timed_run(*kernel);
            r.samples.push_back(s);
            sampled_seconds += s;
            if (rule.done(r.samples, sampled_seconds, seconds_since(t_sampling))) {
                break;
            }
        }
        instrument_metrics = instruments.finish(static_cast<double>(r.samples.size()));
        instrument_metrics.insert(instrument_metrics.end(), setup_metrics.begin(),
                                  setup_metrics.end());

        const Verification v = kernel->verify();
        r.verified = v.ok;
        r.verification = v.detail;
        // Measured by the kernel itself (e.g. a loaded-latency run's background bandwidth).
        for (Metric& extra : kernel->extra_metrics()) {
            instrument_metrics.push_back(std::move(extra));
        }
        r.status = v.ok ? ResultStatus::ok : ResultStatus::failed;
        if (!v.ok) {
            r.message = "verification failed: " + v.detail;
        }
    } catch (const UnsupportedError& e) {
        r.status = ResultStatus::skipped;
        r.verified = false;
        r.message = e.what();
    } catch (const std::exception& e) {
        r.status = ResultStatus::failed;
        r.verified = false;
        r.message = e.what();
    } catch (...) {
        r.status = ResultStatus::failed;
        r.verified = false;
        r.message = "unknown exception";
    }
    instrument_note = instruments.note();
    r.wall_seconds = seconds_since(t_start);
    return Measurement{std::move(r), work, std::move(instrument_metrics)};
}

/// Folds a later repetition into the first: samples appended, the worst status kept,
/// instrument metrics combined (min of ".min", max of ".max"/throttle flags, else the
/// sample-weighted mean).
void merge_repetition(Measurement& acc, Measurement&& next) {
    Result& a = acc.result;
    Result& b = next.result;
    const auto na = static_cast<double>(a.samples.size());
    const auto nb = static_cast<double>(b.samples.size());
    a.samples.insert(a.samples.end(), b.samples.begin(), b.samples.end());
    a.wall_seconds += b.wall_seconds;
    if (a.status == ResultStatus::ok && b.status != ResultStatus::ok) {
        a.status = b.status;
        a.message = b.message;
        a.verified = false;
        a.verification = b.verification;
    }
    const auto ends_with = [](const std::string& s, const std::string& tail) {
        return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
    };
    for (Metric& m : next.instrument_metrics) {
        auto it = std::find_if(acc.instrument_metrics.begin(), acc.instrument_metrics.end(),
                               [&](const Metric& x) { return x.name == m.name; });
        if (it == acc.instrument_metrics.end()) {
            acc.instrument_metrics.push_back(std::move(m));
        } else if (ends_with(m.name, ".min")) {
            it->value = std::min(it->value, m.value);
        } else if (ends_with(m.name, ".max") || ends_with(m.name, "throttled")) {
            it->value = std::max(it->value, m.value);
        } else if (na + nb > 0) {
            it->value = (it->value * na + m.value * nb) / (na + nb);
        }
    }
}

/// "<name>.best" from the fastest sample and "<name>.median" from the typical one;
/// `from_seconds` turns one sample's time into the metric. A zero time (empty stats, or a timer
/// too coarse for the kernel) gives no value.
template <typename FromSeconds>
void add_best_and_median(std::vector<Metric>& out, const std::string& name,
                         const SampleStats& stats, FromSeconds from_seconds,
                         const std::string& unit, Direction direction) {
    if (stats.min > 0) {
        out.push_back({name + ".best", from_seconds(stats.min), unit, direction});
    }
    if (stats.median > 0) {
        out.push_back({name + ".median", from_seconds(stats.median), unit, direction});
    }
}

const Metric* find_named(const std::vector<Metric>& metrics, const std::string& name) {
    const auto it = std::find_if(metrics.begin(), metrics.end(),
                                 [&](const Metric& m) { return m.name == name; });
    return it == metrics.end() ? nullptr : &*it;
}

/// Metrics that need more than the work model: percent of the probe's peak estimate (a context
/// metric `peak_estimate_ops_per_s`) and latency in core cycles. Cycles use the clock measured
/// while sampling (telemetry) when there is one, else the nominal clock; which one is recorded.
void add_peak_and_cycle_metrics(std::vector<Metric>& out, const WorkModel& work,
                                const SampleStats& stats, const std::vector<Metric>& context,
                                const std::vector<Metric>& instrument,
                                std::optional<double> nominal_mhz) {
    const Metric* peak = find_named(context, "peak_estimate_ops_per_s");
    const double ops = work.flops > 0 ? work.flops : work.int_ops;
    if (peak != nullptr && peak->value > 0 && ops > 0) {
        add_best_and_median(
            out, "percent_of_peak", stats,
            [&](double seconds) { return 100.0 * ops / seconds / peak->value; }, "%",
            Direction::higher_is_better);
    }
    if (work.operations <= 0) {
        return;
    }
    const Metric* measured = find_named(instrument, "telemetry.cpu_mhz.avg");
    const bool use_measured = measured != nullptr && measured->value > 0;
    const double mhz = use_measured ? measured->value : nominal_mhz.value_or(0);
    if (mhz <= 0) {
        return;  // no clock known: cycles are absent rather than guessed
    }
    add_best_and_median(
        out, "latency_cycles", stats,
        [&](double seconds) { return seconds / work.operations * mhz * 1e6; }, "cycles",
        Direction::lower_is_better);
    out.push_back({"latency_cycles.clock_mhz", mhz, "MHz", Direction::none});
    out.push_back(
        {"latency_cycles.clock_measured", use_measured ? 1.0 : 0.0, "flag", Direction::none});
}

/// Turns the (merged) measurement of a def into its stored Result: statistics over every
/// sample, throughput, noise, context and instrument metrics.
Result finalize(const BenchmarkDef& def, const SamplingPolicy& policy, Measurement m,
                const std::vector<double>& repetition_medians, const HarnessOptions& options) {
    Result r = std::move(m.result);
    r.stats = summarize(r.samples);
    // A wrong answer is never a fast one: throughput only for verified results.
    if (r.status == ResultStatus::ok) {
        r.metrics = derived_metrics(m.work, r.stats);
        add_peak_and_cycle_metrics(r.metrics, m.work, r.stats, def.context, m.instrument_metrics,
                                   options.nominal_cpu_mhz);
    }
    r.metrics.insert(r.metrics.end(), def.context.begin(), def.context.end());
    const bool target_met = r.samples.size() >= policy.min_samples && r.stats.count > 0 &&
                            r.stats.rel_iqr() <= policy.target_rel_iqr;
    r.metrics.push_back(noise_metric("noise.rel_iqr", r.stats.rel_iqr(), "ratio"));
    r.metrics.push_back(noise_metric("noise.target_met", target_met ? 1 : 0, "flag"));
    if (repetition_medians.size() > 1) {
        // Spread of the repetitions' medians: closer to night-to-night noise than the
        // within-repetition IQR, since each repetition prepares its kernel afresh.
        const SampleStats reps = summarize(repetition_medians);
        r.metrics.push_back(
            noise_metric("repetitions", static_cast<double>(repetition_medians.size()), "count"));
        r.metrics.push_back(noise_metric("noise.between_repetitions",
                                         reps.median > 0 ? (reps.max - reps.min) / reps.median : 0,
                                         "ratio"));
    }
    r.metrics.insert(r.metrics.end(), m.instrument_metrics.begin(), m.instrument_metrics.end());
    return r;
}

/// The function Google Benchmark runs for one def (exactly one iteration, manual time).
/// One entry of the run's schedule: a def's repetition, at a position in the run order.
struct Scheduled {
    const BenchmarkDef* def;
    std::size_t def_index;   ///< position in the selection (accumulator key)
    std::size_t repetition;  ///< 0-based
    std::size_t position;    ///< 1-based position in the schedule (progress lines)
};

void run_one(benchmark::State& state, const Scheduled& item, std::size_t total, Collector& c) {
    const BenchmarkDef& def = *item.def;
    const std::size_t repetitions = std::max<std::size_t>(1, c.options.repetitions);
    const bool last_repetition = item.repetition + 1 == repetitions;
    if (c.summary.interrupted || c.sink_error || stop_requested(c.options)) {
        c.summary.interrupted = c.summary.interrupted || !c.sink_error;
        state.SkipWithError("interrupted");
        return;
    }
    c.pending_label = repetitions > 1
                          ? fmt::format("[{}/{}] {} (repetition {}/{})", item.position, total,
                                        def.full_name(), item.repetition + 1, repetitions)
                          : fmt::format("[{}/{}] {}", item.position, total, def.full_name());
    if (!def.skip_reason.empty()) {
        if (!last_repetition) {
            state.SkipWithError("skipped");
            return;
        }
        Result r = base_result(def);
        r.status = ResultStatus::skipped;
        r.message = def.skip_reason;
        r.metrics = def.context;
        c.pending = std::move(r);
        state.SkipWithError("skipped");
        return;
    }
    c.progress(fmt::format("{} : running", c.pending_label));
    for (auto _ : state) {
        std::optional<TelemetrySampler> telemetry;
        if (c.options.telemetry) {
            try {
                telemetry.emplace(std::vector<unsigned>{}, c.options.nominal_cpu_mhz,
                                  gpu_index_of(def.device));
                c.note_telemetry(telemetry->availability());
            } catch (const std::exception& e) {
                c.note_telemetry({{"telemetry", false, fmt::format("unavailable: {}", e.what())}});
                telemetry.reset();
            }
        }
        std::string note;
        const SamplingPolicy policy =
            effective_policy(c.options.policy, def.sampling, c.options.policy_is_explicit);
        std::optional<Measurement> measured =
            measure(def, policy, c.options, c.counters, telemetry ? &*telemetry : nullptr, note);
        if (!note.empty()) {
            c.instrument_notes.push_back(fmt::format("{}: {}", def.full_name(), note));
        }
        if (!measured) {
            c.summary.interrupted = true;
            state.SkipWithError("interrupted");
            continue;
        }
        auto& acc = c.partial[item.def_index];
        acc.repetition_medians.push_back(summarize(measured->result.samples).median);
        if (acc.repetition_medians.size() == 1) {
            acc.measurement = std::move(*measured);
        } else {
            merge_repetition(acc.measurement, std::move(*measured));
        }
        if (!last_repetition) {
            c.progress(fmt::format("{} : {} samples", c.pending_label,
                                   acc.measurement.result.samples.size()));
            state.SetIterationTime(acc.repetition_medians.back());
            continue;
        }
        std::optional<Result> r =
            finalize(def, policy, std::move(acc.measurement), acc.repetition_medians, c.options);
        c.partial.erase(item.def_index);
        if (r->status != ResultStatus::ok) {
            state.SkipWithError(r->message.c_str());
        } else {
            state.SetIterationTime(r->stats.median);
            if (const Metric* m = r->find_metric("bandwidth_stream_gb_per_s.best")) {
                state.counters["GB/s"] = benchmark::Counter(m->value);
            }
            if (const Metric* m = r->find_metric("gflop_per_s.best")) {
                state.counters["GFLOP/s"] = benchmark::Counter(m->value);
            }
            state.counters["samples"] = benchmark::Counter(static_cast<double>(r->samples.size()));
        }
        c.pending = std::move(*r);
    }
}

/// The run order: each def `repetitions` times; with interleaving, every round visits the defs
/// in a fresh random order (Google Benchmark's random interleaving: slow drifts of the machine
/// spread over all benchmarks instead of biasing the ones that ran during them).
std::vector<Scheduled> make_schedule(const std::vector<const BenchmarkDef*>& selected,
                                     const HarnessOptions& options) {
    const std::size_t repetitions = std::max<std::size_t>(1, options.repetitions);
    std::vector<Scheduled> out;
    std::mt19937_64 rng(options.shuffle_seed);
    if (!options.interleave) {
        for (std::size_t d = 0; d < selected.size(); ++d) {
            for (std::size_t rep = 0; rep < repetitions; ++rep) {
                out.push_back({selected[d], d, rep, out.size() + 1});
            }
        }
        return out;
    }
    std::vector<std::size_t> order(selected.size());
    for (std::size_t rep = 0; rep < repetitions; ++rep) {
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::shuffle(order.begin(), order.end(), rng);
        for (std::size_t d : order) {
            out.push_back({selected[d], d, rep, out.size() + 1});
        }
    }
    return out;
}

void initialize_google_benchmark() {
    static std::once_flag once;
    std::call_once(once, [] {
        static char arg0[] = "assay";
        static char* argv[] = {arg0, nullptr};
        int argc = 1;
        benchmark::Initialize(&argc, argv);
    });
}

}  // namespace

std::vector<const BenchmarkDef*> select_benchmarks(const std::vector<BenchmarkDef>& defs,
                                                   const std::string& filter_regex) {
    const Filter filter(filter_regex);
    std::vector<const BenchmarkDef*> out;
    for (const BenchmarkDef& def : defs) {
        if (filter.matches(def.full_name())) {
            out.push_back(&def);
        }
    }
    return out;
}

std::vector<Metric> derived_metrics(const WorkModel& work, const SampleStats& stats) {
    std::vector<Metric> out;
    const auto add_rate = [&](const std::string& name, double amount, double scale,
                              const std::string& unit) {
        if (amount > 0) {
            add_best_and_median(
                out, name, stats, [&](double seconds) { return amount / seconds / scale; }, unit,
                Direction::higher_is_better);
        }
    };
    add_rate("bandwidth_stream_gb_per_s", work.bytes_stream, 1e9, "GB/s");
    add_rate("bandwidth_write_allocate_gb_per_s", work.bytes_write_allocate, 1e9, "GB/s");
    add_rate("gflop_per_s", work.flops, 1e9, "GFLOP/s");
    add_rate("gop_per_s", work.int_ops, 1e9, "GOP/s");
    if (work.operations > 0) {
        // Latency: time per dependent operation, lower is better.
        add_best_and_median(
            out, "latency_ns", stats,
            [&](double seconds) { return seconds / work.operations * 1e9; }, "ns",
            Direction::lower_is_better);
    }
    return out;
}

HarnessSummary run_benchmarks(const std::vector<BenchmarkDef>& defs, const HarnessOptions& options,
                              const std::function<void(const Result&)>& sink) {
    // Google Benchmark's registry is process-global: one run at a time.
    static std::mutex run_mutex;
    const std::lock_guard lock(run_mutex);

    const std::vector<const BenchmarkDef*> selected = select_benchmarks(defs, options.filter_regex);
    Collector collector{options, sink, {}, std::nullopt, {}, nullptr, nullptr, {}, {}};
    collector.summary.selected = selected.size();
    if (selected.empty()) {
        return collector.summary;
    }
    std::optional<CounterSession> counters;
    if (!options.counters.empty()) {
        counters.emplace(options.counters, counter_groups_dir(),
                         this_counter_target(options.microarchitecture));
        collector.counters = &*counters;
    }

    initialize_google_benchmark();
    benchmark::ClearRegisteredBenchmarks();
    const std::vector<Scheduled> schedule = make_schedule(selected, options);
    const std::size_t total = schedule.size();
    for (const Scheduled& item : schedule) {
        std::string name = item.def->full_name();
        if (options.repetitions > 1) {
            name += fmt::format("/rep:{}", item.repetition + 1);
        }
        benchmark::RegisterBenchmark(name.c_str(),
                                     [item, total, &collector](benchmark::State& state) {
                                         run_one(state, item, total, collector);
                                     })
            ->UseManualTime()
            ->Repetitions(1)
            ->Iterations(1)
            ->Unit(benchmark::kMillisecond);
    }
    // Selection already happened above with the same rules, on the names without Google
    // Benchmark's "/iterations:1/manual_time" suffix (so an anchored regex like "dram$" selects
    // the same benchmarks for `assay list` and `assay run`): every registered one runs.
    CollectingReporter reporter(collector);
    try {
        benchmark::RunSpecifiedBenchmarks(&reporter, ".");
    } catch (...) {
        benchmark::ClearRegisteredBenchmarks();
        throw;
    }
    benchmark::ClearRegisteredBenchmarks();
    collector.flush();  // defensive: a result the library did not report is still delivered
    if (counters) {
        // After the run: start() records how each event was counted (PAPI_attach / perf).
        collector.summary.counter_availability = counters->availability();
    }
    for (const std::string& note : collector.instrument_notes) {
        collector.summary.counter_availability.push_back({"counters/telemetry", false, note, {}});
    }
    if (collector.sink_error) {
        std::rethrow_exception(collector.sink_error);
    }
    return collector.summary;
}

}  // namespace assay
