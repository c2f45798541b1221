// Hostile and broken input at the CLI (issue #18): every numeric flag refuses NaN, infinities
// and out-of-range values with exit 2 and one line naming the flag; a missing run, a bad price
// and a failed write are exit 3 with one line.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "process.hpp"
#include "store/store.hpp"

namespace fs = std::filesystem;
using assay::test::line_count;
using assay::test::run_assay;
using assay::test::run_assay_stdout_to;

namespace {

fs::path scratch(const std::string& name) {
    return assay::test::scratch_path("hostile_cli", name);
}

/// An empty, valid store (no runs).
fs::path empty_store(const std::string& name) {
    const fs::path db = scratch(name);
    assay::Store::open(db, assay::OpenMode::create_read_write);
    return db;
}

}  // namespace

TEST_CASE("cli: NaN, infinities and out-of-range numbers are usage errors naming the flag",
          "[cli][bad-input][hostile]") {
    const std::vector<std::vector<std::string>> cases = {
        {"regress", "--min-effect", "nan"},
        {"regress", "--z", "nan"},
        {"regress", "--pvalue", "nan"},
        {"regress", "--fdr", "inf"},
        {"regress", "--window", "-1"},
        {"run", "--suite", "quick", "--max-seconds", "inf"},
        {"run", "--suite", "quick", "--max-seconds", "1e300"},
        {"run", "--suite", "quick", "--max-seconds", "1e-320"},
        {"run", "--suite", "quick", "--max-seconds", "-1"},
        {"run", "--suite", "quick", "--min-samples", "0"},
        {"run", "--suite", "quick", "--min-samples", "1.5"},
        {"run", "--suite", "quick", "--max-working-set", "-1"},
        {"run", "--suite", "quick", "--max-working-set", "0"},
        {"run", "--suite", "quick", "--repetitions", "-1"},
        {"run", "--suite", "quick", "--seed", "-1"},
        {"report", "--last", "-1"},
        {"report", "--last", "0"},
        {"report", "--run", "-3"},
        {"report", "--run", "0x10"},
        {"export", "--run", "nan"},
        {"qualify", "--run", "1e3"},
        {"report", "compare", "--resamples", "-1"},
    };
    for (const auto& args : cases) {
        CAPTURE(args);
        const auto r = run_assay(args);
        CHECK(r.exit_code == 2);
        CHECK(line_count(r.err) == 1);
        // The line names the flag and the value that was refused.
        const std::string& flag = args[args.size() - 2];
        CHECK_THAT(r.err, Catch::Contains(flag));
        CHECK_THAT(r.err, Catch::Contains("got '" + args.back() + "'"));
        CHECK(r.err.size() < 200);
        CHECK(r.out.empty());
    }
}

TEST_CASE("cli: report --run of a run that is not there is exit 3", "[cli][bad-input][hostile]") {
    const fs::path db = empty_store("norun.db");
    const auto r = run_assay({"report", "--db", db.string(), "--run", "99999"});
    CHECK(r.exit_code == 3);
    CHECK(line_count(r.err) == 1);
    CHECK_THAT(r.err, Catch::Contains("no run 99999 in " + db.string()));
    CHECK(r.out.empty());
    const auto e = run_assay({"export", "--db", db.string(), "--run", "99999"});
    CHECK(e.exit_code == 3);
    CHECK_THAT(e.err, Catch::Contains("no run 99999"));
}

TEST_CASE("cli: a failed write of stdout or -o FILE is exit 3", "[cli][bad-input][hostile]") {
    if (!fs::exists("/dev/full")) {
        WARN("no /dev/full here: write failures not tested");
        return;
    }
    const fs::path db = empty_store("full.db");
    const auto to_file = run_assay({"report", "--db", db.string(), "-o", "/dev/full"});
    CHECK(to_file.exit_code == 3);
    CHECK(line_count(to_file.err) == 1);
    CHECK_THAT(to_file.err, Catch::Contains("/dev/full"));

    const auto to_stdout = run_assay_stdout_to({"report", "--db", db.string()}, "/dev/full");
    CHECK(to_stdout.exit_code == 3);
    CHECK(line_count(to_stdout.err) == 1);
    CHECK_THAT(to_stdout.err, Catch::Contains("stdout"));

    const auto list = run_assay_stdout_to({"list", "--suite", "quick"}, "/dev/full");
    CHECK(list.exit_code == 3);
    CHECK(line_count(list.err) == 1);
}

TEST_CASE("cli: a bad price in a price table is one line naming the file and line",
          "[cli][bad-input][hostile]") {
    for (const std::string value : {"1e-320", "-5", "inf", "nan", "0", "\"cheap\""}) {
        CAPTURE(value);
        const fs::path prices = scratch("prices.toml");
        std::ofstream(prices) << "[[price]]\nmatch = \"hostname:a\"\nusd_per_hour = " << value
                              << "\n";
        const auto r = run_assay({"report", "compare", "--prices", prices.string()});
        CHECK(r.exit_code == 3);
        CHECK(line_count(r.err) == 1);
        CHECK_THAT(r.err, Catch::Contains(prices.string()));
        CHECK_THAT(r.err, Catch::Contains("line 3"));
    }
}
