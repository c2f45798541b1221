// `assay regress` end to end on small synthetic stores written through the Store API.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <fmt/format.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/sha256.hpp"
#include "core/stats.hpp"
#include "process.hpp"
#include "store/store.hpp"

namespace fs = std::filesystem;
using assay::test::line_count;
using assay::test::run_assay;
using namespace assay;

namespace {

fs::path regress_db(const std::string& name) {
    const fs::path dir = fs::path(ASSAY_TEST_TMP) / "regress_cli";
    fs::create_directories(dir);
    const fs::path p = dir / (std::to_string(::getpid()) + "_" + name + ".db");
    for (const char* suffix : {"", "-wal", "-shm"}) {
        fs::remove(p.string() + suffix);
    }
    return p;
}

/// 20 nights of one STREAM-like series at 1 % noise; the last `bad_nights` nights 10 % slower.
void write_history(const fs::path& db, int bad_nights) {
    Store s = Store::open(db, OpenMode::create_read_write);
    HostInfo h;
    h.identity.hostname = "ci-node";
    h.identity.machine_id = "ci";
    h.cpu.arch = "x86_64";
    h.cpu.model_name = "TEST CPU";
    h.fingerprint_keys = {"test=1"};
    h.fingerprint = sha256_hex("test=1\n");
    const auto config = s.record_host(h);
    std::mt19937_64 rng(31);
    std::normal_distribution<double> normal(0, 1);
    const int nights = 20;
    for (int night = 1; night <= nights; ++night) {
        RunInfo info;
        info.uuid = fmt::format("00000000-0000-4000-8000-{:012d}", night);
        info.started_at = fmt::format("2026-02-{:02d}T02:00:00.000Z", night);
        info.tool_version = "0.1.0";
        info.git_sha = fmt::format("sha{}", night);
        info.tags = {"nightly", "synthetic"};
        const auto run = s.begin_run(config, info);
        double gbps = 40 * (1 + 0.01 * normal(rng));
        if (night > nights - bad_nights) {
            gbps *= 0.9;
        }
        Result r;
        r.bench_case = {"stream.triad", {{"dtype", "f64"}}};
        r.device = "cpu";
        r.backend = "cpu.native";
        r.status = ResultStatus::ok;
        r.samples = {1 / gbps};
        r.stats = summarize(r.samples);
        r.verified = true;
        r.metrics = {
            {"bandwidth_stream_gb_per_s.best", gbps, "GB/s", Direction::higher_is_better},
            {"bandwidth_stream_gb_per_s.median", gbps, "GB/s", Direction::higher_is_better}};
        s.add_result(run, r);
        s.finish_run(run, RunStatus::complete, "synthetic test history");
    }
}

}  // namespace

TEST_CASE("regress cli: exit 0 without, 1 with a confirmed regression", "[cli][regress]") {
    const fs::path quiet = regress_db("quiet");
    write_history(quiet, 0);
    const auto ok = run_assay({"regress", "--db", quiet.string()});
    CHECK(ok.exit_code == 0);
    CHECK_THAT(ok.out, Catch::Contains("**OK: 0 regression(s)"));
    CHECK(ok.err.empty());

    const fs::path bad = regress_db("bad");
    write_history(bad, 2);
    const auto r = run_assay({"regress", "--db", bad.string()});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.out, Catch::Contains("## Regressions"));
    CHECK_THAT(r.out, Catch::Contains("stream.triad/dtype=f64"));
    CHECK_THAT(r.err, Catch::Contains("regression: 1 series"));

    // JSON to a file says the same.
    const fs::path out = bad.string() + ".json";
    const auto j = run_assay({"regress", "--db", bad.string(), "--format", "json", "-o",
                              out.string(), "--tag", "nightly"});
    CHECK(j.exit_code == 1);
    std::ifstream in(out);
    const auto doc = nlohmann::json::parse(in);
    CHECK(doc["summary"]["status"] == "regression");
    CHECK(doc["series"][0]["verdict"] == "regression");
    CHECK(doc["series"][0]["since_run_uuid"] == "00000000-0000-4000-8000-000000000019");

    // A huge --min-effect turns it off; a filter that matches nothing is a usage error.
    CHECK(run_assay({"regress", "--db", bad.string(), "--min-effect", "50"}).exit_code == 0);
    const auto none = run_assay({"regress", "--db", bad.string(), "--filter", "^gemm"});
    CHECK(none.exit_code == 2);
    CHECK(line_count(none.err) == 1);
}

TEST_CASE("regress cli: one bad night is suspect: exit 0 with a warning", "[cli][regress]") {
    const fs::path db = regress_db("suspect");
    write_history(db, 1);
    const auto r = run_assay({"regress", "--db", db.string()});
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("## Suspect"));
    CHECK_THAT(r.err, Catch::Contains("warning: 1 suspect regression(s)"));
}

TEST_CASE("regress cli: bad flags exit 2, bad databases exit 3", "[cli][regress][bad-input]") {
    const fs::path db = regress_db("flags");
    write_history(db, 0);
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"regress", "--db", db.string(), "--z", "abc"},
             {"regress", "--db", db.string(), "--format", "html"},
             {"regress", "--db", db.string(), "--filter", "(["},
             {"regress", "--db", db.string(), "--window", "5", "--min-history", "10"},
             {"regress", "--db", db.string(), "--bogus"}}) {
        const auto r = run_assay(args);
        CHECK(r.exit_code == 2);
        CHECK(line_count(r.err) == 1);
    }
    const auto missing = run_assay({"regress", "--db", (db.string() + ".nope")});
    CHECK(missing.exit_code == 3);
    CHECK(line_count(missing.err) == 1);
    const auto help = run_assay({"regress", "--help"});
    CHECK(help.exit_code == 0);
    CHECK_THAT(help.out, Catch::Contains("Exit codes"));
    CHECK_THAT(help.out, Catch::Contains("--min-effect"));
}
