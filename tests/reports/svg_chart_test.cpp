// SVG chart primitives: well-formed output, escaping, ticks and log scales.
#include <cmath>
#include <limits>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "reports/compare/svg_chart.hpp"
#include "tests/reports/xml_check.hpp"

using assay::test::count_of;
using assay::test::xml_problem;
using namespace assay::svg;

namespace {

std::vector<std::string> labels_of(const std::vector<Tick>& ticks) {
    std::vector<std::string> out;
    for (const Tick& t : ticks) {
        out.push_back(t.label);
    }
    return out;
}

/// Values of attribute `attr` of every element `<tag ... class="cls" ...>` (class listed first
/// among the checked attributes is not required).
std::vector<double> attribute_values(const std::string& svg, const std::string& cls,
                                     const std::string& attr) {
    std::vector<double> out;
    const std::regex element("<[a-z]+ [^>]*class=\"" + cls + "\"[^>]*>");
    const std::regex value(" " + attr + "=\"([-0-9.]+)\"");
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), element);
         it != std::sregex_iterator(); ++it) {
        std::smatch m;
        const std::string tag = it->str();
        if (std::regex_search(tag, m, value)) {
            out.push_back(std::stod(m[1].str()));
        }
    }
    return out;
}

}  // namespace

TEST_CASE("xml_check accepts well-formed and rejects broken markup", "[svg]") {
    CHECK(xml_problem("<a x=\"1\"><b/>t &amp; u</a>").empty());
    CHECK_FALSE(xml_problem("<a><b></a></b>").empty());
    CHECK_FALSE(xml_problem("<a>1 < 2</a>").empty());
    CHECK_FALSE(xml_problem("<a>R&D</a>").empty());
    CHECK_FALSE(xml_problem("<a x=\"1\" x=\"2\"></a>").empty());
    CHECK_FALSE(xml_problem("<a x=1></a>").empty());
    CHECK_FALSE(xml_problem("<a>").empty());
}

TEST_CASE("number and byte labels", "[svg]") {
    CHECK(format_bytes_short(512) == "512");
    CHECK(format_bytes_short(4096) == "4K");
    CHECK(format_bytes_short(32768) == "32K");
    CHECK(format_bytes_short(1 << 20) == "1M");
    CHECK(format_bytes_short(1.5 * (1 << 20)) == "1.5M");
    CHECK(format_bytes_short(1 << 30) == "1G");
    CHECK(format_axis_number(0) == "0");
    CHECK(format_axis_number(0.25) == "0.25");
    CHECK(format_axis_number(12.5) == "12.5");
    CHECK(format_axis_number(1500) == "1500");
    CHECK(format_axis_number(25000) == "25k");
    CHECK(format_axis_number(1.2e6) == "1.2M");
    CHECK(format_axis_number(-3e9) == "-3G");
    CHECK(format_axis_number(std::numeric_limits<double>::quiet_NaN()) == "n/a");
}

TEST_CASE("linear ticks are nice and cover the range", "[svg]") {
    const auto t = linear_ticks(0, 97);
    CHECK(labels_of(t) == std::vector<std::string>{"0", "20", "40", "60", "80", "100"});
    const auto f = linear_ticks(0.1, 0.48);
    CHECK(labels_of(f) == std::vector<std::string>{"0.1", "0.2", "0.3", "0.4", "0.5"});
    const auto g = linear_ticks(0.1, 0.3);
    CHECK(labels_of(g) == std::vector<std::string>{"0.10", "0.15", "0.20", "0.25", "0.30"});
    const auto n = linear_ticks(-12, 7, 4);
    REQUIRE(!n.empty());
    CHECK(n.front().value <= -12);
    CHECK(n.back().value >= 7);
    CHECK(labels_of(n) == std::vector<std::string>{"-15", "-10", "-5", "0", "5", "10"});
    const auto flat = linear_ticks(3, 3);
    CHECK(flat.front().value < 3);
    CHECK(flat.back().value > 3);
    CHECK(labels_of(linear_ticks(0, 48000)).back() == "50k");
}

TEST_CASE("log10 ticks: 1-2-5 for narrow ranges, decades for wide ones", "[svg]") {
    CHECK(labels_of(log10_ticks(0.5, 2)) == std::vector<std::string>{"0.5", "1", "2"});
    CHECK(labels_of(log10_ticks(0.3, 3)) == std::vector<std::string>{"0.2", "0.5", "1", "2", "5"});
    CHECK(labels_of(log10_ticks(1, 1e6)) ==
          std::vector<std::string>{"1", "10", "100", "1000", "10k", "100k", "1M"});
    const auto wide = log10_ticks(1e-3, 1e25);
    CHECK(wide.size() <= 16);
    CHECK(wide.front().value <= 1e-3);
    CHECK(wide.back().value >= 1e25);
    bool has_one = false;
    for (const Tick& t : wide) {
        has_one = has_one || t.value == 1.0;
    }
    CHECK(has_one);
    CHECK_THROWS_AS(log10_ticks(0, 10), std::invalid_argument);
    CHECK_THROWS_AS(log10_ticks(10, 1), std::invalid_argument);
}

TEST_CASE("log2 byte ticks: powers of two, thinned", "[svg]") {
    const auto t = log2_byte_ticks(4096, 1 << 30);
    CHECK(labels_of(t) == std::vector<std::string>{"4K", "16K", "64K", "256K", "1M", "4M", "16M",
                                                   "64M", "256M", "1G"});
    const auto narrow = log2_byte_ticks(3000, 70000);
    CHECK(labels_of(narrow) ==
          std::vector<std::string>{"2K", "4K", "8K", "16K", "32K", "64K", "128K"});
    CHECK_THROWS_AS(log2_byte_ticks(-1, 10), std::invalid_argument);
}

TEST_CASE("ratio bar chart: well-formed, escaped, bars on the right side of 1.0", "[svg]") {
    std::vector<RatioBar> bars = {
        {"gemm <fp32> & \"co\"", 2.0, 1.8, 2.2, Tone::faster, "2.00x FASTER", ""},
        {"stream triad", 0.5, 0.45, 0.55, Tone::slower, "0.50x SLOWER", "tip 'x'"},
        {"latency", std::numeric_limits<double>::quiet_NaN(), {}, {}, Tone::undecided, "", ""},
    };
    const std::string svg = ratio_bar_chart(bars, {"ratios-gemm", "GEMM <ratios>"});
    INFO(svg);
    CHECK(xml_problem(svg).empty());
    CHECK(count_of(svg, "<svg") == 1);
    CHECK(svg.find("gemm &lt;fp32&gt; &amp; &quot;co&quot;") != std::string::npos);
    CHECK(svg.find("GEMM &lt;ratios&gt;") != std::string::npos);
    CHECK(svg.find("<title id=\"ratios-gemm-title\">") != std::string::npos);
    CHECK(count_of(svg, "class=\"bar tone-") == 3);
    CHECK(count_of(svg, "class=\"whisker\"") == 2);
    CHECK(svg.find(">n/a</text>") != std::string::npos);
    CHECK(svg.find("viewBox=\"0 0 960 ") != std::string::npos);

    const std::vector<double> ref = attribute_values(svg, "reference", "x1");
    REQUIRE(ref.size() == 1);
    // A faster bar starts at the 1.0 line and extends right; a slower one ends at it.
    const std::regex rect(
        "<g class=\"bar tone-(faster|slower)\">.*?<rect x=\"([-0-9.]+)\" "
        "y=\"[-0-9.]+\" width=\"([-0-9.]+)\"");
    int checked = 0;
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), rect); it != std::sregex_iterator();
         ++it) {
        const double x = std::stod((*it)[2].str());
        const double w = std::stod((*it)[3].str());
        if ((*it)[1].str() == "faster") {
            CHECK(x == Approx(ref[0]).margin(0.11));
        } else {
            CHECK(x + w == Approx(ref[0]).margin(0.11));
        }
        ++checked;
    }
    CHECK(checked == 2);
    // Log scale: 2.0 and 0.5 are equally far from 1.0.
    const auto widths = attribute_values(svg, "reference", "x1");
    CHECK(!widths.empty());
}

TEST_CASE("ratio bar chart without bars says no data", "[svg]") {
    const std::string svg = ratio_bar_chart({}, {"empty", "Nothing"});
    CHECK(xml_problem(svg).empty());
    CHECK(svg.find("no data") != std::string::npos);
}

TEST_CASE("xy chart on a log2 byte axis with cache markers", "[svg]") {
    Series a{"host <a>", {}, 0, SeriesStyle::line_and_points, false};
    Series b{"host b", {}, 1, SeriesStyle::line, true};
    for (int e = 12; e <= 30; e += 2) {
        const double bytes = std::ldexp(1.0, e);
        a.points.push_back({bytes, 100.0 / (e - 11), ""});
        b.points.push_back({bytes, e == 20 ? std::numeric_limits<double>::quiet_NaN() : 50.0, ""});
    }
    const std::vector<Marker> markers = {{32 * 1024, "L1d 32K", 0, ""},
                                         {1 << 20, "L2 1M & more", 1, ""}};
    XyChartOptions opt;
    opt.id = "bw-curve";
    opt.title = "Bandwidth vs working set";
    opt.x = {"working set (bytes)", AxisScale::log2_bytes, {}, {}};
    opt.y = {"GB/s", AxisScale::linear, {}, {}};
    const std::string svg = xy_chart({a, b}, markers, opt);
    INFO(svg);
    CHECK(xml_problem(svg).empty());
    CHECK(svg.find(">4K</text>") != std::string::npos);
    CHECK(svg.find(">1G</text>") != std::string::npos);
    CHECK(svg.find("L2 1M &amp; more") != std::string::npos);
    CHECK(svg.find("host &lt;a&gt;") != std::string::npos);
    CHECK(count_of(svg, "class=\"marker\"") == 2);
    CHECK(count_of(svg, "class=\"series\"") == 2);
    // Series b has a NaN in the middle: its path breaks into two pieces.
    const std::regex dashed_path("<path d=\"([^\"]*)\"[^>]*stroke-dasharray");
    std::smatch m;
    REQUIRE(std::regex_search(svg, m, dashed_path));
    CHECK(count_of(m[1].str(), "M") == 2);
    // Points drawn only for the line_and_points series.
    CHECK(count_of(svg, "class=\"point\"") == a.points.size());
    // Linear y starts at zero.
    CHECK(svg.find("class=\"tick y-tick\"") != std::string::npos);
    CHECK(std::regex_search(svg, std::regex("class=\"tick y-tick\"[^>]*>0</text>")));
}

TEST_CASE("xy chart on log axes drops non-positive values", "[svg]") {
    Series s{"s",
             {{1, 10, ""}, {10, -5, ""}, {100, 1000, ""}, {0, 5, ""}},
             2,
             SeriesStyle::points,
             false};
    XyChartOptions opt;
    opt.id = "scatter";
    opt.title = "efficiency";
    opt.x = {"m*n*k", AxisScale::log10, {}, {}};
    opt.y = {"%", AxisScale::log10, {}, {}};
    const std::string svg = xy_chart({s}, {}, opt);
    CHECK(xml_problem(svg).empty());
    CHECK(count_of(svg, "class=\"point\"") == 2);
    CHECK(svg.find("<path") == std::string::npos);

    const std::string empty = xy_chart({}, {}, opt);
    CHECK(xml_problem(empty).empty());
    CHECK(empty.find("no data") != std::string::npos);
}

TEST_CASE("roofline: slopes meet the compute roof at the ridge point", "[svg]") {
    const std::vector<Roof> compute = {{"fp32 GEMM 1000 GFLOP/s", 1000}, {"bf16 <GEMM>", 2000}};
    const std::vector<Roof> bandwidth = {{"DRAM 100 GB/s", 100}, {"L2 400 GB/s", 400}};
    const std::vector<RooflinePoint> points = {
        {"gemm 1024^3", 50, 800, 0}, {"attention s=4096", 4, 300, 1}, {"bad", -1, 10, 0}};
    RooflineOptions opt;
    opt.id = "roof-host-a";
    opt.title = "Roofline host a";
    opt.group_names = {"GEMM", "attention"};
    const std::string svg = roofline_chart(compute, bandwidth, points, opt);
    INFO(svg);
    CHECK(xml_problem(svg).empty());
    CHECK(count_of(svg, "class=\"roof roof-bandwidth\"") == 2);
    CHECK(count_of(svg, "class=\"roof roof-compute\"") == 2);
    CHECK(count_of(svg, "<g class=\"point group-") == 2);
    CHECK(svg.find("bf16 &lt;GEMM&gt;") != std::string::npos);
    CHECK(svg.find(">attention</text>") != std::string::npos);
    // Each slope ends where it reaches the highest compute roof (2000 GFLOP/s): its y2 equals the
    // 2000 roof's y.
    const auto slope_y2 = attribute_values(svg, "roof roof-bandwidth", "y2");
    const auto roof_y = attribute_values(svg, "roof roof-compute", "y1");
    REQUIRE(slope_y2.size() == 2);
    REQUIRE(roof_y.size() == 2);
    const double top_roof_y = std::min(roof_y[0], roof_y[1]);  // higher value = smaller y
    CHECK(slope_y2[0] == Approx(top_roof_y).margin(0.11));
    CHECK(slope_y2[1] == Approx(top_roof_y).margin(0.11));
    // The highest compute roof starts at the ridge of the highest bandwidth (2000/400 = 5).
    const auto slope_x2 = attribute_values(svg, "roof roof-bandwidth", "x2");
    const auto roof_x1 = attribute_values(svg, "roof roof-compute", "x1");
    CHECK(roof_x1[1] == Approx(slope_x2[1]).margin(0.11));

    const std::string empty = roofline_chart({}, {}, {}, opt);
    CHECK(xml_problem(empty).empty());
    CHECK(empty.find("no data") != std::string::npos);
}
