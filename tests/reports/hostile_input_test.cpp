// Hostile names in stored data (hostnames, benchmark names, params, messages) cannot break a
// Markdown table row, inject HTML into Markdown, or plant a spreadsheet formula in CSV: the run
// report, export, qualify and compare renderers all go through reports/escape.
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/stats.hpp"
#include "reports/compare/compare_model.hpp"
#include "reports/compare/compare_render.hpp"
#include "reports/escape.hpp"
#include "reports/export.hpp"
#include "reports/qualify.hpp"
#include "reports/run_report.hpp"
#include "store/store.hpp"
#include "tests/reports/compare_fixture.hpp"
#include "tests/reports/qualify_fixtures.hpp"

namespace fs = std::filesystem;
using namespace assay;

namespace {

const std::string kHostileHost = "evil|host\n<script>alert(1)</script>";
const std::string kHostileBenchmark = "=cmd|' /C calc'!A0";
const std::string kHostileMessage = "<img src=x onerror=alert(1)>|\r\n@SUM(A1)";

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        out.push_back(line);
    }
    return out;
}

/// Cells of a Markdown table row: '|' not escaped by a backslash (a "\\" pair escapes itself).
std::size_t pipe_count(const std::string& row) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < row.size(); ++i) {
        if (row[i] == '\\') {
            ++i;
        } else if (row[i] == '|') {
            ++n;
        }
    }
    return n;
}

/// The text without its inline code spans (HTML inside a code span is shown, never run).
std::string without_code_spans(const std::string& md) {
    std::string out;
    for (std::size_t i = 0; i < md.size();) {
        if (md[i] != '`') {
            out += md[i++];
            continue;
        }
        const std::size_t n = md.find_first_not_of('`', i) == std::string::npos
                                  ? md.size() - i
                                  : md.find_first_not_of('`', i) - i;
        const std::string fence(n, '`');
        const std::size_t close = md.find(fence, i + n);
        i = close == std::string::npos ? md.size() : close + n;
    }
    return out;
}

/// Every row of every Markdown table has as many cells as its header; no raw HTML tag from the
/// data survives outside code spans.
void check_markdown(const std::string& md) {
    const std::string text = without_code_spans(md);
    CHECK(text.find("<script") == std::string::npos);
    CHECK(text.find("<img") == std::string::npos);
    std::size_t header_pipes = 0;
    bool in_table = false;
    for (const std::string& line : lines_of(md)) {
        if (line.empty() || line.front() != '|') {
            in_table = false;
            continue;
        }
        if (!in_table) {
            header_pipes = pipe_count(line);
            in_table = true;
            continue;
        }
        CAPTURE(line);
        CHECK(pipe_count(line) == header_pipes);
    }
}

/// RFC 4180 split of a whole CSV text into rows of fields.
std::vector<std::vector<std::string>> csv_rows(const std::string& csv) {
    std::vector<std::vector<std::string>> rows(1, std::vector<std::string>(1));
    bool quoted = false;
    for (std::size_t i = 0; i < csv.size(); ++i) {
        const char c = csv[i];
        if (quoted) {
            if (c == '"' && i + 1 < csv.size() && csv[i + 1] == '"') {
                rows.back().back() += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                rows.back().back() += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            rows.back().emplace_back();
        } else if (c == '\n') {
            rows.emplace_back(1);
        } else {
            rows.back().back() += c;
        }
    }
    if (rows.back().size() == 1 && rows.back()[0].empty()) {
        rows.pop_back();
    }
    return rows;
}

/// Every row as wide as the header and no field a spreadsheet would run as a formula.
void check_csv(const std::string& csv, const std::string& must_contain) {
    const auto rows = csv_rows(csv);
    REQUIRE(rows.size() > 1);
    bool seen = false;
    for (const auto& row : rows) {
        CHECK(row.size() == rows.front().size());
        for (const std::string& field : row) {
            CAPTURE(field);
            if (!field.empty() &&
                std::string("=+-@\t\r").find(field.front()) != std::string::npos) {
                CHECK(escape::is_plain_number(field));
            }
            seen = seen || field.find(must_contain) != std::string::npos;
        }
    }
    CHECK(seen);  // the hostile text is kept (neutralised), not silently dropped
}

RunWithResults hostile_run() {
    auto ok = test::bandwidth_result(1, "cpu|0", std::vector<double>(20, 100.0));
    ok.result.bench_case.benchmark = kHostileBenchmark;
    ok.result.bench_case.params["note"] = "-2+3";
    ok.result.implementation = "<b>impl</b>";
    auto failed = test::bandwidth_result(2, "cpu", std::vector<double>(10, 50.0));
    failed.result.status = ResultStatus::failed;
    failed.result.verified = false;
    failed.result.message = kHostileMessage;
    auto run = test::make_run(kHostileHost, 5, {ok, failed});
    run.run.info.tags = {"<i>tag</i>"};
    run.run.status_note = "note|<br>";
    return run;
}

}  // namespace

TEST_CASE("hostile names: run report Markdown keeps its tables", "[escape][report]") {
    const std::string md =
        render_run_report({hostile_run()}, {"x.db", "now"}, ReportFormat::markdown);
    check_markdown(md);
    CHECK_THAT(md, Catch::Contains("## Host `evil|host <script>alert(1)</script>`"));
    CHECK_THAT(md, Catch::Contains("| =cmd\\|' /C calc'!A0 |"));
    CHECK_THAT(md, Catch::Contains("&lt;img src=x onerror=alert(1)&gt;\\|"));
}

TEST_CASE("hostile names: run report JSON survives invalid UTF-8", "[escape][report]") {
    auto run = hostile_run();
    run.run.hostname = "bad\xff\xfe";
    run.results[0].result.message = std::string("nul\0in", 6);
    const std::string json = render_run_report({run}, {"x.db", "now"}, ReportFormat::json);
    CHECK_THAT(json, Catch::Contains("bad\xEF\xBF\xBD"));
    CHECK_THAT(json, Catch::Contains("nul\\u0000in"));
}

TEST_CASE("hostile names: export CSV has no formula and no broken row", "[escape][export]") {
    const std::string csv = render_export({hostile_run()}, {}, ExportFormat::csv, "now");
    check_csv(csv, "'" + kHostileBenchmark);
    CHECK_THAT(csv, Catch::Contains("note=-2+3"));
}

TEST_CASE("hostile names: qualify Markdown and JUnit stay well-formed", "[escape][qualify]") {
    const QualifySpec spec = parse_qualify_spec(
        "[spec]\nname = \"s|<x>\"\n\n[[check]]\nname = \"<script>|x\"\nbenchmark = '.*'\n"
        "metric = \"bandwidth_stream_gb_per_s\"\nexpected = 100.0\n",
        "spec.toml");
    const QualifyReport r = evaluate_spec(spec, hostile_run());
    check_markdown(render_qualify({r}, QualifyFormat::markdown));
    const auto doc = test::parse_xml(render_junit({r}));
    CHECK(doc.ok);
}

TEST_CASE("hostile names: compare Markdown and CSV", "[escape][compare]") {
    const fs::path dir = fs::path(ASSAY_TEST_TMP) / "compare";
    fs::create_directories(dir);
    const fs::path db = dir / ("hostile-" + std::to_string(::getpid()) + ".db");
    test::write_compare_fixture(db);
    {
        sqlite3* h = nullptr;
        REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
        sqlite3_stmt* st = nullptr;
        REQUIRE(sqlite3_prepare_v2(h, "UPDATE host SET hostname = ?1 WHERE hostname = 'ai-cpu'", -1,
                                   &st, nullptr) == SQLITE_OK);
        sqlite3_bind_text(st, 1, kHostileHost.c_str(), -1, SQLITE_TRANSIENT);
        CHECK(sqlite3_step(st) == SQLITE_DONE);
        sqlite3_finalize(st);
        REQUIRE(sqlite3_prepare_v2(h,
                                   "UPDATE \"case\" SET benchmark = ?1 WHERE benchmark = "
                                   "'stream.triad'",
                                   -1, &st, nullptr) == SQLITE_OK);
        sqlite3_bind_text(st, 1, kHostileBenchmark.c_str(), -1, SQLITE_TRANSIENT);
        CHECK(sqlite3_step(st) == SQLITE_DONE);
        sqlite3_finalize(st);
        sqlite3_close(h);
    }
    Store store = Store::open(db, OpenMode::read_only);
    CompareOptions o;
    o.generated_at = "now";
    const CompareModel m = build_compare_model({{&store, "fixture.db"}}, o);
    const std::string md = render_compare_markdown(m);
    check_markdown(md);
    CHECK_THAT(md, Catch::Contains("evil\\|host &lt;script&gt;"));
    CHECK_THAT(md, Catch::Contains("=cmd\\|' /C calc'!A0"));
    check_csv(render_compare_csv(m), "'" + kHostileBenchmark);
}
