#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "collect/harness.hpp"
#include "perf_support.hpp"

namespace {

/// A tiny real CPU kernel: counters need something to count.
class SpinKernel : public assay::Kernel {
  public:
    void prepare() override {}
    void run() override {
        for (int i = 0; i < 20000; ++i) {
            x_ = x_ * 1.0000001 + 1e-9;
        }
    }
    assay::Verification verify() override { return {x_ > 1, "x grew"}; }
    assay::WorkModel work() const override { return {0, 0, 40000}; }

  private:
    volatile double x_ = 1;
};

/// Allocates and first-touches 32 MiB in prepare(): page faults belong to setup, not sampling.
class TouchKernel : public assay::Kernel {
  public:
    void prepare() override { data_.assign(32u << 20, 1); }
    void run() override { sum_ = sum_ + data_[static_cast<std::size_t>(sum_) % data_.size()]; }
    assay::Verification verify() override { return {sum_ > 0, "sum grew"}; }
    assay::WorkModel work() const override { return {0, 0, 1}; }

  private:
    std::vector<char> data_;
    volatile int sum_ = 0;
};

assay::BenchmarkDef spin_def(const std::string& name) {
    assay::BenchmarkDef d;
    d.bench_case.benchmark = "test.spin";
    d.bench_case.params = {{"name", name}};
    d.backend = "fake";
    d.make = [] { return std::make_unique<SpinKernel>(); };
    return d;
}

assay::HarnessOptions quick_options(std::vector<std::string> counters) {
    assay::HarnessOptions o;
    o.policy.target_rel_iqr = 10;  // any noise is fine: stop at min_samples
    o.policy.min_samples = 4;
    o.policy.min_seconds = 0;
    o.policy.max_seconds = 5;
    o.policy.warmup_seconds = 0;
    o.counters = std::move(counters);
    return o;
}

struct Run {
    std::vector<assay::Result> results;
    assay::HarnessSummary summary;
};

Run run(const std::vector<assay::BenchmarkDef>& defs, const assay::HarnessOptions& o) {
    Run r;
    r.summary =
        assay::run_benchmarks(defs, o, [&](const assay::Result& x) { r.results.push_back(x); });
    return r;
}

}  // namespace

TEST_CASE("the harness counts events per benchmark and reports availability",
          "[collect][harness][counters]") {
    const auto r = run({spin_def("a"), spin_def("b")}, quick_options({"perf::TASK-CLOCK"}));
    REQUIRE(r.results.size() == 2);
    std::string why;
    if (!assay::test::software_perf_events_work(why)) {
        WARN("software perf events unusable here (" << why << "): checking the unavailable path");
        REQUIRE(r.summary.counter_availability.size() == 1);
        CHECK_FALSE(r.summary.counter_availability[0].available);
        for (const auto& res : r.results) {
            CHECK(res.status == assay::ResultStatus::ok);
            CHECK(res.find_metric("counter.perf::TASK-CLOCK") == nullptr);
        }
        return;
    }
    for (const auto& res : r.results) {
        CHECK(res.status == assay::ResultStatus::ok);
        const assay::Metric* m = res.find_metric("counter.perf::TASK-CLOCK");
        REQUIRE(m != nullptr);
        CHECK(m->value > 0);
        CHECK(m->unit == "ns/iteration");
        const assay::Metric* t = res.find_metric("counter.threads_counted");
        REQUIRE(t != nullptr);
        CHECK(t->value >= 1);
    }
    REQUIRE(r.summary.counter_availability.size() == 1);
    CHECK(r.summary.counter_availability[0].event == "perf::TASK-CLOCK");
    CHECK(r.summary.counter_availability[0].available);
    // Telemetry is on by default: every source is listed, available or not.
    CHECK(r.summary.telemetry_availability.size() >= 3);
    for (const auto& a : r.summary.telemetry_availability) {
        INFO(a.source << ": " << a.reason);
        CHECK_FALSE(a.reason.empty());
    }
}

TEST_CASE("unavailable counters never break a run", "[collect][harness][counters]") {
    auto o = quick_options({"PAPI_TOT_CYC"});
    o.telemetry = false;
    const auto r = run({spin_def("a")}, o);
    REQUIRE(r.results.size() == 1);
    CHECK(r.results[0].status == assay::ResultStatus::ok);
    CHECK(r.results[0].samples.size() >= 4);  // more only if a preempted sample made noise > 10x
    REQUIRE_FALSE(r.summary.counter_availability.empty());
    CHECK(r.summary.counter_availability[0].event == "PAPI_TOT_CYC");
    CHECK(r.summary.telemetry_availability.empty());
    if (!r.summary.counter_availability[0].available) {
        CHECK_FALSE(r.summary.counter_availability[0].reason.empty());
        CHECK(r.results[0].find_metric("counter.PAPI_TOT_CYC") == nullptr);
        CHECK(r.results[0].find_metric("counter.threads_counted") == nullptr);
    }
    // Without counters: no counter metrics and no availability.
    auto plain = quick_options({});
    const auto p = run({spin_def("a")}, plain);
    REQUIRE(p.results.size() == 1);
    CHECK(p.summary.counter_availability.empty());
    for (const auto& m : p.results[0].metrics) {
        CHECK(m.name.rfind("counter.", 0) != 0);
    }
}

TEST_CASE("setup-phase counts are stored beside the per-execution ones",
          "[collect][harness][counters]") {
    assay::BenchmarkDef d = spin_def("touch");
    d.make = [] { return std::make_unique<TouchKernel>(); };
    auto o = quick_options({"perf::PAGE-FAULTS", "perf::TASK-CLOCK"});
    o.telemetry = false;
    const auto r = run({d}, o);
    REQUIRE(r.results.size() == 1);
    const auto& res = r.results[0];
    CHECK(res.status == assay::ResultStatus::ok);
    std::string why;
    if (!assay::test::software_perf_events_work(why)) {
        CHECK(res.find_metric("counter.perf::PAGE-FAULTS.setup") == nullptr);
        CHECK_FALSE(r.summary.counter_availability.at(0).available);
        return;
    }
    const assay::Metric* setup = res.find_metric("counter.perf::PAGE-FAULTS.setup");
    REQUIRE(setup != nullptr);
    CHECK(setup->unit == "events");
    // 32 MiB first-touched: at least 16 faults even with 2 MiB transparent huge pages.
    CHECK(setup->value >= 16);
    const assay::Metric* clock = res.find_metric("counter.perf::TASK-CLOCK.setup");
    REQUIRE(clock != nullptr);
    CHECK(clock->unit == "ns");
    CHECK(clock->value > 0);
    // The sampling phase touches nothing new.
    const assay::Metric* sampling = res.find_metric("counter.perf::PAGE-FAULTS");
    REQUIRE(sampling != nullptr);
    CHECK(sampling->value < setup->value);
}
