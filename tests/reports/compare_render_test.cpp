// Golden tests: Markdown, CSV and JSON of the fixture store. Set ASSAY_UPDATE_GOLDEN=1 to rewrite
// the golden files (then review the diff) instead of comparing.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "reports/compare/compare_model.hpp"
#include "reports/compare/compare_render.hpp"
#include "reports/compare/price.hpp"
#include "store/store.hpp"
#include "tests/reports/compare_fixture.hpp"

namespace fs = std::filesystem;
using namespace assay;

namespace {

CompareModel fixture_model() {
    const fs::path dir = fs::path(ASSAY_TEST_TMP) / "compare";
    fs::create_directories(dir);
    const fs::path db = dir / ("render-" + std::to_string(::getpid()) + ".db");
    test::write_compare_fixture(db);
    Store store = Store::open(db, OpenMode::read_only);
    static const std::vector<PriceEntry> prices = parse_price_table(
        "[[price]]\nmatch = \"instance_type:p5.48xlarge\"\nusd_per_hour = 98.32\n"
        "date = \"2026-11-01\"\nsource = \"EXAMPLE list price\"\n",
        "golden-prices.toml");
    CompareOptions o;
    o.generated_at = "2026-11-25T00:00:00Z";
    o.prices = &prices;
    o.price_table_path = "golden-prices.toml";
    return build_compare_model({{&store, "fixture.db"}}, o);
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void check_golden(const std::string& name, const std::string& actual) {
    const fs::path path = fs::path(ASSAY_COMPARE_GOLDEN_DIR) / name;
    const char* update = std::getenv("ASSAY_UPDATE_GOLDEN");
    if (update != nullptr && std::string(update) == "1") {
        std::ofstream(path, std::ios::binary) << actual;
        WARN("updated golden " << path.string());
        return;
    }
    REQUIRE(fs::exists(path));
    const std::string expected = read_file(path);
    if (expected != actual) {
        // Save what we got next to the scratch files for a quick diff.
        const fs::path got = fs::path(ASSAY_TEST_TMP) / "compare" / (name + ".actual");
        std::ofstream(got, std::ios::binary) << actual;
        FAIL("golden mismatch for " << name << "; actual output in " << got.string()
                                    << " (ASSAY_UPDATE_GOLDEN=1 rewrites the golden)");
    }
}

/// Splits one CSV line (RFC 4180 quoting) into fields.
std::vector<std::string> csv_fields(const std::string& line) {
    std::vector<std::string> out(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char ch = line[i];
        if (quoted) {
            if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                out.back() += '"';
                ++i;
            } else if (ch == '"') {
                quoted = false;
            } else {
                out.back() += ch;
            }
        } else if (ch == '"') {
            quoted = true;
        } else if (ch == ',') {
            out.emplace_back();
        } else {
            out.back() += ch;
        }
    }
    return out;
}

}  // namespace

TEST_CASE("compare formats and number helpers", "[compare][render]") {
    CHECK(compare_format_from_string("md") == CompareFormat::markdown);
    CHECK(compare_format_from_string("csv") == CompareFormat::csv);
    CHECK(compare_format_from_string("json") == CompareFormat::json);
    CHECK(compare_format_from_string("html") == CompareFormat::html);
    CHECK_THROWS_AS(compare_format_from_string("pdf"), UsageError);
    CHECK(compare_number(5200) == "5200");
    CHECK(compare_number(38000.4) == "38000");
    CHECK(compare_number(0.98734) == "0.9873");
    CHECK(compare_number(1.5e9) == "1.500e+09");
    CHECK(ratio_text(RatioCi{1.2, 1.1, 1.3, CompareVerdict::faster}) == "1.2 [1.1, 1.3]");
    CHECK(ratio_text(RatioCi{}) == "-");
    CHECK(bytes_text(32768) == "32 KiB");
    CHECK(bytes_text(1536.0 * 1024) == "1.5 MiB");
}

TEST_CASE("golden: Markdown", "[compare][render][golden]") {
    const CompareModel m = fixture_model();
    const std::string md = render_compare_markdown(m);
    CHECK(md.find("## Geometric mean per family") != std::string::npos);
    CHECK(md.find("only on ai-cpu cpu") != std::string::npos);
    CHECK(md.find("n/a (no price)") != std::string::npos);
    CHECK(md.find("n/a (no power telemetry)") != std::string::npos);
    CHECK(md.find("PROJECTION") != std::string::npos);
    check_golden("compare_fixture.md", md);
}

TEST_CASE("golden: CSV", "[compare][render][golden]") {
    const CompareModel m = fixture_model();
    const std::string csv = render_compare_csv(m);
    std::istringstream in(csv);
    std::string line;
    REQUIRE(std::getline(in, line));
    const std::vector<std::string> header = csv_fields(line);
    CHECK(header.front() == "family");
    CHECK(header.size() == 29);
    std::size_t lines = 0;
    while (std::getline(in, line)) {
        ++lines;
        CHECK(csv_fields(line).size() == header.size());
    }
    std::size_t cells = 0;
    for (const CompareRow& r : m.rows) {
        cells += r.cells.size();
    }
    CHECK(lines == cells);
    check_golden("compare_fixture.csv", csv);
}

TEST_CASE("golden: JSON", "[compare][render][golden]") {
    const CompareModel m = fixture_model();
    const std::string text = render_compare_json(m);
    const nlohmann::json j = nlohmann::json::parse(text);
    CHECK(j["schema"] == "assay.compare/1");
    CHECK(j["baseline"] == "gpu-host");
    CHECK(j["hosts"].size() == 2);
    CHECK(j["rows"].size() == m.rows.size());
    CHECK(j["rows"][0]["cells"][0]["vs_baseline"].is_null());
    CHECK(j["projections"][0]["label"] == "PROJECTION");
    CHECK(j["hosts"][1]["price"]["usd_per_hour"].is_null());
    check_golden("compare_fixture.json", text);
}
