#pragma once
/// Small, dependency-free SVG chart primitives for the comparison page. Each function returns one
/// self-contained `<svg>` element as text (inline in HTML5; also valid standalone XML): a viewBox
/// so it scales to its container's width, an accessible <title>/<desc>, every label XML-escaped,
/// the Okabe-Ito colour-blind-safe palette. Data in, text out: nothing is measured or printed.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace assay::svg {

/// Colour of series/host `index` (cycles through 7 Okabe-Ito colours, no yellow: unreadable on
/// white paper). "#RRGGBB".
std::string palette_colour(std::size_t index);

/// A tick mark on an axis: where it goes (data units) and what it says.
struct Tick {
    double value = 0;
    std::string label;
};

/// Axis tick label for a plain number: up to 3 significant digits, k/M/G/T suffixes from 10^4
/// ("0.25", "12.5", "950", "1500", "25k", "1.2M").
std::string format_axis_number(double value);
/// Binary-prefixed byte size for axis labels: "512", "4K", "32K", "1.5M", "1G" (K = 1024).
std::string format_bytes_short(double bytes);

/// "Nice" linear ticks (steps of 1, 2 or 5 x 10^k) covering [lo, hi]; about `target_count`
/// ticks. The first tick is <= lo and the last >= hi. lo == hi gives a small range around it.
std::vector<Tick> linear_ticks(double lo, double hi, int target_count = 5);
/// Log-10 ticks for the positive range [lo, hi]: 1-2-5 steps per decade when the range spans
/// few decades, decades only otherwise (at most about 12 ticks). The first tick is <= lo, the
/// last >= hi. Throws std::invalid_argument when lo <= 0 or hi < lo.
std::vector<Tick> log10_ticks(double lo, double hi);
/// Powers of two covering [lo_bytes, hi_bytes] labelled with format_bytes_short, thinned to
/// every 2nd/3rd/... power so at most about 14 remain. Throws std::invalid_argument when
/// lo_bytes <= 0 or hi_bytes < lo_bytes.
std::vector<Tick> log2_byte_ticks(double lo_bytes, double hi_bytes);

/// Colour class of a bar: one per comparison verdict, plus neutral.
enum class Tone { faster, slower, same, undecided, neutral };
/// The CSS class suffix and the fill colour used for a tone ("faster", "#0072B2").
const char* tone_name(Tone tone);
std::string tone_colour(Tone tone);

/// One bar of a ratio chart (ratio = host / baseline, oriented so > 1 is better, or as the
/// caller documents in the chart title).
struct RatioBar {
    std::string label;             ///< row label (left column)
    double ratio = 0;              ///< <= 0 or not finite: drawn as "n/a"
    std::optional<double> ci_low;  ///< confidence interval of the ratio, when known
    std::optional<double> ci_high;
    Tone tone = Tone::neutral;
    std::string value_label;  ///< text right of the plot, e.g. "1.23x FASTER" (pre-formatted)
    std::string tooltip;      ///< hover text (<title>); the label when empty
};

struct RatioChartOptions {
    std::string id;     ///< element id of the <svg> (must be unique in the page)
    std::string title;  ///< accessible title, also drawn above the chart
    std::string x_label = "ratio to baseline (log scale, 1 = same)";
    double width_px = 960;  ///< viewBox width; height follows from the number of bars
};

/// Horizontal bars from 1.0 to each ratio on a log axis, with CI whiskers, a dashed reference
/// line at 1.0 and the value label per bar. Empty `bars` gives a chart that says "no data".
std::string ratio_bar_chart(const std::vector<RatioBar>& bars, const RatioChartOptions& options);

enum class AxisScale {
    linear,      ///< nice linear ticks, starts at 0 when all data are positive
    log10,       ///< 1-2-5 or decade ticks; non-positive values are dropped
    log2_bytes,  ///< powers of two labelled 4K ... 1G; non-positive values are dropped
};

struct Axis {
    std::string label;
    AxisScale scale = AxisScale::linear;
    std::optional<double> min;  ///< forced domain bounds (otherwise from the data)
    std::optional<double> max;
};

struct Point {
    double x = 0;
    double y = 0;
    std::string tooltip;  ///< hover text; "x, y" when empty
};

enum class SeriesStyle { line, points, line_and_points };

struct Series {
    std::string name;  ///< legend entry
    std::vector<Point> points;
    std::size_t colour_index = 0;  ///< into palette_colour()
    SeriesStyle style = SeriesStyle::line_and_points;
    bool dashed = false;
};

/// A vertical dashed marker (e.g. a cache size) with a short label at the top of the plot.
struct Marker {
    double x = 0;
    std::string label;  ///< "L2 1M"
    std::size_t colour_index = 0;
    std::string tooltip;  ///< hover text; the label when empty
};

struct XyChartOptions {
    std::string id;
    std::string title;
    Axis x;
    Axis y;
    double width_px = 960;
    double height_px = 420;
    std::string css_class;  ///< extra class on the <svg>, e.g. "chart-bandwidth"
};

/// Line/scatter chart: several series (one per host), optional vertical markers. Points with a
/// non-finite coordinate, or non-positive on a log axis, are dropped (a line breaks there).
std::string xy_chart(const std::vector<Series>& series, const std::vector<Marker>& markers,
                     const XyChartOptions& options);

/// A roof of a roofline chart.
struct Roof {
    std::string label;  ///< "fp32 GEMM 1.2 TFLOP/s", "DRAM 40 GB/s"
    double value = 0;   ///< GFLOP/s for compute roofs, GB/s for bandwidth roofs; <= 0 ignored
};

struct RooflinePoint {
    std::string label;                   ///< tooltip, e.g. "gemm bf16 m=n=k=1024"
    double intensity_flop_per_byte = 0;  ///< arithmetic intensity
    double gflop_per_s = 0;              ///< achieved
    std::size_t group = 0;               ///< index into RooflineOptions::group_names
};

struct RooflineOptions {
    std::string id;
    std::string title;
    std::vector<std::string> group_names;  ///< point groups, e.g. {"GEMM", "attention"}
    double width_px = 960;
    double height_px = 460;
};

/// Log-log roofline: each bandwidth roof is the slope GB/s x FLOP/byte up to the highest compute
/// roof, each compute roof a horizontal line right of the highest bandwidth slope, points at
/// their arithmetic intensity; legend lists roofs and point groups. A chart with neither roofs
/// nor points says "no data".
std::string roofline_chart(const std::vector<Roof>& compute_gflop_per_s,
                           const std::vector<Roof>& bandwidth_gb_per_s,
                           const std::vector<RooflinePoint>& points,
                           const RooflineOptions& options);

}  // namespace assay::svg
