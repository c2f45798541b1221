// assay regress analysis and rendering on synthetic histories (no store involved).
#include "reports/regress_report.hpp"

#include <fmt/format.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <random>

#include "core/error.hpp"
#include "reports/run_report.hpp"

using namespace assay;

namespace {

/// `nights` runs on one host; run ids 1..nights; run `driver_change_night` onward report a
/// new driver and hardware snapshot.
History make_history(int nights, int driver_change_night = 0) {
    History h;
    for (int i = 1; i <= nights; ++i) {
        HistoryRun hr;
        hr.run.id = i;
        hr.run.info.uuid = fmt::format("uuid-{}", i);
        hr.run.info.started_at = fmt::format("2026-01-{:02d}T02:00:00Z", i);
        hr.run.info.git_sha = fmt::format("sha{}", i);
        hr.run.info.tool_version = "0.1.0";
        hr.run.info.environment = {{"kernel", "6.1"}, {"shuffle_seed", std::to_string(i)}};
        hr.run.hostname = "node-a";
        const bool changed = driver_change_night > 0 && i >= driver_change_night;
        hr.run.hw_config_id = changed ? 2 : 1;
        hr.run.fingerprint = changed ? "bbbbbbbbbbbbbbbb" : "aaaaaaaaaaaaaaaa";
        if (changed) {
            hr.run.info.environment["cuda_driver"] = "560.1";
        }
        hr.order = static_cast<std::size_t>(i - 1);
        h.runs.emplace(i, hr);
    }
    h.probe_json[1] = R"({"gpu": {"driver_version": "550.5"}, "probed_at": "x"})";
    h.probe_json[2] = R"({"gpu": {"driver_version": "560.1"}, "probed_at": "y"})";
    return h;
}

HistorySeries make_series(const std::string& case_id, Direction d, std::vector<double> values,
                          std::int64_t first_run = 1) {
    HistorySeries s;
    s.key = {case_id, "cpu", "x.median", "hc", "bc", "cpu.native"};
    s.unit = "GB/s";
    s.direction = d;
    for (std::size_t i = 0; i < values.size(); ++i) {
        s.points.push_back({first_run + static_cast<std::int64_t>(i),
                            1000 + static_cast<std::int64_t>(i), values[i]});
    }
    return s;
}

std::vector<double> noisy(std::uint64_t seed, int n, double value, double cv) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal(0, 1);
    std::vector<double> v;
    for (int i = 0; i < n; ++i) {
        v.push_back(value * (1 + cv * normal(rng)));
    }
    return v;
}

const SeriesFinding& finding(const RegressAnalysis& a, const std::string& case_id) {
    for (const auto& f : a.findings) {
        if (f.key.case_id == case_id) {
            return f;
        }
    }
    throw std::runtime_error("no finding for " + case_id);
}

}  // namespace

TEST_CASE("regress: confirmed regression, suspect, improvement and quiet series", "[regress]") {
    History h = make_history(30, 29);
    auto steady = noisy(1, 30, 100, 0.01);
    auto regressed = noisy(2, 30, 100, 0.01);
    regressed[28] *= 0.9;
    regressed[29] *= 0.9;
    auto suspect = noisy(3, 30, 100, 0.01);
    suspect[29] *= 0.9;
    auto faster = noisy(4, 30, 100, 0.01);
    faster[28] *= 1.1;
    faster[29] *= 1.1;
    auto slower_time = noisy(5, 30, 2.0, 0.01);  // a time: higher is worse
    slower_time[28] *= 1.2;
    slower_time[29] *= 1.2;
    h.series = {make_series("a.steady", Direction::higher_is_better, steady),
                make_series("b.regressed", Direction::higher_is_better, regressed),
                make_series("c.suspect", Direction::higher_is_better, suspect),
                make_series("d.faster", Direction::higher_is_better, faster),
                make_series("e.time", Direction::lower_is_better, slower_time),
                make_series("f.short", Direction::higher_is_better, {1, 2, 3})};
    const RegressAnalysis a = analyze_history(h, {});
    CHECK(finding(a, "a.steady").verdict == Verdict::normal);
    const auto& r = finding(a, "b.regressed");
    CHECK(r.verdict == Verdict::regression);
    CHECK(r.detected_by == "gate");
    CHECK(r.change_run_id == 29);
    CHECK(r.before_run_id == 28);
    CHECK(r.relative_change == Approx(-0.10).margin(0.025));
    CHECK(finding(a, "c.suspect").verdict == Verdict::suspect_regression);
    CHECK(finding(a, "d.faster").verdict == Verdict::improvement);
    CHECK(finding(a, "e.time").verdict == Verdict::regression);
    CHECK(finding(a, "f.short").verdict == Verdict::insufficient_history);
    CHECK(a.regressions == 2);
    CHECK(a.suspects == 1);
    CHECK(a.improvements == 1);
    CHECK(a.insufficient == 1);
    CHECK(a.has_regression());

    RegressContext ctx{"x.db", "2026-01-31T00:00:00Z", {}, "headline median"};
    const std::string md = render_regress_markdown(a, h, ctx);
    CHECK_THAT(md, Catch::Contains("**REGRESSION: 2 regression(s), 1 suspect"));
    CHECK_THAT(md, Catch::Contains("## Regressions"));
    CHECK_THAT(md, Catch::Contains("b.regressed"));
    CHECK_THAT(md, Catch::Contains("since run 29 (2026-01-29, node-a)"));
    // What else changed at run 29: the driver and hardware snapshot, and the build's git sha;
    // the shuffle seed (different on every run by design) is not listed.
    CHECK_THAT(md, Catch::Contains("env cuda_driver: (none) -> 560.1"));
    CHECK_THAT(md, Catch::Contains("probe gpu.driver_version: 550.5 -> 560.1"));
    CHECK_THAT(md, Catch::Contains("git sha: sha28 -> sha29"));
    CHECK_THAT(md, !Catch::Contains("shuffle_seed"));
    CHECK_THAT(md, !Catch::Contains("probed_at"));

    const auto j = nlohmann::json::parse(render_regress_json(a, h, ctx));
    CHECK(j["schema"] == "assay.regress/1");
    CHECK(j["summary"]["status"] == "regression");
    CHECK(j["summary"]["regressions"] == 2);
    REQUIRE(j["series"].size() == 6);
    CHECK(j["series"][1]["verdict"] == "regression");
    CHECK(j["series"][1]["since_run_uuid"] == "uuid-29");
    CHECK_FALSE(j["series"][1]["what_else_changed"].empty());
}

TEST_CASE("regress: a step found by change points among the newest runs is a regression",
          "[regress]") {
    History h = make_history(40);
    auto v = noisy(9, 40, 50, 0.01);
    for (std::size_t i = 35; i < v.size(); ++i) {
        v[i] *= 0.85;  // five nights at -15 %: a change point, segment too short to gate
    }
    h.series = {make_series("s.step", Direction::higher_is_better, v)};
    const RegressAnalysis a = analyze_history(h, {});
    const auto& f = finding(a, "s.step");
    CHECK(f.verdict == Verdict::regression);
    CHECK(f.detected_by == "change point");
    CHECK(f.change_run_id == 36);
    REQUIRE(f.change_points.size() == 1);
    CHECK(f.change_point_runs[0] == 36);

    SECTION("once the new level has history, it is the baseline") {
        History later = make_history(60);
        auto w = noisy(9, 60, 50, 0.01);
        for (std::size_t i = 35; i < w.size(); ++i) {
            w[i] *= 0.85;
        }
        later.series = {make_series("s.step", Direction::higher_is_better, w)};
        const RegressAnalysis b = analyze_history(later, {});
        CHECK(finding(b, "s.step").verdict == Verdict::normal);
        CHECK(finding(b, "s.step").change_points.size() == 1);
        CHECK_THAT(render_regress_markdown(b, later, {}),
                   Catch::Contains("## Change points in history (1 found"));
    }
}

TEST_CASE("regress: filter and Benjamini-Hochberg", "[regress]") {
    History h = make_history(30);
    std::vector<HistorySeries> many;
    for (int i = 0; i < 200; ++i) {
        many.push_back(make_series(fmt::format("n.{:03d}", i), Direction::higher_is_better,
                                   noisy(100 + static_cast<std::uint64_t>(i), 30, 10, 0.01)));
    }
    h.series = many;
    RegressOptions o;
    o.gate.min_effect = 0;  // statistics alone
    const RegressAnalysis a = analyze_history(h, o);
    CHECK(a.regressions == 0);
    o.case_filter = "^n\\.00[0-4]$";
    CHECK(analyze_history(h, o).findings.size() == 5);
    o.case_filter = "([unclosed";
    CHECK_THROWS_AS(analyze_history(h, o), UsageError);
}

TEST_CASE("regress: default metrics follow the run report's headline", "[regress]") {
    // Every headline throughput headline_of() knows must be followed, as its median.
    Result r;
    r.samples = {1.0};
    r.stats.median = 1.0;
    const auto metrics = default_regress_metrics();
    for (const auto& name : metrics) {
        REQUIRE(name.size() > 7);
        const std::string prefix = name.substr(0, name.size() - 7);  // strip ".median"
        r.metrics = {{prefix + ".best", 2.0, "u", Direction::higher_is_better},
                     {prefix + ".median", 1.5, "u", Direction::higher_is_better}};
        const Headline hl = headline_of(r);
        CHECK(hl.quantity != "time");
        CHECK(hl.median == 1.5);
    }
}

TEST_CASE("regress: what_changed of identical runs is empty", "[regress]") {
    const History h = make_history(3);
    CHECK(what_changed(h, 1, 1).empty());
    CHECK(what_changed(h, 1, 99).empty());
    const auto diff = what_changed(h, 1, 2);
    REQUIRE(diff.size() == 1);
    CHECK(diff[0] == "git sha: sha1 -> sha2");
}
