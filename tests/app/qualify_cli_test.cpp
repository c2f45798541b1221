// End-to-end `assay qualify` and `assay fleet` on one real quick run of this machine (created
// once per test binary and reused). JUnit XML is checked with python3's xml.etree (junitparser
// is not installed here): it must parse and carry the expected testsuite/testcase structure.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "process.hpp"

namespace fs = std::filesystem;
using assay::test::line_count;
using assay::test::run_assay;

namespace {

fs::path qualify_tmp(const std::string& name) {
    const fs::path dir = fs::path(ASSAY_TEST_TMP) / "qualify_cli";
    fs::create_directories(dir);
    return dir / (std::to_string(::getpid()) + "_" + name);
}

fs::path repo_root() {
    // Not __FILE__: a compiler cache with a base directory makes it relative to the build tree.
    return fs::path(ASSAY_SOURCE_DIR);
}

std::string read_text(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_text(const fs::path& p, const std::string& text) {
    std::ofstream(p) << text;
}

/// One quick run of this machine, shared by every test in this file.
const fs::path& quick_db() {
    static const fs::path db = [] {
        const fs::path p = qualify_tmp("quick.db");
        for (const char* suffix : {"", "-wal", "-shm"}) {
            fs::remove(p.string() + suffix);
        }
        const auto r = run_assay({"run", "--db", p.string(), "--suite", "quick", "--max-seconds",
                                  "0.3", "--no-progress"});
        if (r.exit_code != 0) {
            FAIL("assay run --suite quick failed: " << r.err);
        }
        return p;
    }();
    return db;
}

/// Validates JUnit XML with python3's xml.etree: the root is <testsuites>, every testcase sits
/// in a testsuite, and the counts in the root's attributes match the elements. Prints
/// "<tests> <failures> <errors> <skipped>" on success.
std::string junit_summary(const fs::path& xml) {
    const fs::path script = qualify_tmp("junit_check.py");
    write_text(script, R"(import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites", root.tag
cases = [c for s in root.findall("testsuite") for c in s.findall("testcase")]
assert len(cases) == len(root.findall(".//testcase"))
count = lambda tag: sum(1 for c in cases if c.find(tag) is not None)
n = (len(cases), count("failure"), count("error"), count("skipped"))
assert int(root.get("tests")) == n[0] and int(root.get("failures")) == n[1], n
assert int(root.get("errors")) == n[2] and int(root.get("skipped")) == n[3], n
for s in root.findall("testsuite"):
    props = {p.get("name"): p.get("value") for p in s.find("properties")}
    assert props["host"] and props["run_id"] and props["spec"], props
print(*n)
)");
    const fs::path out = qualify_tmp("junit_check.out");
    const std::string cmd =
        "python3 '" + script.string() + "' '" + xml.string() + "' > '" + out.string() + "' 2>&1";
    const int rc = std::system(cmd.c_str());
    const std::string text = read_text(out);
    if (rc != 0) {
        return "invalid: " + text;
    }
    return text.substr(0, text.find('\n'));
}

/// A spec derived from the quick run itself (every check passes by construction).
const fs::path& derived_spec() {
    static const fs::path spec = [] {
        const fs::path p = qualify_tmp("derived.toml");
        const auto r = run_assay({"qualify", "--db", quick_db().string(), "--derive-runs", "1",
                                  "--name", "self", "-o", p.string()});
        if (r.exit_code != 0) {
            FAIL("assay qualify --derive-runs failed: " << r.err);
        }
        return p;
    }();
    return spec;
}

}  // namespace

TEST_CASE("qualify cli: the example spec for this machine applies to a quick run",
          "[cli][qualify]") {
    const fs::path junit = qualify_tmp("dev-vm.xml");
    const auto r =
        run_assay({"qualify", "--spec", (repo_root() / "examples/specs/dev-vm.toml").string(),
                   "--db", quick_db().string(), "--junit", junit.string()});
    INFO(r.out << r.err);
    // The verdict depends on how busy this shared 2-core VM is while the test runs: 0 when
    // quiet, 2 (WARN) under a few parallel builds, 1 when the run was starved (a load average
    // of 20 + parallel test suites cut triad to ~5 GB/s). What must hold whatever the load:
    // the spec parses and every check finds its result (no ERROR, exit 3), in valid JUnit.
    CHECK(r.exit_code != 3);
    CHECK((r.exit_code == 0 || r.exit_code == 1 || r.exit_code == 2));
    CHECK_THAT(r.out, Catch::Contains("dram-triad"));
    CHECK_THAT(r.out, Catch::Contains("fp32-gemm"));
    CHECK_THAT(r.out, Catch::Contains(" 0 error, 0 skipped"));
    const std::string summary = junit_summary(junit);
    REQUIRE_THAT(summary, !Catch::StartsWith("invalid"));
    std::istringstream counts(summary);
    int tests = 0, failures = -1, errors = -1, skipped = -1;
    counts >> tests >> failures >> errors >> skipped;
    CHECK(tests == 5);
    CHECK(errors == 0);
    CHECK(skipped == 0);
    CHECK((failures == 0) == (r.exit_code != 1));
}

TEST_CASE("qualify cli: own derived spec passes, raised 20 % fails with valid JUnit",
          "[cli][qualify]") {
    const std::string spec_text = read_text(derived_spec());
    CHECK_THAT(spec_text, Catch::Contains("[[check]]"));
    CHECK_THAT(spec_text, Catch::Contains("1.4826 x MAD"));
    const auto ok = run_assay({"qualify", "--spec", derived_spec().string(), "--db",
                               quick_db().string(), "--format", "md"});
    INFO(ok.out << ok.err);
    CHECK(ok.exit_code == 0);
    CHECK_THAT(ok.out, Catch::Contains(": PASS"));

    // Raise every expected value by 20 % and tighten warn/fail to 5/10 %.
    std::istringstream in(spec_text);
    std::string line, raised;
    int n_expected = 0;
    while (std::getline(in, line)) {
        if (line.rfind("expected = ", 0) == 0) {
            line = "expected = " + std::to_string(1.2 * std::stod(line.substr(11)));
            ++n_expected;
        } else if (line.rfind("warn_pct = ", 0) == 0) {
            line = "warn_pct = 5.0";
        } else if (line.rfind("fail_pct = ", 0) == 0) {
            line = "fail_pct = 10.0";
        }
        raised += line + "\n";
    }
    CHECK(n_expected >= 4);
    const fs::path raised_path = qualify_tmp("raised.toml");
    write_text(raised_path, raised);
    const fs::path junit = qualify_tmp("raised.xml");
    const auto bad = run_assay({"qualify", "--spec", raised_path.string(), "--db",
                                quick_db().string(), "--junit", junit.string()});
    INFO(bad.out << bad.err);
    CHECK(bad.exit_code == 1);
    CHECK_THAT(bad.out, Catch::Contains("FAIL"));
    const std::string summary = junit_summary(junit);
    REQUIRE_THAT(summary, !Catch::StartsWith("invalid"));
    std::istringstream counts(summary);
    int tests = 0, failures = -1, errors = -1;
    counts >> tests >> failures >> errors;
    CHECK(tests == n_expected);
    CHECK(failures >= 3);  // every higher-is-better check (latency gets easier when raised)
    CHECK(errors == 0);
}

TEST_CASE("qualify cli: bad input gives one line and exit 3, usage errors exit 2",
          "[cli][qualify][bad-input]") {
    const fs::path bad_spec = qualify_tmp("bad.toml");
    write_text(bad_spec,
               "[spec]\nname = \"x\"\n[[check]]\nname = \"t\"\nbenchmark = \"stream.*\"\n"
               "metric = \"bandwidth_stream_gb_per_s\"\nexpected = 10\nwarn_pct = 9\n"
               "fail_pct = 3\n");
    const auto r1 =
        run_assay({"qualify", "--spec", bad_spec.string(), "--db", quick_db().string()});
    CHECK(r1.exit_code == 3);
    CHECK(line_count(r1.err) == 1);
    CHECK_THAT(r1.err, Catch::Contains("bad.toml:9: check 't': fail_pct must be > warn_pct"));

    const fs::path nomatch = qualify_tmp("nomatch.toml");
    write_text(nomatch,
               "[[check]]\nname = \"none\"\nbenchmark = \"no\\\\.such\"\n"
               "metric = \"gflop_per_s\"\nexpected = 1\n");
    const auto r2 = run_assay({"qualify", "--spec", nomatch.string(), "--db", quick_db().string()});
    CHECK(r2.exit_code == 3);
    CHECK_THAT(r2.out, Catch::Contains("ERROR"));
    CHECK_THAT(r2.out, Catch::Contains("no result of run 1 matches"));

    const auto r3 = run_assay(
        {"qualify", "--spec", derived_spec().string(), "--db", qualify_tmp("missing.db").string()});
    CHECK(r3.exit_code == 3);
    CHECK(line_count(r3.err) == 1);
    const auto r4 = run_assay({"qualify", "--db", quick_db().string()});
    CHECK(r4.exit_code == 2);
    const auto r5 = run_assay({"qualify", "--spec", derived_spec().string(), "--db",
                               quick_db().string(), "--host", "no-such-host"});
    CHECK(r5.exit_code == 3);
    const auto r6 = run_assay(
        {"qualify", "--spec", derived_spec().string(), "--db", quick_db().string(), "--run", "99"});
    CHECK(r6.exit_code == 3);
    const auto help = run_assay({"qualify", "--help"});
    CHECK(help.exit_code == 0);
    CHECK_THAT(help.out, Catch::Contains("--derive-from"));
    CHECK_THAT(help.out, Catch::Contains("2  usage error"));
}

TEST_CASE("fleet cli: one host is too small, falls back to the spec", "[cli][fleet]") {
    const auto r = run_assay({"fleet", "--db", quick_db().string()});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("fleet too small (1 hosts < 5)"));
    CHECK_THAT(r.out, Catch::Contains("give --spec"));

    const auto s = run_assay({"fleet", "--db", quick_db().string(), "--spec",
                              derived_spec().string(), "--format", "json"});
    INFO(s.out << s.err);
    CHECK(s.exit_code == 0);
    const auto j = nlohmann::json::parse(s.out);
    CHECK(j["too_small"] == true);
    CHECK(j["hosts_count"] == 1);
    REQUIRE(j["spec_fallback"].size() == 1);
    CHECK(j["spec_fallback"][0]["verdict"] == "PASS");

    CHECK(run_assay({"fleet", "--db", quick_db().string(), "--class", "0000"}).exit_code == 3);
    CHECK(run_assay({"fleet", "--db", quick_db().string(), "--tag", "no-such-tag"}).exit_code == 3);
    CHECK(run_assay({"fleet", "--db", quick_db().string(), "--filter", "("}).exit_code == 2);
    CHECK(run_assay({"fleet", "--db", quick_db().string(), "--format", "csv"}).exit_code == 2);
}
