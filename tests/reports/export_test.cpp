// render_export: stable CSV columns (every row as wide as the header), JSON layout, selection.
#include "reports/export.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/stats.hpp"

using namespace assay;

namespace {

RunWithResults export_run(std::int64_t id, const std::string& started_at) {
    RunWithResults rw;
    rw.run.id = id;
    rw.run.info.uuid = "uuid-" + std::to_string(id);
    rw.run.info.started_at = started_at;
    rw.run.info.tags = {"a", "b"};
    rw.run.status = RunStatus::complete;
    rw.run.hostname = "h1";
    StoredResult ok;
    ok.id = id * 10;
    ok.result.bench_case = {"stream.triad", {{"dtype", "f64"}, {"size", "dram"}}};
    ok.result.device = "cpu";
    ok.result.backend = "cpu.native";
    ok.result.status = ResultStatus::ok;
    ok.result.samples = {0.5, 0.25, 1.0};
    ok.result.stats = summarize(ok.result.samples);
    ok.result.metrics = {{"bandwidth_gb_per_s.best", 40.0, "GB/s", Direction::higher_is_better},
                         {"odd", std::numeric_limits<double>::quiet_NaN(), "", Direction::none}};
    StoredResult skipped;
    skipped.id = id * 10 + 1;
    skipped.result.bench_case = {"gemm.cuda", {{"dtype", "bf16"}}};
    skipped.result.status = ResultStatus::skipped;
    skipped.result.message = "no GPU, \"none\"";
    rw.results = {ok, skipped};
    return rw;
}

std::vector<std::string> csv_split(const std::string& line) {
    std::vector<std::string> out(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                out.back() += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                out.back() += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            out.emplace_back();
        } else {
            out.back() += c;
        }
    }
    return out;
}

}  // namespace

TEST_CASE("export: CSV rows match the documented header", "[export]") {
    const std::string csv =
        render_export({export_run(1, "2026-01-01T00:00:00Z")}, {}, ExportFormat::csv, "now");
    std::istringstream in(csv);
    std::string line;
    std::vector<std::vector<std::string>> rows;
    while (std::getline(in, line)) {
        rows.push_back(csv_split(line));
    }
    const auto& columns = export_csv_columns();
    REQUIRE(rows.size() == 4);  // header + 2 metrics of the ok result + 1 row for the skipped
    CHECK(rows[0] == columns);
    const auto col = [&columns](const std::string& name) {
        return static_cast<std::size_t>(std::find(columns.begin(), columns.end(), name) -
                                        columns.begin());
    };
    for (const auto& row : rows) {
        CHECK(row.size() == columns.size());
    }
    CHECK(rows[1][col("params")] == "dtype=f64,size=dram");
    CHECK(rows[1][col("tags")] == "a;b");
    CHECK(rows[1][col("median")] == "0.5");
    CHECK(rows[1][col("metric")] == "bandwidth_gb_per_s.best");
    CHECK(rows[1][col("metric_value")] == "40");
    CHECK(rows[2][col("metric")] == "odd");
    CHECK(rows[2][col("metric_value")].empty());  // NaN is unknown, not "nan"
    CHECK(rows[3][col("status")] == "skipped");
    CHECK(rows[3][col("sample_count")] == "0");
    CHECK(rows[3][col("median")].empty());
    CHECK(rows[3][col("metric")].empty());
}

TEST_CASE("export: JSON layout and selection", "[export]") {
    const std::vector<RunWithResults> runs = {export_run(1, "2026-01-01T00:00:00Z"),
                                              export_run(2, "2026-02-01T00:00:00Z")};
    const auto doc = nlohmann::json::parse(
        render_export(runs, {"^stream\\.", "2026-01-15"}, ExportFormat::json, "now"));
    CHECK(doc["schema"] == "assay.export/1");
    REQUIRE(doc["runs"].size() == 1);
    CHECK(doc["runs"][0]["uuid"] == "uuid-2");
    REQUIRE(doc["runs"][0]["results"].size() == 1);
    const auto& r = doc["runs"][0]["results"][0];
    CHECK(r["params"]["size"] == "dram");
    CHECK(r["samples"].size() == 3);
    CHECK(r["stats"]["median"] == 0.5);
    CHECK(r["metrics"][1]["value"].is_null());

    const auto all = nlohmann::json::parse(render_export(runs, {}, ExportFormat::json, "now"));
    CHECK(all["runs"].size() == 2);
    CHECK(all["runs"][0]["results"][1]["stats"]["median"].is_null());
    CHECK(all["runs"][0]["results"][1]["headline"].is_null());
}

TEST_CASE("export: bad selections are usage errors", "[export]") {
    CHECK_THROWS_AS(validate_selection({"(", ""}), UsageError);
    CHECK_THROWS_AS(validate_selection({"", "last week"}), UsageError);
    CHECK_NOTHROW(validate_selection({"", "2026-11-01T00:00:00Z"}));
    CHECK_THROWS_AS(export_format_from_string("xml"), UsageError);
}
