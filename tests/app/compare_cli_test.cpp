// `assay report compare` end to end: the real binary on the fixture store (and a copy of it).
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "process.hpp"
#include "tests/reports/compare_fixture.hpp"

namespace fs = std::filesystem;
using assay::test::line_count;
using assay::test::run_assay;

namespace {

fs::path scratch(const std::string& name) {
    const fs::path dir = fs::path(ASSAY_TEST_TMP) / "compare_cli";
    fs::create_directories(dir);
    return dir / (std::to_string(::getpid()) + "_" + name);
}

fs::path fixture(const std::string& name) {
    const fs::path db = scratch(name);
    assay::test::write_compare_fixture(db);
    return db;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

TEST_CASE("report compare: Markdown, CSV and JSON from the fixture", "[cli][compare]") {
    const fs::path db = fixture("cmp.db");
    auto r = run_assay({"report", "compare", "--db", db.string(), "--resamples", "200"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("# Assay comparison") != std::string::npos);
    CHECK(r.out.find("Baseline: **gpu-host**") != std::string::npos);
    CHECK(r.out.find("n/a (no price table given)") != std::string::npos);

    const fs::path json_out = scratch("cmp.json");
    r = run_assay({"report", "compare", "--db", db.string(), "--format", "json", "-o",
                   json_out.string(), "--baseline", "ai-cpu", "--resamples", "200"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.empty());
    const auto j = nlohmann::json::parse(slurp(json_out));
    CHECK(j["schema"] == "assay.compare/1");
    CHECK(j["baseline"] == "ai-cpu");

    r = run_assay({"report", "compare", "--db", db.string(), "--format", "csv", "--family",
                   "^gemm$", "--resamples", "200"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.rfind("family,benchmark,params,", 0) == 0);
    CHECK(r.out.find("\nstream,") == std::string::npos);
    CHECK(r.out.find("\ngemm,") != std::string::npos);
}

TEST_CASE("report compare: two stores, prices, per-backend", "[cli][compare]") {
    const fs::path a = fixture("two_a.db");
    const fs::path b = fixture("two_b.db");
    const fs::path prices = scratch("prices.toml");
    std::ofstream(prices) << "[[price]]\nmatch = \"instance_type:c8g.48xlarge\"\n"
                             "usd_per_hour = 7.63\ndate = \"2026-11-01\"\nsource = \"test\"\n";
    auto r =
        run_assay({"report", "compare", "--db", a.string(), "--db", b.string(), "--host",
                   "hostname:ai-cpu", "--host", "instance:p5.48xlarge", "--prices", prices.string(),
                   "--per-backend", "--format", "json", "--resamples", "200"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto j = nlohmann::json::parse(r.out);
    REQUIRE(j["hosts"].size() == 2);  // the same two hosts in both stores
    CHECK(j["hosts"][0]["label"] == "ai-cpu");
    CHECK(j["hosts"][0]["price"]["usd_per_hour"] == 7.63);
    CHECK(j["settings"]["per_backend"] == true);
}

TEST_CASE("report compare: bad input is one line and a category exit code", "[cli][compare]") {
    const fs::path db = fixture("bad.db");
    auto r = run_assay({"report", "compare", "--db", db.string(), "--host", "nosuchhost"});
    CHECK(r.exit_code == 2);
    CHECK(line_count(r.err) == 1);
    CHECK(r.err.find("nosuchhost") != std::string::npos);

    r = run_assay({"report", "compare", "--db", db.string(), "--host", "cpu:x"});
    CHECK(r.exit_code == 2);
    CHECK(line_count(r.err) == 1);

    r = run_assay({"report", "compare", "--db", db.string(), "--format", "pdf"});
    CHECK(r.exit_code == 2);
    CHECK(line_count(r.err) == 1);

    r = run_assay({"report", "compare", "--db", db.string(), "--family", "(["});
    CHECK(r.exit_code == 2);
    CHECK(line_count(r.err) == 1);

    r = run_assay({"report", "compare", "--db", scratch("missing.db").string()});
    CHECK(r.exit_code == 3);
    CHECK(line_count(r.err) == 1);

    r = run_assay(
        {"report", "compare", "--db", db.string(), "--prices", scratch("missing.toml").string()});
    CHECK(r.exit_code == 3);
    CHECK(line_count(r.err) == 1);
}
