#include "reports/run_report.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/error.hpp"

using namespace assay;

namespace {

StoredResult triad_result() {
    StoredResult sr;
    sr.id = 7;
    sr.run_id = 3;
    Result& r = sr.result;
    r.bench_case = {"stream.triad", {{"dtype", "f64"}, {"placement", "all_cores"}}};
    r.device = "cpu";
    r.backend = "cpu.native";
    r.status = ResultStatus::ok;
    r.samples = {0.010, 0.012, 0.011, 0.013};
    r.stats = summarize(r.samples);
    r.verified = true;
    r.metrics = {{"bandwidth_stream_gb_per_s.best", 38.4, "GB/s", Direction::higher_is_better},
                 {"bandwidth_stream_gb_per_s.median", 33.5, "GB/s", Direction::higher_is_better},
                 {"threads", 2, "threads", Direction::none}};
    return sr;
}

RunWithResults fixture_run() {
    RunWithResults rw;
    rw.run.id = 3;
    rw.run.hostname = "node-a";
    rw.run.fingerprint = "0123456789abcdef0123";
    rw.run.status = RunStatus::incomplete;
    rw.run.status_note = "interrupted by SIGINT after 1 of 2 benchmark(s)";
    rw.run.info.started_at = "2026-11-24T20:00:00.000Z";
    rw.run.info.suite = "quick";
    rw.run.info.tags = {"nightly"};
    rw.results.push_back(triad_result());
    StoredResult skipped;
    skipped.id = 8;
    skipped.result.bench_case = {"stream.triad", {{"dtype", "f64"}}};
    skipped.result.device = "cuda:0";
    skipped.result.backend = "cuda";
    skipped.result.status = ResultStatus::skipped;
    skipped.result.message = "no CUDA device";
    rw.results.push_back(skipped);
    StoredResult failed = triad_result();
    failed.id = 9;
    failed.result.status = ResultStatus::failed;
    failed.result.verified = false;
    failed.result.message = "verification failed: a[5] = 1 expected 2";
    rw.results.push_back(failed);
    return rw;
}

}  // namespace

TEST_CASE("headline_of prefers STREAM bandwidth, falls back to time", "[report]") {
    const auto sr = triad_result();
    const Headline h = headline_of(sr.result);
    CHECK(h.available);
    CHECK(h.unit == "GB/s");
    CHECK(h.best == Approx(38.4));
    CHECK(h.median == Approx(33.5));

    Result timed = sr.result;
    timed.metrics.clear();
    const Headline t = headline_of(timed);
    CHECK(t.unit == "ms");
    CHECK(t.best == Approx(10.0));
    CHECK(t.median == Approx(11.5));

    Result none;
    CHECK_FALSE(headline_of(none).available);
}

TEST_CASE("markdown report lists runs per host with best, median, unit, verified", "[report]") {
    const std::string md = render_run_report({fixture_run()}, {"x.db", "2026-11-24T21:00:00Z"},
                                             ReportFormat::markdown);
    CHECK_THAT(md, Catch::Contains("## Host `node-a`"));
    CHECK_THAT(md, Catch::Contains("### Run 3"));
    CHECK_THAT(md, Catch::Contains("incomplete"));
    CHECK_THAT(md, Catch::Contains("interrupted by SIGINT"));
    CHECK_THAT(md, Catch::Contains(
                       "| stream.triad | dtype=f64,placement=all_cores | cpu | cpu.native | ok | "
                       "38.40 | 33.50 | GB/s |"));
    CHECK_THAT(md, Catch::Contains("skipped: no CUDA device"));
    CHECK_THAT(md, Catch::Contains("**FAILED**: verification failed"));
    CHECK_THAT(md, Catch::Contains("| **no** |"));
}

TEST_CASE("JSON report is valid, versioned, and carries every result", "[report]") {
    const std::string text =
        render_run_report({fixture_run()}, {"x.db", "2026-11-24T21:00:00Z"}, ReportFormat::json);
    const auto j = nlohmann::json::parse(text);
    CHECK(j["schema"] == "assay.report.runs/1");
    REQUIRE(j["runs"].size() == 1);
    const auto& run = j["runs"][0];
    CHECK(run["status"] == "incomplete");
    CHECK(run["host"]["hostname"] == "node-a");
    REQUIRE(run["results"].size() == 3);
    CHECK(run["results"][0]["headline"]["best"].get<double>() == Approx(38.4));
    CHECK(run["results"][0]["verified"] == true);
    CHECK(run["results"][0]["samples"] == 4);
    CHECK(run["results"][1]["status"] == "skipped");
    CHECK(run["results"][1]["headline"].is_null());
}

TEST_CASE("an empty store renders a helpful report, not an error", "[report]") {
    const std::string md = render_run_report({}, {"x.db", "now"}, ReportFormat::markdown);
    CHECK_THAT(md, Catch::Contains("No runs are stored yet"));
}

TEST_CASE("report format names", "[report]") {
    CHECK(report_format_from_string("md") == ReportFormat::markdown);
    CHECK(report_format_from_string("json") == ReportFormat::json);
    CHECK_THROWS_AS(report_format_from_string("pdf"), UsageError);
}
