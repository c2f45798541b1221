#include "benches/cpu/loaded_latency.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "test_cpus.hpp"
#include "tests/benches/host_facilities.hpp"

using assay::LoadedLatencyKernel;
using assay::PageMode;

namespace {

const assay::Metric* find_metric(const std::vector<assay::Metric>& metrics,
                                 const std::string& name) {
    for (const assay::Metric& m : metrics) {
        if (m.name == name) {
            return &m;
        }
    }
    return nullptr;
}

/// With one allowed CPU a streamer has nowhere to run: sharing the chaser's PU is refused at
/// construction, and a PU the process cannot have when the workers are pinned; both name it.
void check_one_cpu_refusals(unsigned cpu) {
    INFO("one allowed CPU (" << cpu << "): a chaser and a streamer need two");
    CHECK_THROWS_WITH(LoadedLatencyKernel(cpu, {cpu}, 64 * 1024, 64 * 1024, PageMode::thp, 5, 100),
                      Catch::Contains("PU " + std::to_string(cpu) + " is used twice"));
    const unsigned other = assay::test::pu_missing_from_this_host();
    LoadedLatencyKernel kernel(cpu, {other}, 64 * 1024, 64 * 1024, PageMode::thp, 5, 100);
    CHECK_THROWS_WITH(kernel.prepare(),
                      Catch::Contains("cannot pin a worker thread to PU " + std::to_string(other)));
}

}  // namespace

TEST_CASE("LoadedLatencyKernel with one streamer measures background bandwidth", "[latency]") {
    const std::vector<unsigned> cpus = assay::test::allowed_cpus(2);
    REQUIRE_FALSE(cpus.empty());
    if (cpus.size() < 2) {
        check_one_cpu_refusals(cpus.front());
        return;
    }
    // Tiny sizes: the test checks the mechanics, not a latency.
    LoadedLatencyKernel kernel(cpus[0], {cpus[1]}, 64 * 1024, 64 * 1024, PageMode::thp, 5, 20000);
    kernel.prepare();
    for (int i = 0; i < 3; ++i) {
        kernel.run();
    }
    const assay::Verification v = kernel.verify();
    INFO(v.detail);
    REQUIRE(v.ok);
    REQUIRE(v.detail.find("1 streamer(s)") != std::string::npos);

    const std::vector<assay::Metric> metrics = kernel.extra_metrics();
    const assay::Metric* gbps = find_metric(metrics, "loaded.stream_gb_per_s");
    const assay::Metric* threads = find_metric(metrics, "loaded.streamer_threads");
    REQUIRE(gbps != nullptr);
    REQUIRE(threads != nullptr);
    REQUIRE(gbps->value > 0);
    REQUIRE(gbps->unit == "GB/s");
    REQUIRE(threads->value == 1.0);

    const assay::WorkModel w = kernel.work();
    REQUIRE(w.operations == 20000.0);
    REQUIRE(w.bytes_stream == 0.0);
    REQUIRE(kernel.implementation().find("1 read-only streamer") != std::string::npos);
}

TEST_CASE("LoadedLatencyKernel without streamers is an idle chase", "[latency]") {
    const std::vector<unsigned> cpus = assay::test::allowed_cpus(1);
    REQUIRE(!cpus.empty());
    LoadedLatencyKernel kernel(cpus[0], {}, 16 * 1024, 0, PageMode::small, 5, 1000);
    kernel.prepare();
    REQUIRE_FALSE(kernel.verify().ok);  // not run yet
    kernel.run();
    REQUIRE(kernel.verify().ok);
    const std::vector<assay::Metric> metrics = kernel.extra_metrics();
    REQUIRE(find_metric(metrics, "loaded.stream_gb_per_s")->value == 0.0);
    REQUIRE(find_metric(metrics, "loaded.streamer_threads")->value == 0.0);
}

TEST_CASE("LoadedLatencyKernel verify fails on a corrupted chase or stream", "[latency]") {
    const std::vector<unsigned> cpus = assay::test::allowed_cpus(2);
    REQUIRE_FALSE(cpus.empty());
    if (cpus.size() < 2) {
        check_one_cpu_refusals(cpus.front());
        return;
    }
    SECTION("chase link") {
        LoadedLatencyKernel kernel(cpus[0], {cpus[1]}, 32 * 1024, 32 * 1024, PageMode::thp, 9,
                                   5000);
        kernel.prepare();
        kernel.run();
        REQUIRE(kernel.verify().ok);
        kernel.corrupt_link_for_test(3);
        REQUIRE_FALSE(kernel.verify().ok);
    }
    SECTION("stream data") {
        LoadedLatencyKernel kernel(cpus[0], {cpus[1]}, 32 * 1024, 32 * 1024, PageMode::thp, 9,
                                   5000);
        kernel.prepare();
        kernel.corrupt_stream_for_test(0, 17);
        kernel.run();
        const assay::Verification v = kernel.verify();
        INFO(v.detail);
        REQUIRE_FALSE(v.ok);
        REQUIRE(v.detail.find("streamer 0") != std::string::npos);
    }
}

TEST_CASE("LoadedLatencyKernel rejects bad arguments", "[latency]") {
    REQUIRE_THROWS_AS(LoadedLatencyKernel(0, {0}, 4096, 4096), assay::UsageError);
    REQUIRE_THROWS_AS(LoadedLatencyKernel(0, {1, 1}, 4096, 4096), assay::UsageError);
    REQUIRE_THROWS_AS(LoadedLatencyKernel(0, {1}, 4096, 63), assay::UsageError);
    REQUIRE_THROWS_AS(LoadedLatencyKernel(0, {}, 32, 0), assay::UsageError);
    REQUIRE_THROWS_AS(LoadedLatencyKernel(0, {1}, 4096, 4096, PageMode::thp, 1, 0),
                      assay::UsageError);
    LoadedLatencyKernel unprepared(0, {1}, 4096, 4096);
    REQUIRE_THROWS_AS(unprepared.run(), assay::UsageError);
    REQUIRE_THROWS_AS(unprepared.corrupt_stream_for_test(0, 0), assay::UsageError);
}
