// End-to-end: the real binary on temp databases. Every bad input must give one line on stderr,
// a categorised non-zero exit code, and leave stored data untouched.
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/sha256.hpp"
#include "process.hpp"
#include "store/store.hpp"
#include "tests/collect/perf_support.hpp"

namespace fs = std::filesystem;
using assay::test::line_count;
using assay::test::run_assay;

namespace {

fs::path temp_path(const std::string& name) {
    const fs::path dir = fs::path(ASSAY_TEST_TMP) / "cli";
    fs::create_directories(dir);
    const fs::path p = dir / (std::to_string(::getpid()) + "_" + name);
    for (const char* suffix : {"", "-wal", "-shm"}) {
        fs::remove(p.string() + suffix);
    }
    return p;
}

std::string file_hash(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return assay::sha256_hex(ss.str());
}

/// A small, quick run: the working-set cap keeps it short on a 2-core CI machine.
std::vector<std::string> quick_run_args(const fs::path& db) {
    return {"run",           "--db", db.string(),         "--suite", "quick",
            "--max-seconds", "0.3",  "--max-working-set", "48MiB",   "--no-progress"};
}

void set_user_version(const fs::path& db, int version) {
    sqlite3* h = nullptr;
    REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
    const std::string sql = "PRAGMA user_version = " + std::to_string(version);
    REQUIRE(sqlite3_exec(h, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
    // Fold the WAL into the main file so the hash below sees the whole database.
    REQUIRE(sqlite3_exec(h, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr) ==
            SQLITE_OK);
    sqlite3_close(h);
}

}  // namespace

TEST_CASE("cli: --help lists the subcommands and exit codes", "[cli]") {
    const auto r = run_assay({"--help"});
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("probe"));
    CHECK_THAT(r.out, Catch::Contains("report"));
    CHECK_THAT(r.out, Catch::Contains("Exit codes"));
    const auto sub = run_assay({"run", "--help"});
    CHECK(sub.exit_code == 0);
    CHECK_THAT(sub.out, Catch::Contains("--filter"));
}

TEST_CASE("cli: unknown subcommand or flag is one line and exit 2", "[cli][bad-input]") {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"frobnicate"}, {"probe", "--bogus"}, {"report", "--format"}, {}}) {
        const auto r = run_assay(args);
        CHECK(r.exit_code == 2);
        CHECK(line_count(r.err) == 1);
        CHECK(r.out.empty());
    }
}

TEST_CASE("cli: an out-of-range number option names the option, the range and the value",
          "[cli][bad-input]") {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"run", "--suite", "quick", "--max-seconds", "-1"},
             {"run", "--suite", "quick", "--min-samples", "0"},
             {"report", "--run", "-3"},
             {"run", "--suite", "quick", "--max-seconds", "abc"}}) {
        const auto r = run_assay(args);
        CHECK(r.exit_code == 2);
        CHECK(line_count(r.err) == 1);
        CHECK_THAT(r.err, Catch::Contains(args[args.size() - 2] + ": must be a "));
        CHECK_THAT(r.err, Catch::Contains("got '" + args.back() + "'"));
        CHECK(r.err.size() < 200);  // no DBL_MAX spelled out
    }
}

TEST_CASE("cli: probe of a saved topology reports its counts", "[cli][probe]") {
    const std::string xml = std::string(ASSAY_TOPOLOGY_DIR) + "/kvm-2core-spr-amx.xml";
    REQUIRE(fs::exists(xml));
    const auto r = run_assay({"probe", "--topology-xml", xml});
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("packages               1"));
    CHECK_THAT(r.out, Catch::Contains("NUMA nodes             1"));
    CHECK_THAT(r.out, Catch::Contains("cores                  2"));
    CHECK_THAT(r.out, Catch::Contains("L2"));
    CHECK_THAT(r.out, Catch::Contains("L3"));
}

TEST_CASE("cli: probe --json of this host is valid versioned JSON with a fingerprint",
          "[cli][probe]") {
    const auto r = run_assay({"probe", "--json"});
    REQUIRE(r.exit_code == 0);
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j["schema"] == "assay.host/1");
    CHECK(j["fingerprint"].get<std::string>().size() == 64);
    CHECK(j["topology"]["cores"].get<int>() >= 1);
    CHECK_FALSE(j["os"]["hw_counters_reason"].get<std::string>().empty());
}

TEST_CASE("cli: unreadable topology XML is one line and exit 3", "[cli][bad-input]") {
    const auto missing = run_assay({"probe", "--topology-xml", "/nonexistent/topo.xml"});
    CHECK(missing.exit_code == 3);
    CHECK(line_count(missing.err) == 1);
    CHECK_THAT(missing.err, Catch::Contains("/nonexistent/topo.xml"));

    const fs::path garbage = temp_path("garbage.xml");
    std::ofstream(garbage) << "<topology><object type=\"Machine\"";  // truncated
    const auto bad = run_assay({"probe", "--topology-xml", garbage.string()});
    CHECK(bad.exit_code == 3);
    CHECK(line_count(bad.err) == 1);
}

TEST_CASE("cli: report on a missing DB fails without creating it", "[cli][bad-input]") {
    const fs::path db = temp_path("missing.db");
    const auto r = run_assay({"report", "--db", db.string()});
    CHECK(r.exit_code == 3);
    CHECK(line_count(r.err) == 1);
    CHECK_THAT(r.err, Catch::Contains(db.filename().string()));
    CHECK_FALSE(fs::exists(db));
}

TEST_CASE("cli: a corrupt DB file is refused and left as it was", "[cli][bad-input]") {
    const fs::path db = temp_path("corrupt.db");
    std::ofstream(db, std::ios::binary) << std::string(4096, '\x5a');
    const std::string before = file_hash(db);
    for (const auto& args : std::vector<std::vector<std::string>>{{"report", "--db", db.string()},
                                                                  quick_run_args(db)}) {
        const auto r = run_assay(args);
        CHECK(r.exit_code == 3);
        CHECK(line_count(r.err) == 1);
    }
    CHECK(file_hash(db) == before);
}

TEST_CASE("cli: an unwritable DB path is one line and exit 3", "[cli][bad-input]") {
    const auto r = run_assay(quick_run_args("/nonexistent-dir/assay.db"));
    CHECK(r.exit_code == 3);
    CHECK(line_count(r.err) == 1);
    CHECK_THAT(r.err, Catch::Contains("/nonexistent-dir/assay.db"));
}

TEST_CASE("cli: a bad --filter regex or an empty selection is a usage error", "[cli][bad-input]") {
    const fs::path db = temp_path("filter.db");
    auto args = quick_run_args(db);
    args.insert(args.end(), {"--filter", "stream(["});
    const auto bad = run_assay(args);
    CHECK(bad.exit_code == 2);
    CHECK(line_count(bad.err) == 1);
    auto none = quick_run_args(db);
    none.insert(none.end(), {"--filter", "^no-such-benchmark$"});
    const auto empty = run_assay(none);
    CHECK(empty.exit_code == 2);
    CHECK_THAT(empty.err, Catch::Contains("no benchmark matches"));
}

TEST_CASE("cli: run stores a verified STREAM triad and report shows it", "[cli][run]") {
    const fs::path db = temp_path("e2e.db");
    const auto run = run_assay(quick_run_args(db));
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    CHECK_THAT(run.out, Catch::Contains("stream.triad"));

    const auto md = run_assay({"report", "--db", db.string()});
    REQUIRE(md.exit_code == 0);
    CHECK_THAT(md.out, Catch::Contains("stream.triad"));
    CHECK_THAT(md.out, Catch::Contains("GB/s"));
    CHECK_THAT(md.out, Catch::Contains("| yes |"));

    const auto js = run_assay({"report", "--db", db.string(), "--format", "json"});
    REQUIRE(js.exit_code == 0);
    const auto j = nlohmann::json::parse(js.out);
    REQUIRE(j["runs"].size() == 1);
    const auto& r = j["runs"][0];
    CHECK(r["status"] == "complete");
    CHECK(r["suite"] == "quick");
    REQUIRE(r["results"].size() >= 1);
    const auto& res = r["results"][0];
    CHECK(res["benchmark"] == "stream.triad");
    CHECK(res["status"] == "ok");
    CHECK(res["verified"] == true);
    CHECK(res["samples"].get<int>() >= 1);
    CHECK(res["headline"]["best"].get<double>() > 0);
    CHECK(res["headline"]["best"].get<double>() >= res["headline"]["median"].get<double>());
    CHECK(r["provenance"]["environment"]["sampling"] == "quick");
    // The run's ceilings are derived from its verified results and stored with it.
    bool triad_ceiling = false;
    for (const auto& c : r["ceilings"]) {
        if (c["name"] == "mem.bandwidth.dram.triad.all_cores" && c["device"] == "cpu") {
            triad_ceiling = c["value"].get<double>() > 0 && c["source_result_id"].get<int>() > 0;
        }
    }
    CHECK(triad_ceiling);
    CHECK_THAT(md.out, Catch::Contains("Measured ceilings"));

    // Skips (GPU benchmarks on a host without one, ...) are summarised one line per reason,
    // and the lines account for every skipped result the run stored.
    std::size_t stored_skips = 0;
    for (const auto& stored : r["results"]) {
        stored_skips += stored["status"] == "skipped" ? 1 : 0;
    }
    INFO(run.out);
    CHECK_THAT(run.out, Catch::Contains(", " + std::to_string(stored_skips) + " skipped\n"));
    std::size_t grouped = 0, group_lines = 0;
    std::istringstream lines(run.out);
    for (std::string line; std::getline(lines, line);) {
        CHECK(line.rfind("  skipped ", 0) != 0);  // no per-result skip rows
        if (line.rfind("  ", 0) == 0 && (line.find(" benchmark skipped: ") != std::string::npos ||
                                         line.find(" benchmarks skipped: ") != std::string::npos)) {
            ++group_lines;
            grouped += std::stoul(line.substr(2));
            CHECK_THAT(line, Catch::Contains("(famil"));
        }
    }
    CHECK(grouped == stored_skips);
    REQUIRE(r["skipped_groups"].is_array());
    CHECK(r["skipped_groups"].size() == group_lines);
    if (stored_skips > 0) {
        CHECK(group_lines >= 1);
        CHECK_THAT(md.out, Catch::Contains("Skipped (" + std::to_string(stored_skips) + " of "));
        CHECK_THAT(md.out, Catch::Contains("<details><summary>"));
    } else {
        CHECK(group_lines == 0);
        CHECK(md.out.find("Skipped (") == std::string::npos);
    }

    SECTION("a DB from a newer schema is refused and untouched") {
        set_user_version(db, 99);
        const std::string before = file_hash(db);
        const auto rep = run_assay({"report", "--db", db.string()});
        CHECK(rep.exit_code == 3);
        CHECK(line_count(rep.err) == 1);
        CHECK_THAT(rep.err, Catch::Contains("newer"));
        const auto again = run_assay(quick_run_args(db));
        CHECK(again.exit_code == 3);
        CHECK(file_hash(db) == before);
    }
}

TEST_CASE("cli: SIGINT mid-run keeps completed results and marks the run incomplete",
          "[cli][signal]") {
    const fs::path db = temp_path("sigint.db");
    // Two benchmarks (full suite); each samples for up to 3 s so the signal lands mid-run.
    assay::test::Process p(
        {"run", "--db", db.string(), "--suite", "full", "--max-seconds", "3", "--min-samples",
         "1000000", "--max-working-set", "48MiB", "--no-progress"},
        temp_path("sigint").string());
    // Wait until the first result is committed, then interrupt.
    bool have_result = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (!have_result && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (!fs::exists(db))
            continue;
        try {
            const auto store = assay::Store::open(db, assay::OpenMode::read_only);
            const auto runs = store.list_runs();
            have_result = !runs.empty() && !store.results_for_run(runs.front().id).empty();
        } catch (const assay::Error&) {
            // schema being created by the writer: try again
        }
    }
    REQUIRE(have_result);
    REQUIRE(::kill(p.pid(), SIGINT) == 0);
    const auto r = p.wait();
    INFO(r.err);
    CHECK(r.exit_code == 130);

    const auto store = assay::Store::open(db, assay::OpenMode::read_only);
    const auto runs = store.list_runs();
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].status == assay::RunStatus::incomplete);
    CHECK_THAT(runs[0].status_note, Catch::Contains("SIGINT"));
    const auto results = store.results_for_run(runs[0].id);
    REQUIRE(results.size() == 1);
    CHECK(results[0].result.status == assay::ResultStatus::ok);
    CHECK(results[0].result.verified);
}

TEST_CASE("cli: --counters stores counters per result, records unavailable ones, run goes on",
          "[cli][counters]") {
    const fs::path db = temp_path("counters.db");
    auto args = quick_run_args(db);
    args.insert(args.end(), {"--filter", "@cpu:", "--counters",
                             "perf::TASK-CLOCK,perf::PAGE-FAULTS,PAPI_TOT_CYC"});
    const auto run = run_assay(args);
    INFO(run.err);
    REQUIRE(run.exit_code == 0);

    const auto store = assay::Store::open(db, assay::OpenMode::read_only);
    const auto runs = store.list_runs();
    REQUIRE(runs.size() == 1);
    const auto& env = runs[0].info.environment;
    REQUIRE(env.count("counter.PAPI_TOT_CYC") == 1);
    REQUIRE(env.count("counter.perf::TASK-CLOCK") == 1);
    std::string why;
    const bool sw = assay::test::software_perf_events_work(why);
    CHECK((env.at("counter.perf::TASK-CLOCK").rfind("available via ", 0) == 0) == sw);
    const bool hw_cycles = env.at("counter.PAPI_TOT_CYC").rfind("available via ", 0) == 0;
    if (!hw_cycles) {
        CHECK_THAT(env.at("counter.PAPI_TOT_CYC"), Catch::StartsWith("unavailable"));
        if (assay::test::hardware_cycles_open_errno() == ENOENT) {
            CHECK_THAT(env.at("counter.PAPI_TOT_CYC"), Catch::Contains("PMU"));
        }
    }
    const auto results = store.results_for_run(runs[0].id);
    REQUIRE_FALSE(results.empty());
    for (const auto& sr : results) {
        const auto& r = sr.result;
        if (r.status != assay::ResultStatus::ok)
            continue;
        INFO(r.bench_case.id());
        CHECK((r.find_metric("counter.perf::TASK-CLOCK") != nullptr) == sw);
        CHECK((r.find_metric("counter.perf::PAGE-FAULTS") != nullptr) == sw);
        if (sw) {
            // Per execution (can be 0 once the arrays are touched) and the setup's first touch.
            CHECK(r.find_metric("counter.perf::TASK-CLOCK")->value > 0);
            const auto* faults = r.find_metric("counter.perf::PAGE-FAULTS.setup");
            REQUIRE(faults != nullptr);
            CHECK(faults->value > 0);
        }
        CHECK((r.find_metric("counter.PAPI_TOT_CYC") != nullptr) == hw_cycles);
    }
    const auto md = run_assay({"report", "--db", db.string()});
    REQUIRE(md.exit_code == 0);
    CHECK_THAT(md.out, Catch::Contains("PAPI_TOT_CYC"));
    CHECK_THAT(md.out, Catch::Contains("Measurement conditions"));
}

TEST_CASE("cli: --quick and --thorough select the sampling preset and conflicts are refused",
          "[cli][run]") {
    const fs::path db = temp_path("sampling.db");
    const auto run = run_assay({"run", "--db", db.string(), "--suite", "full", "--filter",
                                "^stream\\.sum/.*all_cores", "--max-working-set", "48MiB",
                                "--quick", "--no-progress"});
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    const auto js = run_assay({"report", "--db", db.string(), "--format", "json"});
    REQUIRE(js.exit_code == 0);
    const auto j = nlohmann::json::parse(js.out);
    REQUIRE(j["runs"].size() == 1);
    CHECK(j["runs"][0]["provenance"]["environment"]["sampling"] == "quick");

    const std::string before = file_hash(db);
    const auto clash = run_assay({"run", "--db", db.string(), "--quick", "--thorough"});
    CHECK(clash.exit_code == 2);
    CHECK(line_count(clash.err) == 1);
    CHECK_THAT(clash.err, Catch::Contains("conflicting sampling presets"));
    const auto clash2 = run_assay({"run", "--db", db.string(), "--sampling", "default", "--quick"});
    CHECK(clash2.exit_code == 2);
    CHECK(file_hash(db) == before);
}
