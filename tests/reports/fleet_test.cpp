#include "reports/fleet.hpp"

#include <cmath>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "tests/reports/qualify_fixtures.hpp"

using namespace assay;
using assay::test::bandwidth_result;
using assay::test::latency_result;
using assay::test::make_run;

namespace {

/// A fleet of hosts with one CPU STREAM result each at the given medians (GB/s), plus a latency
/// result at `ns` each.
std::vector<RunWithResults> cpu_fleet(const std::vector<double>& gb_per_s, double ns = 100) {
    std::vector<RunWithResults> runs;
    for (std::size_t i = 0; i < gb_per_s.size(); ++i) {
        runs.push_back(make_run("host-" + std::to_string(i), static_cast<std::int64_t>(i + 1),
                                {bandwidth_result(1, "cpu", std::vector<double>(9, gb_per_s[i])),
                                 latency_result(2, std::vector<double>(9, ns))}));
    }
    return runs;
}

const FleetSeries* series_with(const FleetReport& r, const std::string& metric) {
    for (const auto& s : r.series) {
        if (s.metric == metric)
            return &s;
    }
    return nullptr;
}

}  // namespace

TEST_CASE("fleet: one slow host among eight is flagged and ranked first", "[fleet]") {
    const auto runs = cpu_fleet({100, 101, 99, 100.5, 99.5, 100.2, 88, 100.1});
    const FleetReport r = analyze_fleet(runs, "zen4-2c", FleetOptions{});
    CHECK_FALSE(r.too_small);
    CHECK(r.host_count == 8);
    CHECK(r.outlier_points == 1);
    const FleetSeries* bw = series_with(r, "bandwidth_stream_gb_per_s.median");
    REQUIRE(bw != nullptr);
    CHECK(bw->spread_basis == "MAD");
    for (const auto& p : bw->points) {
        INFO(p.hostname << " z " << p.z);
        CHECK(p.outlier == (p.hostname == "host-6"));
    }
    REQUIRE(r.hosts.size() == 8);
    CHECK(r.hosts[0].hostname == "host-6");
    CHECK(r.hosts[0].series_failed == 1);
    CHECK(r.hosts[0].series_total == 2);
    CHECK(r.hosts[1].series_failed == 0);
    CHECK(fleet_exit_code(r) == 1);
    const std::string md = render_fleet(r, FleetFormat::markdown);
    CHECK_THAT(md, Catch::Contains("| 1 | host-6 |"));
    CHECK_THAT(md, Catch::Contains("**outlier (fleet)**"));
    const auto j = nlohmann::json::parse(render_fleet(r, FleetFormat::json));
    CHECK(j["outlier_points"] == 1);
    CHECK(j["hosts"][0]["hostname"] == "host-6");
}

TEST_CASE("fleet: both rules are needed (robust z and the 3.5 % gap)", "[fleet]") {
    // host-6 is far out in z (tight fleet) but only 2 % slow: not an outlier.
    const auto tight = cpu_fleet({100, 100.01, 99.99, 100.02, 99.98, 100, 98, 100.01});
    const FleetReport r = analyze_fleet(tight, "c", FleetOptions{});
    const FleetSeries* bw = series_with(r, "bandwidth_stream_gb_per_s.median");
    REQUIRE(bw != nullptr);
    CHECK(bw->points[6].z < -3.5);
    CHECK_FALSE(bw->points[6].outlier);
    CHECK(r.outlier_points == 0);
    // A noisy fleet: 10 % slow but within the spread (z > -3.5): not an outlier either.
    const auto noisy = cpu_fleet({100, 110, 90, 105, 95, 112, 90, 88});
    CHECK(analyze_fleet(noisy, "c", FleetOptions{}).outlier_points == 0);
    // Faster hosts are never outliers.
    CHECK(analyze_fleet(cpu_fleet({100, 101, 99, 100.5, 99.5, 100.2, 130, 100.1}), "c",
                        FleetOptions{})
              .outlier_points == 0);
}

TEST_CASE("fleet: lower-is-better metrics flag the high side", "[fleet]") {
    auto runs = cpu_fleet({100, 100, 100, 100, 100, 100, 100, 100});
    runs[3].results[1] = latency_result(2, std::vector<double>(9, 120));
    const FleetReport r = analyze_fleet(runs, "c", FleetOptions{});
    const FleetSeries* lat = series_with(r, "latency_ns.median");
    REQUIRE(lat != nullptr);
    CHECK(lat->direction == Direction::lower_is_better);
    CHECK(r.outlier_points == 1);
    CHECK(lat->points[3].outlier);
    CHECK(r.hosts[0].hostname == "host-3");
}

TEST_CASE("fleet: all equal -> no outliers and no division by zero", "[fleet]") {
    const FleetReport r =
        analyze_fleet(cpu_fleet(std::vector<double>(8, 50.0)), "c", FleetOptions{});
    CHECK(r.outlier_points == 0);
    for (const auto& s : r.series) {
        CHECK(s.mad == 0);
        CHECK(s.spread_basis == "no spread (all values equal)");
        for (const auto& p : s.points) {
            CHECK(std::isnan(p.z));
            CHECK(p.gap_pct == Approx(0));
        }
    }
    CHECK(fleet_exit_code(r) == 0);
    // MAD = 0 but one host differs: the mean-absolute-deviation fallback still flags it.
    const FleetReport one =
        analyze_fleet(cpu_fleet({50, 50, 50, 50, 50, 50, 50, 40}), "c", FleetOptions{});
    const FleetSeries* bw = series_with(one, "bandwidth_stream_gb_per_s.median");
    REQUIRE(bw != nullptr);
    CHECK(bw->spread_basis == "mean absolute deviation (MAD = 0)");
    CHECK(bw->points[7].outlier);
    CHECK(std::isfinite(bw->points[7].z));
    CHECK(one.outlier_points == 1);
}

TEST_CASE("fleet: fewer than 5 hosts -> says so, falls back to the spec", "[fleet]") {
    const auto runs = cpu_fleet({100, 60, 100, 100});
    const FleetReport r = analyze_fleet(runs, "c", FleetOptions{});
    CHECK(r.too_small);
    CHECK(r.note ==
          "fleet too small (4 hosts < 5): no outlier statistics; give --spec to qualify each host");
    CHECK(r.outlier_points == 0);
    CHECK(r.spec_fallback.empty());
    CHECK(fleet_exit_code(r) == 0);
    CHECK_THAT(render_fleet(r, FleetFormat::markdown), Catch::Contains("fleet too small"));

    const QualifySpec spec = parse_qualify_spec(
        "[spec]\nname = \"s\"\n[[check]]\nname = \"bw\"\nbenchmark = \"stream.*\"\n"
        "metric = \"bandwidth_stream_gb_per_s\"\nexpected = 100\n",
        "s.toml");
    const FleetReport f = analyze_fleet(runs, "c", FleetOptions{}, &spec);
    CHECK_THAT(f.note, Catch::Contains("qualified against spec 's'"));
    REQUIRE(f.spec_fallback.size() == 4);
    CHECK(f.spec_fallback[0].overall == QualifyVerdict::pass);
    CHECK(f.spec_fallback[1].overall == QualifyVerdict::fail);
    CHECK(fleet_exit_code(f) == 1);
    const std::string md = render_fleet(f, FleetFormat::markdown);
    CHECK_THAT(md, Catch::Contains("## Spec fallback"));
    CHECK_THAT(md, Catch::Contains("### host-1 run 2"));
}

TEST_CASE("fleet: one slow GPU in eight -> per-device drill-down", "[fleet][gpu-drill]") {
    std::vector<RunWithResults> runs;
    for (int h = 0; h < 6; ++h) {
        std::vector<StoredResult> results;
        for (int d = 0; d < 8; ++d) {
            const double gbs = (h == 2 && d == 5) ? 2400.0 : 3000.0 + 5.0 * ((h + d) % 3);
            results.push_back(
                bandwidth_result(d + 1, "cuda:" + std::to_string(d), std::vector<double>(9, gbs)));
        }
        runs.push_back(make_run("gpu-" + std::to_string(h), h + 1, results));
    }
    const FleetReport r = analyze_fleet(runs, "h100x8", FleetOptions{});
    CHECK_FALSE(r.too_small);
    REQUIRE(r.series.size() == 1);
    const FleetSeries& s = r.series[0];
    CHECK(s.device_kind == "cuda");
    CHECK(s.points.size() == 48);
    for (const auto& p : s.points) {
        const bool slow = p.hostname == "gpu-2" && p.device == "cuda:5";
        INFO(p.hostname << " " << p.device);
        CHECK(p.outlier == slow);
        CHECK(p.device_outlier == slow);
    }
    CHECK(r.hosts[0].hostname == "gpu-2");
    REQUIRE(r.hosts[0].failed.size() == 1);
    CHECK_THAT(r.hosts[0].failed[0], Catch::EndsWith("[cuda:5]"));
    const std::string md = render_fleet(r, FleetFormat::markdown);
    // The drill-down lists all eight devices of the affected host.
    for (int d = 0; d < 8; ++d) {
        CHECK_THAT(md, Catch::Contains("| gpu-2 | cuda:" + std::to_string(d) + " |"));
    }
    CHECK_THAT(md, Catch::Contains("| gpu-2 | cuda:5 | 2400.0 |"));

    // A single 8-GPU host: too small for fleet statistics, but the slow device still shows
    // against its siblings.
    const FleetReport single = analyze_fleet({runs[2]}, "h100x8", FleetOptions{});
    CHECK(single.too_small);
    CHECK(single.outlier_points == 1);
    CHECK(single.series[0].points[5].device_outlier);
    CHECK_FALSE(single.series[0].points[5].outlier);
}

TEST_CASE("fleet: filter, duplicates and formats", "[fleet]") {
    const auto runs = cpu_fleet({100, 101, 99, 100.5, 99.5, 100.2, 88, 100.1});
    FleetOptions opt;
    opt.filter_regex = "mem\\.latency";
    const FleetReport r = analyze_fleet(runs, "c", opt);
    REQUIRE(r.series.size() == 1);
    CHECK(r.series[0].metric == "latency_ns.median");
    CHECK(r.outlier_points == 0);
    opt.filter_regex = "(";
    CHECK_THROWS_AS(analyze_fleet(runs, "c", opt), UsageError);
    auto dup = runs;
    dup.push_back(runs[0]);
    CHECK_THROWS_AS(analyze_fleet(dup, "c", FleetOptions{}), UsageError);
    CHECK_THROWS_AS(fleet_format_from_string("csv"), UsageError);
    CHECK(fleet_format_from_string("json") == FleetFormat::json);
}
