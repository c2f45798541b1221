// The comparison HTML page from the fixture store: well-formed, self-contained, every section
// and chart present, the same numbers as the Markdown, hostile text escaped.
#include <filesystem>
#include <regex>
#include <string>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "reports/compare/compare_html.hpp"
#include "reports/compare/compare_model.hpp"
#include "reports/compare/compare_render.hpp"
#include "store/store.hpp"
#include "tests/reports/compare_fixture.hpp"
#include "tests/reports/xml_check.hpp"

namespace fs = std::filesystem;
using namespace assay;
using assay::test::count_of;
using assay::test::xml_problem;

namespace {

CompareModel fixture_model() {
    const fs::path dir = fs::path(ASSAY_TEST_TMP) / "compare_html";
    fs::create_directories(dir);
    const fs::path db = dir / ("fixture-" + std::to_string(::getpid()) + ".db");
    test::write_compare_fixture(db);
    Store store = Store::open(db, OpenMode::read_only);
    CompareOptions o;
    o.generated_at = "2026-11-25T00:00:00Z";
    o.bootstrap_resamples = 300;
    return build_compare_model({{&store, "fixture.db"}}, o);
}

/// The text of the element with id `id` up to its matching "</table>" (tables do not nest here).
std::string table_text(const std::string& html, const std::string& id) {
    const std::size_t start = html.find("<table id=\"" + id + "\"");
    if (start == std::string::npos) {
        return {};
    }
    const std::size_t end = html.find("</table>", start);
    return html.substr(start, end - start);
}

}  // namespace

TEST_CASE("compare HTML from the fixture: sections, charts, tables", "[compare][html]") {
    const CompareModel m = fixture_model();
    REQUIRE(m.hosts.size() == 2);
    REQUIRE(!m.rows.empty());
    const std::string html = render_compare_html(m);

    INFO(xml_problem(html));
    CHECK(xml_problem(html).empty());
    CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
    // Self-contained: nothing fetched.
    CHECK(html.find("src=") == std::string::npos);
    CHECK(html.find("href=\"http") == std::string::npos);
    CHECK(html.find("@import") == std::string::npos);
    CHECK(html.find("url(http") == std::string::npos);

    for (const char* section : {"summary", "hosts", "ratios", "families", "rows", "curves",
                                "rooflines", "gemm-efficiency", "cost", "projections"}) {
        INFO(section);
        CHECK(html.find(std::string("<section id=\"") + section + "\">") != std::string::npos);
    }
    CHECK(count_of(html, "<article class=\"card\"") == m.hosts.size());
    CHECK(count_of(html, "class=\"chart chart-ratio\"") >= 1);
    CHECK(count_of(html, "class=\"chart chart-roofline\"") == m.rooflines.size());
    CHECK(html.find("id=\"curve-bandwidth\"") != std::string::npos);
    CHECK(html.find("id=\"curve-latency\"") != std::string::npos);
    CHECK(html.find("id=\"gemm-efficiency-chart\"") != std::string::npos);
    // The fixture has curves on both hosts and cache boundaries: markers are drawn.
    CHECK(count_of(html, "class=\"marker\"") >= 2);

    // Body rows: one per model row / family summary / one-sided case / projection.
    const auto body_rows = [&](const std::string& id) {
        return count_of(table_text(html, id), "<tr>") - 1;  // minus the header row
    };
    CHECK(body_rows("rows-table") == m.rows.size());
    CHECK(body_rows("family-table") == m.families.size());
    CHECK(body_rows("one-sided-table") == m.one_sided.size());
    CHECK(body_rows("projection-table") == m.projections.size());
    CHECK(body_rows("gemm-efficiency-table") == m.gemm_efficiency.size());
    CHECK(count_of(html, "PROJECTION") >= m.projections.size());
    CHECK(count_of(html, "class=\"sortable\"") >= 5);
    // Element ids are unique.
    std::set<std::string> ids;
    const std::regex id_attr(" id=\"([^\"]+)\"");
    for (auto it = std::sregex_iterator(html.begin(), html.end(), id_attr);
         it != std::sregex_iterator(); ++it) {
        INFO((*it)[1].str());
        CHECK(ids.insert((*it)[1].str()).second);
    }
}

TEST_CASE("compare HTML shows the Markdown's numbers", "[compare][html]") {
    const CompareModel m = fixture_model();
    const std::string html = render_compare_html(m);
    const std::string md = render_compare_markdown(m);
    std::size_t checked = 0;
    for (const CompareRow& r : m.rows) {
        for (const CompareCell& c : r.cells) {
            for (double v : {c.best, c.median}) {
                const std::string text = compare_number(v);
                INFO(r.benchmark << " " << r.params << ": " << text);
                CHECK(md.find(text) != std::string::npos);
                CHECK(html.find(">" + text + "<") != std::string::npos);
                ++checked;
            }
            if (c.vs_baseline && c.vs_baseline->ratio > 0) {
                const std::string ratio = compare_number(c.vs_baseline->ratio);
                CHECK(md.find(ratio) != std::string::npos);
                CHECK(html.find(">" + ratio + "<") != std::string::npos);
                ++checked;
            }
        }
    }
    CHECK(checked > 10);
}

TEST_CASE("compare HTML escapes hostile text", "[compare][html]") {
    CompareModel m = fixture_model();
    m.hosts[0].label = "<script>alert(1)</script>";
    m.hosts[1].card.cpu_model = "R&D \"cpu\" <b>";
    m.notes.push_back("note with </section> inside");
    if (!m.rows.empty()) {
        m.rows[0].params = "shape='<x>'";
    }
    const std::string html = render_compare_html(m);
    INFO(xml_problem(html));
    CHECK(xml_problem(html).empty());
    CHECK(html.find("<script>alert") == std::string::npos);
    CHECK(html.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
    CHECK(html.find("R&amp;D &quot;cpu&quot; &lt;b&gt;") != std::string::npos);
    CHECK(count_of(html, "<script>") == 1);
}

TEST_CASE("compare HTML of a single host has no ratios but renders", "[compare][html]") {
    CompareModel m = fixture_model();
    m.hosts.resize(1);
    m.rows.clear();
    m.families.clear();
    m.one_sided.clear();
    m.rooflines.clear();
    m.curves.clear();
    m.gemm_efficiency.clear();
    m.projections.clear();
    m.cache_boundaries.clear();
    const std::string html = render_compare_html(m);
    CHECK(xml_problem(html).empty());
    CHECK(html.find("Fewer than two hosts") != std::string::npos);
    CHECK(html.find("no data") != std::string::npos);
}
