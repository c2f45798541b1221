#include "reports/qualify.hpp"

#include <cmath>
#include <regex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "tests/reports/qualify_fixtures.hpp"

using namespace assay;
using assay::test::bandwidth_result;
using assay::test::latency_result;
using assay::test::make_run;

namespace {

std::string spec_with(const std::string& check_body) {
    return "[spec]\nname = \"t\"\n\n[[check]]\n" + check_body;
}

const char* kTriadCheck = R"(name = "dram-triad"
benchmark = 'stream\.triad'
params = { dtype = "f64" }
device = "cpu"
metric = "bandwidth_stream_gb_per_s"
expected = 100.0
warn_pct = 5
fail_pct = 10
)";

/// Message of the InputError parse_qualify_spec throws for `text`.
std::string parse_error_of(const std::string& text) {
    try {
        parse_qualify_spec(text, "spec.toml");
    } catch (const InputError& e) {
        return e.what();
    }
    return "(no error)";
}

/// One result whose samples all give exactly `gb_per_s`, so the bound equals the value.
RunWithResults run_at(double gb_per_s) {
    return make_run("node-a", 1, {bandwidth_result(1, "cpu", std::vector<double>(20, gb_per_s))});
}

}  // namespace

TEST_CASE("qualify spec: a valid spec parses with defaults", "[qualify][spec]") {
    const QualifySpec spec = parse_qualify_spec(spec_with(kTriadCheck), "spec.toml");
    REQUIRE(spec.checks.size() == 1);
    const auto& c = spec.checks[0];
    CHECK(spec.name == "t");
    CHECK(spec.confidence == Approx(0.95));
    CHECK(c.name == "dram-triad");
    CHECK(c.benchmark_regex == "stream\\.triad");
    CHECK(c.params.at("dtype") == "f64");
    CHECK(c.metric == "bandwidth_stream_gb_per_s");
    CHECK(c.statistic == QualifyStatistic::median);
    CHECK(c.aggregate == QualifyAggregation::all);
    CHECK(c.line == 4);  // the [[check]] header
    // metric shorthand "name.best" sets the statistic.
    const QualifySpec best = parse_qualify_spec(
        spec_with("name = \"x\"\nbenchmark = \"gemm.*\"\nmetric = \"gflop_per_s.best\"\n"
                  "expected = 3\naggregate = \"min\"\noptional = true\n"),
        "s.toml");
    CHECK(best.checks[0].metric == "gflop_per_s");
    CHECK(best.checks[0].statistic == QualifyStatistic::best);
    CHECK(best.checks[0].aggregate == QualifyAggregation::min);
    CHECK(best.checks[0].optional);
}

TEST_CASE("qualify spec: errors name the file, the line and the check", "[qualify][spec]") {
    std::string body = kTriadCheck;
    body.replace(body.find("fail_pct = 10"), 13, "fail_pct = 4");
    // [spec] 2 lines + blank + [[check]] on line 4; fail_pct is the 8th line of the body.
    CHECK(parse_error_of(spec_with(body)) ==
          "spec.toml:12: check 'dram-triad': fail_pct must be > warn_pct (got 4 <= 5)");

    CHECK_THAT(parse_error_of(spec_with(std::string(kTriadCheck) + "warn_pc = 3\n")),
               Catch::StartsWith("spec.toml:13: check 'dram-triad': unknown key 'warn_pc'"));
    CHECK_THAT(parse_error_of("[spec]\nname = \"t\"\n[[check]]\nname = \"a\"\nbenchmark = \"(\"\n"
                              "metric = \"m\"\nexpected = 1\n"),
               Catch::StartsWith("spec.toml:5: check 'a': benchmark regex '(' is invalid"));
    CHECK_THAT(parse_error_of("[spec]\nname = \"t\"\n[[check]]\nname = \"a\"\nbenchmark = \"x\"\n"
                              "metric = \"m\"\nexpected = -1\n"),
               Catch::StartsWith("spec.toml:7: check 'a': expected must be > 0"));
    CHECK_THAT(parse_error_of("[spec]\nname = \"t\"\n[[check]]\nname = \"a\"\nbenchmark = \"x\"\n"
                              "metric = \"m\"\n"),
               Catch::Contains("check 'a': expected is required"));
    CHECK_THAT(parse_error_of("[spec]\nname = \"t\"\n[[check]]\nbenchmark = \"x\"\n"),
               Catch::StartsWith("spec.toml:3: check: name is required"));
    CHECK_THAT(parse_error_of("[spec]\nname = \"t\"\n"), Catch::Contains("no [[check]] entries"));
    // Malformed TOML: the parser's line.
    CHECK_THAT(parse_error_of("[spec]\nname = \"t\"\n[[check]]\nname = = 3\n"),
               Catch::StartsWith("spec.toml:4: "));
    CHECK_THAT(parse_error_of(spec_with(std::string(kTriadCheck)) + "[[check]]\n" + kTriadCheck),
               Catch::Contains("name already used on line 4"));
    CHECK_THAT(parse_error_of(spec_with(std::string(kTriadCheck) + "aggregate = \"worst\"\n")),
               Catch::Contains("unknown aggregate 'worst'"));
    CHECK_THAT(parse_error_of("[spec]\nconfidence = 1.5\n[[check]]\n" + std::string(kTriadCheck)),
               Catch::StartsWith("spec.toml:2: [spec]: confidence must be in"));
    CHECK_THROWS_AS(load_qualify_spec("/nonexistent/spec.toml"), InputError);
}

TEST_CASE("qualify verdicts at the warn/fail boundaries (worse side inclusive)", "[qualify]") {
    const QualifySpec spec = parse_qualify_spec(spec_with(kTriadCheck), "spec.toml");
    struct Case {
        double value;
        QualifyVerdict verdict;
    };
    for (const auto& [value, verdict] : std::vector<Case>{{100.0, QualifyVerdict::pass},
                                                          {120.0, QualifyVerdict::pass},
                                                          {95.01, QualifyVerdict::pass},
                                                          {95.0, QualifyVerdict::warn},
                                                          {90.01, QualifyVerdict::warn},
                                                          {90.0, QualifyVerdict::fail},
                                                          {50.0, QualifyVerdict::fail}}) {
        INFO("value " << value);
        const QualifyReport r = evaluate_spec(spec, run_at(value));
        REQUIRE(r.outcomes.size() == 1);
        CHECK(r.outcomes[0].verdict == verdict);
        CHECK(r.overall == verdict);
        CHECK(r.outcomes[0].bound == Approx(value));
    }
    CHECK(qualify_exit_code(QualifyVerdict::pass) == 0);
    CHECK(qualify_exit_code(QualifyVerdict::fail) == 1);
    CHECK(qualify_exit_code(QualifyVerdict::warn) == 2);
    CHECK(qualify_exit_code(QualifyVerdict::error) == 3);
}

TEST_CASE("qualify: lower-is-better metrics are judged by their upper bound", "[qualify]") {
    const QualifySpec spec = parse_qualify_spec(
        spec_with("name = \"lat\"\nbenchmark = \"mem\\\\.latency\"\nmetric = \"latency_ns\"\n"
                  "expected = 100\nwarn_pct = 5\nfail_pct = 10\n"),
        "s.toml");
    auto verdict_at = [&](double ns) {
        return evaluate_spec(spec,
                             make_run("h", 1, {latency_result(1, std::vector<double>(9, ns))}))
            .outcomes[0]
            .verdict;
    };
    CHECK(verdict_at(90) == QualifyVerdict::pass);
    CHECK(verdict_at(104.9) == QualifyVerdict::pass);
    CHECK(verdict_at(105) == QualifyVerdict::warn);
    CHECK(verdict_at(110) == QualifyVerdict::fail);
}

TEST_CASE("qualify: the verdict comes from the confidence bound, not the median", "[qualify]") {
    // Median 100 GB/s; a wide spread puts the 95 % lower bound of the median near 93.
    std::vector<double> noisy;
    for (int i = 0; i < 21; ++i) {
        noisy.push_back(100.0 + (i - 10) * 1.0);  // 90 .. 110
    }
    const auto run = make_run("h", 1, {bandwidth_result(1, "cpu", noisy)});
    const QualifySpec spec = parse_qualify_spec(spec_with(kTriadCheck), "spec.toml");
    const QualifyReport r = evaluate_spec(spec, run);
    const auto& o = r.outcomes.at(0);
    CHECK(o.measured == Approx(100.0));
    // n = 21, alpha 0.05: P(Bin(21, .5) <= 5) = 0.0133, <= 6 = 0.0392, <= 7 = 0.0946 -> k = 7.
    CHECK(o.bound == Approx(96.0));
    CHECK(o.measurements.at(0).bound_basis == "order statistic 7 of 21 (95 % one-sided)");
    CHECK(o.verdict == QualifyVerdict::pass);  // 4 % short of 100 < warn 5 %

    // The same median with the spread twice as wide: the bound drops 8 % -> WARN although the
    // median sits exactly on the expected value.
    std::vector<double> wider;
    for (double v : noisy) {
        wider.push_back(100.0 + 2 * (v - 100.0));
    }
    const QualifyReport r2 =
        evaluate_spec(spec, make_run("h", 1, {bandwidth_result(1, "cpu", wider)}));
    CHECK(r2.outcomes.at(0).measured == Approx(100.0));
    CHECK(r2.outcomes.at(0).bound == Approx(92.0));
    CHECK(r2.outcomes.at(0).verdict == QualifyVerdict::warn);

    // Too few samples for a 95 % bound: the worst sample is used, and said so.
    std::string basis;
    CHECK(median_confidence_bound({5, 1, 3, 4}, 0.95, true, &basis) == 1);
    CHECK_THAT(basis, Catch::Contains("too few"));
    CHECK(median_confidence_bound({5, 1, 3, 4}, 0.95, false) == 5);
    // n = 5: P(Bin(5, .5) <= 0) = 1/32 <= 0.05 -> the first order statistic.
    CHECK(median_confidence_bound({5, 1, 3, 4, 2}, 0.95, true, &basis) == 1);
    CHECK(basis == "order statistic 1 of 5 (95 % one-sided)");
    // Large n does not underflow and converges towards the median.
    std::vector<double> many;
    for (int i = 0; i < 5001; ++i) {
        many.push_back(i);
    }
    const double lb = median_confidence_bound(many, 0.95, true);
    CHECK(lb < 2500);
    CHECK(lb > 2400);
}

TEST_CASE("qualify: aggregation across devices", "[qualify]") {
    // Eight GPUs at 100 except cuda:5 at 80.
    std::vector<StoredResult> results;
    for (int d = 0; d < 8; ++d) {
        results.push_back(bandwidth_result(d + 1, "cuda:" + std::to_string(d),
                                           std::vector<double>(12, d == 5 ? 80.0 : 100.0)));
    }
    const auto run = make_run("gpu-host", 4, results);
    auto verdict_with = [&](const std::string& agg) {
        const QualifySpec spec = parse_qualify_spec(
            spec_with("name = \"hbm\"\nbenchmark = \"stream\\\\.triad\"\ndevice = \"cuda:*\"\n"
                      "metric = \"bandwidth_stream_gb_per_s\"\nexpected = 100\nwarn_pct = 5\n"
                      "fail_pct = 10\naggregate = \"" +
                      agg + "\"\n"),
            "s.toml");
        return evaluate_spec(spec, run).outcomes.at(0);
    };
    const auto all = verdict_with("all");
    CHECK(all.verdict == QualifyVerdict::fail);
    CHECK(all.measurements.size() == 8);
    CHECK_THAT(all.message, Catch::Contains("cuda:5"));
    const auto mn = verdict_with("min");
    CHECK(mn.verdict == QualifyVerdict::fail);
    CHECK(mn.measured == Approx(80));
    CHECK(verdict_with("max").verdict == QualifyVerdict::pass);
    CHECK(verdict_with("median").verdict == QualifyVerdict::pass);
    // "cpu" selects none of them.
    const QualifySpec cpu_only =
        parse_qualify_spec(spec_with("name = \"c\"\nbenchmark = \"stream.*\"\ndevice = \"cpu\"\n"
                                     "metric = \"bandwidth_stream_gb_per_s\"\nexpected = 100\n"),
                           "s.toml");
    CHECK(evaluate_spec(cpu_only, run).outcomes.at(0).verdict == QualifyVerdict::error);
}

TEST_CASE("qualify: nothing matched is an ERROR, unless optional (SKIPPED)", "[qualify]") {
    const auto run = run_at(100);
    const QualifySpec spec = parse_qualify_spec(
        spec_with("name = \"gemm\"\nbenchmark = \"gemm\\\\..*\"\nmetric = \"gflop_per_s\"\n"
                  "expected = 10\n") +
            "[[check]]\nname = \"opt\"\nbenchmark = \"gemm.*\"\nmetric = \"gflop_per_s\"\n"
            "expected = 10\noptional = true\n",
        "s.toml");
    const QualifyReport r = evaluate_spec(spec, run);
    CHECK(r.outcomes.at(0).verdict == QualifyVerdict::error);
    CHECK_THAT(r.outcomes.at(0).message, Catch::Contains("no result of run 1 matches"));
    CHECK(r.outcomes.at(1).verdict == QualifyVerdict::skipped);
    CHECK(r.overall == QualifyVerdict::error);
    CHECK(qualify_exit_code(r.overall) == 3);
    // A metric the results do not carry, or a unit that disagrees, is an ERROR as well.
    const QualifySpec wrong = parse_qualify_spec(
        spec_with("name = \"u\"\nbenchmark = \"stream.*\"\nmetric = \"bandwidth_stream_gb_per_s\"\n"
                  "unit = \"MB/s\"\nexpected = 10\n") +
            "[[check]]\nname = \"m\"\nbenchmark = \"stream.*\"\nmetric = \"no_such\"\nexpected = "
            "1\n",
        "s.toml");
    const QualifyReport w = evaluate_spec(wrong, run);
    CHECK(w.outcomes.at(0).verdict == QualifyVerdict::error);
    CHECK_THAT(w.outcomes.at(0).message, Catch::Contains("MB/s"));
    CHECK(w.outcomes.at(1).verdict == QualifyVerdict::error);
}

TEST_CASE("qualify: every verification failure in the run is a FAIL", "[qualify][sdc]") {
    auto bad = bandwidth_result(2, "cpu", std::vector<double>(10, 100.0));
    bad.result.bench_case.benchmark = "gemm.square";
    bad.result.status = ResultStatus::failed;
    bad.result.verified = false;
    bad.result.message = "verification failed: C[3,7] = 12.5 expected 12.0 <tol 1e-5>";
    const auto run =
        make_run("node-a", 1, {bandwidth_result(1, "cpu", std::vector<double>(20, 100.0)), bad});
    const QualifySpec spec = parse_qualify_spec(spec_with(kTriadCheck), "spec.toml");
    const QualifyReport r = evaluate_spec(spec, run);
    REQUIRE(r.outcomes.size() == 2);
    CHECK(r.outcomes[0].verdict == QualifyVerdict::pass);
    CHECK(r.outcomes[1].verification_screen);
    CHECK(r.outcomes[1].verdict == QualifyVerdict::fail);
    CHECK_THAT(r.outcomes[1].name, Catch::StartsWith("verification: gemm.square/"));
    CHECK(r.overall == QualifyVerdict::fail);
    // A FAIL wins over an ERROR.
    CHECK(qualify_overall({r.outcomes[1], QualifyOutcome{}}) == QualifyVerdict::fail);
    // A check selecting the failed result fails too.
    const QualifySpec sel = parse_qualify_spec(
        spec_with("name = \"g\"\nbenchmark = \"gemm.*\"\nmetric = \"gflop_per_s\"\n"
                  "expected = 1\n"),
        "s.toml");
    CHECK(evaluate_spec(sel, run).outcomes.at(0).verdict == QualifyVerdict::fail);
}

TEST_CASE("qualify: JUnit XML is well-formed, escaped and complete", "[qualify][junit]") {
    auto bad = bandwidth_result(2, "cpu", std::vector<double>(10, 100.0));
    bad.result.bench_case.benchmark = "stream.copy";
    bad.result.status = ResultStatus::failed;
    bad.result.message = "wrong <answer> & \"quotes\" 'here' \x01 ctl";
    auto run =
        make_run("node<&>", 7, {bandwidth_result(1, "cpu", std::vector<double>(20, 93.0)), bad});
    run.run.info.uuid = "u-1";
    const QualifySpec spec = parse_qualify_spec(
        spec_with(kTriadCheck) +
            "[[check]]\nname = \"lat & <co>\"\nbenchmark = \"mem.*\"\nmetric = \"latency_ns\"\n"
            "expected = 1\n" +
            "[[check]]\nname = \"opt\"\nbenchmark = \"mem.*\"\nmetric = \"latency_ns\"\n"
            "expected = 1\noptional = true\n",
        "spec.toml");
    const QualifyReport r = evaluate_spec(spec, run);
    const std::string xml = render_junit({r});
    const auto doc = assay::test::parse_xml(xml);
    REQUIRE(doc.ok);
    CHECK(doc.root.name == "testsuites");
    CHECK(doc.root.attr("tests") == "4");
    CHECK(doc.root.attr("failures") == "1");
    CHECK(doc.root.attr("errors") == "1");
    CHECK(doc.root.attr("skipped") == "1");
    REQUIRE(doc.root.children.size() == 1);
    const auto& suite = doc.root.children[0];
    CHECK(suite.name == "testsuite");
    CHECK(suite.attr("hostname") == "node<&>");
    REQUIRE(!suite.children.empty());
    CHECK(suite.children[0].name == "properties");
    bool has_run_id = false;
    for (const auto& p : suite.children[0].children) {
        has_run_id = has_run_id || (p.attr("name") == "run_id" && p.attr("value") == "7");
    }
    CHECK(has_run_id);
    std::vector<std::string> kinds;
    for (std::size_t i = 1; i < suite.children.size(); ++i) {
        const auto& tc = suite.children[i];
        CHECK(tc.name == "testcase");
        kinds.push_back(tc.children.empty() ? "" : tc.children[0].name);
    }
    // WARN (93 vs 100 with warn 5/fail 10) passes with its note; missing -> error; optional ->
    // skipped; the failed result -> failure.
    CHECK(kinds == std::vector<std::string>{"system-out", "error", "skipped", "failure"});
    CHECK(suite.children[2].attr("name") == "lat & <co>");
    CHECK_THAT(suite.children[4].children[0].attr("message"),
               Catch::Contains("wrong <answer> & \"quotes\" 'here'  ctl"));  // control dropped
}

TEST_CASE("qualify: table and Markdown name every check and the overall verdict", "[qualify]") {
    const QualifySpec spec = parse_qualify_spec(spec_with(kTriadCheck), "spec.toml");
    const QualifyReport r = evaluate_spec(spec, run_at(91));
    const std::string table = render_qualify({r}, QualifyFormat::table);
    CHECK_THAT(table, Catch::Contains("WARN"));
    CHECK_THAT(table, Catch::Contains("dram-triad"));
    CHECK_THAT(table, Catch::Contains("overall: WARN"));
    const std::string md = render_qualify({r}, QualifyFormat::markdown);
    CHECK_THAT(md, Catch::Contains("| **WARN** | dram-triad |"));
    CHECK_THROWS_AS(qualify_format_from_string("html"), UsageError);
}

TEST_CASE("qualify: derive_spec writes a spec its own hosts pass", "[qualify][derive]") {
    std::vector<RunWithResults> runs;
    const std::vector<double> fleet = {100, 101, 99, 102, 98, 100.5};
    for (std::size_t i = 0; i < fleet.size(); ++i) {
        std::vector<double> gbs;
        for (int s = 0; s < 15; ++s) {
            gbs.push_back(fleet[i] * (1.0 + 0.004 * (s % 5 - 2)));
        }
        runs.push_back(make_run("host-" + std::to_string(i), static_cast<std::int64_t>(i + 1),
                                {bandwidth_result(1, "cpu", gbs),
                                 latency_result(2, std::vector<double>(8, 90.0 + double(i)))}));
    }
    DeriveOptions opt;
    opt.name = "fleet-x";
    opt.generated_at = "2026-11-25T00:00:00Z";
    const std::string text = derive_spec(runs, opt);
    CHECK_THAT(text, Catch::Contains("# From 6 run(s) of 6 host(s)"));
    CHECK_THAT(text, Catch::Contains("1.4826 x MAD"));
    const QualifySpec spec = parse_qualify_spec(text, "derived.toml");
    CHECK(spec.name == "fleet-x");
    REQUIRE(spec.checks.size() == 2);
    const QualifyCheck* bw = nullptr;
    for (const auto& c : spec.checks) {
        if (c.metric == "bandwidth_stream_gb_per_s")
            bw = &c;
    }
    REQUIRE(bw != nullptr);
    CHECK(bw->expected == Approx(100.25));
    CHECK(bw->warn_pct >= 3.0);
    CHECK(bw->fail_pct >= 2 * bw->warn_pct - 1e-9);
    CHECK(bw->params.at("dtype") == "f64");
    CHECK(std::regex_match("stream.triad", std::regex(bw->benchmark_regex)));
    CHECK(!std::regex_match("streamXtriad", std::regex(bw->benchmark_regex)));
    for (const auto& run : runs) {
        const QualifyReport r = evaluate_spec(spec, run);
        INFO(render_qualify({r}, QualifyFormat::table));
        CHECK(r.overall == QualifyVerdict::pass);
    }
    // A host 20 % slower fails the derived bar.
    const auto slow = make_run("slow", 99,
                               {bandwidth_result(1, "cpu", std::vector<double>(15, 80.0)),
                                latency_result(2, std::vector<double>(8, 92.0))});
    CHECK(evaluate_spec(spec, slow).overall == QualifyVerdict::fail);
    // Nothing usable -> InputError.
    CHECK_THROWS_AS(derive_spec({make_run("empty", 1, {})}, opt), InputError);
}

TEST_CASE("glob_match", "[qualify]") {
    CHECK(glob_match("cuda:*", "cuda:7"));
    CHECK(glob_match("*", ""));
    CHECK(glob_match("c?u", "cpu"));
    CHECK(!glob_match("cuda:*", "cpu"));
    CHECK(!glob_match("cpu", "cpu0"));
    CHECK(glob_match("*a*b", "xxaybb"));
}

TEST_CASE("the test XML reader rejects malformed documents", "[qualify][junit]") {
    CHECK(assay::test::parse_xml("<a><b x=\"1\"/>t &amp; u</a>").ok);
    CHECK(!assay::test::parse_xml("<a><b></a>").ok);
    CHECK(!assay::test::parse_xml("<a x='1'/>").ok);
    CHECK(!assay::test::parse_xml("<a>&foo;</a>").ok);
    CHECK(!assay::test::parse_xml("<a>x & y</a>").ok);
    CHECK(!assay::test::parse_xml("<a b=\"<\"/>").ok);
    CHECK(!assay::test::parse_xml("<a/><b/>").ok);
    CHECK(!assay::test::parse_xml(std::string("<a>\x01</a>")).ok);
}

TEST_CASE("qualify: params_exact excludes cases with extra parameters", "[qualify][spec]") {
    auto nt = bandwidth_result(2, "cpu", std::vector<double>(10, 50.0));
    nt.result.bench_case.params["stores"] = "nt";
    const auto run =
        make_run("h", 1, {bandwidth_result(1, "cpu", std::vector<double>(10, 100.0)), nt});
    const std::string body =
        "name = \"triad\"\nbenchmark = \"stream.triad\"\n"
        "params = { dtype = \"f64\", placement = \"all_cores\", size = \"dram\" }\n"
        "metric = \"bandwidth_stream_gb_per_s\"\nexpected = 100\n";
    const auto loose = evaluate_spec(parse_qualify_spec(spec_with(body), "s.toml"), run);
    CHECK(loose.outcomes.at(0).measurements.size() == 2);
    CHECK(loose.outcomes.at(0).verdict == QualifyVerdict::fail);
    const auto exact =
        evaluate_spec(parse_qualify_spec(spec_with(body + "params_exact = true\n"), "s.toml"), run);
    REQUIRE(exact.outcomes.at(0).measurements.size() == 1);
    CHECK(exact.outcomes.at(0).measurements[0].result_id == 1);
    CHECK(exact.outcomes.at(0).verdict == QualifyVerdict::pass);
}
