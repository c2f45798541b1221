#include "collect/harness.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace {

/// What a scripted kernel did, shared with the test after the harness destroys the kernel.
struct Script {
    std::function<double(std::size_t)> seconds;  ///< time of the i-th run() (warm-up included)
    bool verify_ok = true;
    bool throw_in_run = false;
    bool unsupported_in_prepare = false;  ///< prepare() throws UnsupportedError
    std::vector<double> returned;         ///< every time handed out, in order
    std::size_t runs = 0;
    std::size_t prepares = 0;
};

/// A kernel whose "device time" is scripted, so the stopping rule is testable without timing.
class ScriptedKernel : public assay::Kernel {
  public:
    explicit ScriptedKernel(Script& s) : s_(s) {}
    void prepare() override {
        ++s_.prepares;
        if (s_.unsupported_in_prepare) {
            throw assay::UnsupportedError("cuDNN has no engine for this graph");
        }
    }
    void run() override {
        if (s_.throw_in_run) {
            throw std::runtime_error("device fell off the bus");
        }
        last_ = s_.seconds(s_.runs++);
        s_.returned.push_back(last_);
    }
    assay::Verification verify() override {
        return {s_.verify_ok, s_.verify_ok ? "all good" : "a[3] expected 7, got 8"};
    }
    assay::WorkModel work() const override { return {24e6, 32e6, 2e6}; }
    std::optional<double> last_run_seconds() const override { return last_; }

  private:
    Script& s_;
    double last_ = 0;
};

assay::BenchmarkDef scripted_def(const std::string& name, Script& s) {
    assay::BenchmarkDef d;
    d.bench_case.benchmark = "test.scripted";
    d.bench_case.params = {{"name", name}};
    d.backend = "fake";
    d.context.push_back({"threads", 2, "threads", assay::Direction::none});
    d.make = [&s]() -> std::unique_ptr<assay::Kernel> {
        return std::make_unique<ScriptedKernel>(s);
    };
    return d;
}

assay::HarnessOptions options_with(std::size_t min_samples, double min_seconds,
                                   std::size_t max_samples, double max_seconds) {
    assay::HarnessOptions o;
    o.policy.target_rel_iqr = 0.01;
    o.policy.min_samples = min_samples;
    o.policy.min_seconds = min_seconds;
    o.policy.max_samples = max_samples;
    o.policy.max_seconds = max_seconds;
    o.policy.warmup_seconds = 0;  // exactly one warm-up run
    return o;
}

struct Collected {
    std::vector<assay::Result> results;
    assay::HarnessSummary summary;
};

Collected run(const std::vector<assay::BenchmarkDef>& defs, const assay::HarnessOptions& o) {
    Collected c;
    c.summary =
        assay::run_benchmarks(defs, o, [&](const assay::Result& r) { c.results.push_back(r); });
    return c;
}

double metric(const assay::Result& r, const std::string& name) {
    const assay::Metric* m = r.find_metric(name);
    return m != nullptr ? m->value : -1;
}

}  // namespace

TEST_CASE("sampling stops at min_samples when the noise is low", "[collect][sampling]") {
    Script s;
    s.seconds = [](std::size_t) { return 1e-3; };
    const auto c = run({scripted_def("quiet", s)}, options_with(5, 0, 1000, 100));
    REQUIRE(c.results.size() == 1);
    const auto& r = c.results[0];
    CHECK(r.status == assay::ResultStatus::ok);
    CHECK(r.samples.size() == 5);
    CHECK(s.runs == 6);  // one warm-up run
    CHECK(s.prepares == 1);
    CHECK(metric(r, "noise.target_met") == 1);
    CHECK(metric(r, "noise.rel_iqr") == 0);
    CHECK(c.summary.ok == 1);
    CHECK(c.summary.selected == 1);
    CHECK_FALSE(c.summary.interrupted);
}

TEST_CASE("sampling continues until min_seconds of sampled time", "[collect][sampling]") {
    Script s;
    s.seconds = [](std::size_t) { return 0.25; };  // exact in binary: sums are exact
    const auto c = run({scripted_def("quiet", s)}, options_with(2, 2.0, 1000, 100));
    REQUIRE(c.results.size() == 1);
    CHECK(c.results[0].samples.size() == 8);
}

TEST_CASE("noisy samples keep going until max_samples", "[collect][sampling]") {
    Script s;
    s.seconds = [](std::size_t i) { return i % 2 == 0 ? 1e-3 : 2e-3; };
    const auto c = run({scripted_def("noisy", s)}, options_with(5, 0, 40, 100));
    REQUIRE(c.results.size() == 1);
    const auto& r = c.results[0];
    CHECK(r.samples.size() == 40);
    CHECK(r.status == assay::ResultStatus::ok);
    CHECK(metric(r, "noise.target_met") == 0);
    CHECK(metric(r, "noise.rel_iqr") > 0.01);
}

TEST_CASE("noisy samples stop at max_seconds of sampled time", "[collect][sampling]") {
    Script s;
    s.seconds = [](std::size_t i) { return i % 2 == 0 ? 0.125 : 0.375; };
    const auto c = run({scripted_def("noisy", s)}, options_with(5, 0, 100000, 5.0));
    REQUIRE(c.results.size() == 1);
    // warm-up takes run 0 (0.125); samples alternate 0.375, 0.125: 20 of them sum to 5.0.
    CHECK(c.results[0].samples.size() == 20);
}

TEST_CASE("every sample reaches the Result, in order, with stats and metrics", "[collect]") {
    Script s;
    s.seconds = [](std::size_t i) { return 1e-3 * (1.0 + 1e-4 * static_cast<double>(i)); };
    const auto c = run({scripted_def("order", s)}, options_with(7, 0, 1000, 100));
    REQUIRE(c.results.size() == 1);
    const auto& r = c.results[0];
    REQUIRE(r.samples.size() == 7);
    const std::vector<double> timed(s.returned.end() - 7, s.returned.end());
    CHECK(r.samples == timed);
    CHECK(r.stats.count == 7);
    CHECK(r.stats.min == timed.front());
    CHECK(r.verified);
    CHECK(r.verification == "all good");
    CHECK(r.device == "cpu");
    CHECK(r.backend == "fake");
    CHECK(r.bench_case.benchmark == "test.scripted");
    CHECK_FALSE(r.started_at.empty());
    CHECK(r.wall_seconds >= 0);
    CHECK(metric(r, "threads") == 2);  // def context is carried over
    CHECK(metric(r, "bandwidth_stream_gb_per_s.best") == Approx(24e6 / timed.front() / 1e9));
    CHECK(metric(r, "gflop_per_s.median") == Approx(2e6 / r.stats.median / 1e9));
}

TEST_CASE("a failing verify is a failed result with its samples kept", "[collect]") {
    Script s;
    s.seconds = [](std::size_t) { return 1e-3; };
    s.verify_ok = false;
    const auto c = run({scripted_def("wrong", s)}, options_with(5, 0, 1000, 100));
    REQUIRE(c.results.size() == 1);
    const auto& r = c.results[0];
    CHECK(r.status == assay::ResultStatus::failed);
    CHECK_FALSE(r.verified);
    CHECK(r.message == "verification failed: a[3] expected 7, got 8");
    CHECK(r.samples.size() == 5);
    CHECK(r.find_metric("bandwidth_stream_gb_per_s.best") == nullptr);  // never a fast answer
    CHECK(c.summary.failed == 1);
    CHECK(c.summary.ok == 0);
}

TEST_CASE("a kernel that throws is a failed result with the message", "[collect]") {
    Script s;
    s.seconds = [](std::size_t) { return 1e-3; };
    s.throw_in_run = true;
    Script ok;
    ok.seconds = [](std::size_t) { return 1e-3; };
    const auto c =
        run({scripted_def("throws", s), scripted_def("fine", ok)}, options_with(3, 0, 1000, 100));
    REQUIRE(c.results.size() == 2);
    CHECK(c.results[0].status == assay::ResultStatus::failed);
    CHECK(c.results[0].message == "device fell off the bus");
    CHECK(c.results[1].status == assay::ResultStatus::ok);
}

TEST_CASE("a kernel that finds out in prepare() it cannot run here is a skipped result",
          "[collect]") {
    Script s;
    s.seconds = [](std::size_t) { return 1e-3; };
    s.unsupported_in_prepare = true;
    const auto c = run({scripted_def("unsupported", s)}, options_with(3, 0, 1000, 100));
    REQUIRE(c.results.size() == 1);
    CHECK(c.results[0].status == assay::ResultStatus::skipped);
    CHECK(c.results[0].message == "cuDNN has no engine for this graph");
    CHECK_FALSE(c.results[0].verified);
    CHECK(c.results[0].samples.empty());
    CHECK(s.runs == 0);
    CHECK(c.summary.skipped == 1);
    CHECK(c.summary.failed == 0);
}

TEST_CASE("a def with a skip reason is reported skipped without running", "[collect]") {
    assay::BenchmarkDef skip;
    skip.bench_case.benchmark = "test.skip";
    skip.backend = "cuda";
    skip.device = "cuda:0";
    skip.skip_reason = "no CUDA device";
    Script s;
    s.seconds = [](std::size_t) { return 1e-3; };
    std::vector<std::string> lines;
    auto o = options_with(3, 0, 1000, 100);
    o.progress = [&](const std::string& line) { lines.push_back(line); };
    const auto c = run({skip, scripted_def("after", s)}, o);
    REQUIRE(c.results.size() == 2);
    CHECK(c.results[0].status == assay::ResultStatus::skipped);
    CHECK(c.results[0].message == "no CUDA device");
    CHECK(c.results[0].device == "cuda:0");
    CHECK(c.results[0].samples.empty());
    CHECK(c.results[1].status == assay::ResultStatus::ok);
    CHECK(c.summary.skipped == 1);
    CHECK(c.summary.ok == 1);
    REQUIRE(lines.size() == 3);  // skip: end line only; the other: start + end
    CHECK(lines[0] == "[1/2] test.skip@cuda:0:cuda : skipped: no CUDA device");
    CHECK(lines[1].find("[2/2] test.scripted/name=after@cpu:fake") == 0);
    CHECK(lines[2].find("GB/s best") != std::string::npos);
    CHECK(lines[2].find("3 samples, verified") != std::string::npos);

    // A skip def still goes through the filter.
    auto filtered = o;
    filtered.filter_regex = "scripted";
    const auto c2 = run({skip, scripted_def("after", s)}, filtered);
    REQUIRE(c2.results.size() == 1);
    CHECK(c2.results[0].bench_case.benchmark == "test.scripted");
}

TEST_CASE("the filter selects by regex search, a bad regex is a usage error", "[collect][filter]") {
    Script a, b;
    a.seconds = b.seconds = [](std::size_t) { return 1e-3; };
    const std::vector<assay::BenchmarkDef> defs = {scripted_def("alpha", a),
                                                   scripted_def("beta", b)};
    CHECK(assay::select_benchmarks(defs, "").size() == 2);
    CHECK(assay::select_benchmarks(defs, "all").size() == 2);
    const auto only_beta = assay::select_benchmarks(defs, "name=b.*@cpu:fake$");
    REQUIRE(only_beta.size() == 1);
    CHECK(only_beta[0] == &defs[1]);
    const auto not_beta = assay::select_benchmarks(defs, "-beta");
    REQUIRE(not_beta.size() == 1);
    CHECK(not_beta[0] == &defs[0]);
    CHECK(assay::select_benchmarks(defs, "gamma").empty());

    CHECK_THROWS_AS(assay::select_benchmarks(defs, "(unclosed"), assay::UsageError);
    CHECK_THROWS_WITH(assay::select_benchmarks(defs, "(unclosed"),
                      Catch::StartsWith("invalid --filter regex '(unclosed': "));

    auto o = options_with(3, 0, 1000, 100);
    o.filter_regex = "=alpha@cpu:fake$";
    const auto c = run(defs, o);
    REQUIRE(c.results.size() == 1);
    CHECK(c.results[0].bench_case.params.at("name") == "alpha");
    CHECK(c.summary.selected == 1);
    CHECK(b.runs == 0);

    o.filter_regex = "[z-a]";
    CHECK_THROWS_AS(run(defs, o), assay::UsageError);
}

TEST_CASE("a stop request interrupts without a partial result", "[collect][stop]") {
    Script a, b, c3;
    a.seconds = b.seconds = c3.seconds = [](std::size_t) { return 1e-3; };
    const std::vector<assay::BenchmarkDef> defs = {scripted_def("a", a), scripted_def("b", b),
                                                   scripted_def("c", c3)};
    auto o = options_with(5, 0, 1000, 100);
    // Raised while the second benchmark is sampling.
    o.stop_requested = [&] { return b.runs >= 3; };
    const auto c = run(defs, o);
    REQUIRE(c.results.size() == 1);
    CHECK(c.results[0].bench_case.params.at("name") == "a");
    CHECK(c.summary.interrupted);
    CHECK(c.summary.ok == 1);
    CHECK(c.summary.selected == 3);
    CHECK(b.runs == 3);
    CHECK(c3.runs == 0);
    CHECK(c3.prepares == 0);

    // Raised before anything starts: nothing runs.
    Script d;
    d.seconds = a.seconds;
    auto o2 = o;
    o2.stop_requested = [] { return true; };
    const auto c2 = run({scripted_def("d", d)}, o2);
    CHECK(c2.results.empty());
    CHECK(c2.summary.interrupted);
    CHECK(d.runs == 0);
}

TEST_CASE("derived metrics from a work model and known stats", "[collect][metrics]") {
    assay::SampleStats st;
    st.count = 3;
    st.min = 0.5;
    st.median = 2.0;
    const auto m = assay::derived_metrics({24e9, 32e9, 4e9}, st);
    auto value = [&](const std::string& name) {
        for (const auto& x : m) {
            if (x.name == name) {
                CHECK(x.direction == assay::Direction::higher_is_better);
                return x.value;
            }
        }
        return -1.0;
    };
    CHECK(m.size() == 6);
    CHECK(value("bandwidth_stream_gb_per_s.best") == Approx(48.0));
    CHECK(value("bandwidth_stream_gb_per_s.median") == Approx(12.0));
    CHECK(value("bandwidth_write_allocate_gb_per_s.best") == Approx(64.0));
    CHECK(value("bandwidth_write_allocate_gb_per_s.median") == Approx(16.0));
    CHECK(value("gflop_per_s.best") == Approx(8.0));
    CHECK(value("gflop_per_s.median") == Approx(2.0));

    // Flops only; and zero times give no throughput at all.
    CHECK(assay::derived_metrics({0, 0, 1e9}, st).size() == 2);
    CHECK(assay::derived_metrics({24e9, 32e9, 4e9}, assay::SampleStats{}).empty());
}

TEST_CASE("sampling policy presets", "[collect]") {
    const auto q = assay::SamplingPolicy::quick();
    CHECK(q.target_rel_iqr == 0.02);
    CHECK(q.min_samples == 5);
    CHECK(q.max_seconds == 3.0);
    const auto t = assay::SamplingPolicy::thorough();
    CHECK(t.target_rel_iqr == 0.005);
    CHECK(t.min_samples == 20);
    CHECK(t.max_seconds == 60.0);
    CHECK(t.warmup_seconds == 0.5);
}

TEST_CASE("per-benchmark sampling hints apply unless the user's limits are explicit",
          "[collect][harness][policy]") {
    assay::SamplingPolicy base;  // defaults: 15 s max, 10 samples, 0.5 % target
    assay::SamplingHints hints;
    hints.max_seconds = 5.0;
    hints.min_samples = 20;
    const auto p = assay::effective_policy(base, hints, false);
    CHECK(p.max_seconds == 5.0);
    CHECK(p.min_samples == 20);
    CHECK(p.target_rel_iqr == base.target_rel_iqr);
    CHECK(p.min_seconds <= p.max_seconds);
    const auto explicit_policy = assay::effective_policy(base, hints, true);
    CHECK(explicit_policy.max_seconds == base.max_seconds);
    CHECK(explicit_policy.min_samples == base.min_samples);
    const auto none = assay::effective_policy(base, {}, false);
    CHECK(none.max_seconds == base.max_seconds);
}

TEST_CASE("repetitions merge into one result per benchmark, emitted after its last repetition",
          "[collect][harness][repetitions]") {
    Script a, b;
    a.seconds = [](std::size_t) { return 0.001; };
    b.seconds = [](std::size_t i) { return i < 6 ? 0.002 : 0.003; };  // second repetition slower
    auto o = options_with(5, 0, 5, 10);
    o.repetitions = 2;
    std::vector<assay::Result> results;
    const auto summary =
        assay::run_benchmarks({scripted_def("a", a), scripted_def("b", b)}, o,
                              [&](const assay::Result& r) { results.push_back(r); });
    REQUIRE(results.size() == 2);
    CHECK(summary.selected == 2);
    CHECK(summary.ok == 2);
    CHECK(a.prepares == 2);  // a fresh kernel per repetition
    CHECK(results[0].samples.size() == 10);
    CHECK(results[1].samples.size() == 10);
    const auto* reps = results[1].find_metric("repetitions");
    REQUIRE(reps != nullptr);
    CHECK(reps->value == 2);
    const auto* between = results[1].find_metric("noise.between_repetitions");
    REQUIRE(between != nullptr);
    CHECK(between->value > 0.3);  // medians 2 ms and 3 ms
    CHECK(results[0].find_metric("noise.between_repetitions")->value == Approx(0));
}

TEST_CASE("interleaving visits the benchmarks in a seeded random order each round",
          "[collect][harness][repetitions]") {
    std::vector<std::string> order;
    std::vector<Script> scripts(6);
    std::vector<assay::BenchmarkDef> defs;
    for (std::size_t i = 0; i < scripts.size(); ++i) {
        scripts[i].seconds = [](std::size_t) { return 0.001; };
        defs.push_back(scripted_def("d" + std::to_string(i), scripts[i]));
    }
    auto o = options_with(2, 0, 2, 10);
    o.repetitions = 3;
    o.interleave = true;
    o.shuffle_seed = 42;
    o.progress = [&](const std::string& line) {
        if (line.find(": running") != std::string::npos)
            order.push_back(line);
    };
    std::size_t emitted = 0;
    assay::run_benchmarks(defs, o, [&](const assay::Result& r) {
        ++emitted;
        CHECK(r.samples.size() == 6);
    });
    CHECK(emitted == defs.size());
    REQUIRE(order.size() == 18);
    // Each round holds every benchmark once; with 6 benchmarks, three identical rounds in
    // declaration order would be a 1-in-(720^3) accident.
    std::vector<std::string> names;
    for (const auto& line : order) {
        names.push_back(line.substr(line.find("name=") + 5, 2));
    }
    const std::vector<std::string> declared = {"d0", "d1", "d2", "d3", "d4", "d5"};
    int rounds_in_declared_order = 0;
    for (int round = 0; round < 3; ++round) {
        std::vector<std::string> r(names.begin() + round * 6, names.begin() + round * 6 + 6);
        auto sorted = r;
        std::sort(sorted.begin(), sorted.end());
        CHECK(sorted == declared);
        rounds_in_declared_order += r == declared ? 1 : 0;
    }
    CHECK(rounds_in_declared_order < 3);
}

namespace {

/// A latency-bound kernel with its own measured extras and a named implementation.
class LatencyKernel : public assay::Kernel {
  public:
    void prepare() override {}
    void run() override {}
    assay::Verification verify() override { return {true, "chain intact"}; }
    assay::WorkModel work() const override {
        assay::WorkModel w;
        w.operations = 1e6;  // dependent loads per run()
        w.int_ops = 4e6;
        return w;
    }
    std::optional<double> last_run_seconds() const override { return 0.1; }  // 100 ns per load
    std::vector<assay::Metric> extra_metrics() const override {
        return {{"loaded.stream_gb_per_s", 12.5, "GB/s", assay::Direction::none}};
    }
    std::string implementation() const override { return "64 B lines, random single cycle"; }
};

}  // namespace

TEST_CASE("harness: latency, integer throughput, % of peak, cycles, extras, implementation",
          "[harness]") {
    assay::BenchmarkDef d;
    d.bench_case.benchmark = "test.latency";
    d.backend = "fake";
    d.context.push_back({"peak_estimate_ops_per_s", 8e7, "OP/s", assay::Direction::none});
    d.make = [] { return std::make_unique<LatencyKernel>(); };
    assay::HarnessOptions o = options_with(3, 0, 3, 10);
    o.telemetry = false;  // cycles from the nominal clock
    o.nominal_cpu_mhz = 2000.0;
    const Collected c = run({d}, o);
    REQUIRE(c.results.size() == 1);
    const assay::Result& r = c.results[0];
    REQUIRE(r.status == assay::ResultStatus::ok);
    CHECK(r.implementation == "64 B lines, random single cycle");
    const auto value = [&](const std::string& name) {
        const assay::Metric* m = r.find_metric(name);
        INFO(name);
        REQUIRE(m != nullptr);
        return m->value;
    };
    CHECK(value("latency_ns.best") == Approx(100.0));
    CHECK(value("latency_ns.median") == Approx(100.0));
    CHECK(r.find_metric("latency_ns.best")->direction == assay::Direction::lower_is_better);
    CHECK(value("latency_cycles.best") == Approx(200.0));  // 100 ns at 2 GHz
    CHECK(value("latency_cycles.clock_mhz") == Approx(2000.0));
    CHECK(value("latency_cycles.clock_measured") == 0.0);
    CHECK(value("gop_per_s.best") == Approx(0.04));        // 4e6 ops / 0.1 s
    CHECK(value("percent_of_peak.best") == Approx(50.0));  // 4e7 of 8e7 OP/s
    CHECK(value("loaded.stream_gb_per_s") == Approx(12.5));

    // Without a known clock, cycles are absent rather than guessed.
    o.nominal_cpu_mhz.reset();
    const Collected no_clock = run({d}, o);
    REQUIRE(no_clock.results.size() == 1);
    CHECK(no_clock.results[0].find_metric("latency_cycles.best") == nullptr);
    CHECK(no_clock.results[0].find_metric("latency_ns.best") != nullptr);
}
