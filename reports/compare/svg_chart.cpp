#include "reports/compare/svg_chart.hpp"

#include "reports/escape.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>
#include <limits>
#include <stdexcept>

namespace assay::svg {
namespace {

// Rough advance of one character at font-size 12 (system sans-serif), on the generous side:
// enough to size columns so labels do not overlap; the browser does the real layout.
constexpr double kCharWidthPx = 7.0;

void append(std::string& out, fmt::string_view format, fmt::format_args args) {
    fmt::vformat_to(std::back_inserter(out), format, args);
}

template <typename... Args>
void put(std::string& out, fmt::format_string<Args...> format, Args&&... args) {
    append(out, format, fmt::make_format_args(args...));
}

/// Number of UTF-8 code points (continuation bytes not counted): the width estimate.
std::size_t text_length(std::string_view s) {
    return static_cast<std::size_t>(std::count_if(
        s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

/// Cuts s to at most max_chars code points with an ellipsis, never inside a UTF-8 sequence.
std::string truncate_text(const std::string& s, std::size_t max_chars) {
    if (text_length(s) <= max_chars || max_chars < 2) {
        return s;
    }
    std::size_t chars = 0;
    std::size_t i = 0;
    for (; i < s.size(); ++i) {
        if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
            if (chars == max_chars - 1) {
                break;
            }
            ++chars;
        }
    }
    return s.substr(0, i) + "\u2026";
}

double estimate_width_px(std::string_view s) {
    return static_cast<double>(text_length(s)) * kCharWidthPx;
}

/// Maps data values to pixels along one axis.
struct Scale {
    AxisScale kind = AxisScale::linear;
    double d0 = 0, d1 = 1;  ///< domain
    double r0 = 0, r1 = 1;  ///< range (pixels)

    bool accepts(double v) const {
        return std::isfinite(v) && (kind == AxisScale::linear || v > 0);
    }
    double transform(double v) const { return kind == AxisScale::linear ? v : std::log(v); }
    double map(double v) const {
        const double t0 = transform(d0);
        const double t1 = transform(d1);
        if (t1 == t0) {
            return (r0 + r1) / 2;
        }
        return r0 + (transform(v) - t0) / (t1 - t0) * (r1 - r0);
    }
};

std::vector<Tick> ticks_for(AxisScale kind, double lo, double hi) {
    switch (kind) {
        case AxisScale::linear:
            return linear_ticks(lo, hi);
        case AxisScale::log10:
            return log10_ticks(lo, hi);
        case AxisScale::log2_bytes:
            return log2_byte_ticks(lo, hi);
    }
    return {};
}

/// Ticks and domain of an axis from its data values (already filtered by Scale::accepts).
std::vector<Tick> axis_ticks(const Axis& axis, std::vector<double> values) {
    if (axis.min) {
        values.push_back(*axis.min);
    }
    if (axis.max) {
        values.push_back(*axis.max);
    }
    double lo = 0;
    double hi = 1;
    if (!values.empty()) {
        lo = *std::min_element(values.begin(), values.end());
        hi = *std::max_element(values.begin(), values.end());
    } else if (axis.scale != AxisScale::linear) {
        lo = 1;
        hi = axis.scale == AxisScale::log2_bytes ? 1 << 20 : 10;
    }
    if (axis.min) {
        lo = *axis.min;
    }
    if (axis.max) {
        hi = *axis.max;
    }
    if (axis.scale == AxisScale::linear && !axis.min && lo > 0) {
        lo = 0;  // throughput and latency read best against a zero baseline
    }
    return ticks_for(axis.scale, lo, hi);
}

void open_svg(std::string& out, const std::string& id, const std::string& css_class, double width,
              double height, const std::string& title, const std::string& desc) {
    const std::string eid = escape::html_text(id);
    put(out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{0}\" class=\"chart {1}\" "
        "viewBox=\"0 0 {2:.0f} {3:.0f}\" role=\"img\" aria-labelledby=\"{0}-title {0}-desc\" "
        "font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\" "
        "font-size=\"12\">\n<title id=\"{0}-title\">{4}</title>\n<desc "
        "id=\"{0}-desc\">{5}</desc>\n",
        eid, escape::html_text(css_class), width, height, escape::html_text(title),
        escape::html_text(desc));
    put(out,
        "<text class=\"chart-title\" x=\"8\" y=\"18\" font-size=\"14\" "
        "font-weight=\"600\">{}</text>\n",
        escape::html_text(title));
}

void no_data(std::string& out, double width, double y) {
    put(out,
        "<text class=\"no-data\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" "
        "fill=\"#555\">no data</text>\n",
        width / 2, y);
}

// Clip paths reach a little past the plot frame so point markers on its edge (100 %, the
// largest working set) are drawn whole; lines cannot leave the domain by more than that.
constexpr double kClipPadPx = 6;
constexpr const char* kGridColour = "#e3e3e3";
constexpr const char* kAxisColour = "#333";

/// Grid lines, tick labels and axis titles of a rectangular plot.
void draw_axes(std::string& out, const Scale& x, const std::vector<Tick>& x_ticks,
               const std::string& x_label, const Scale& y, const std::vector<Tick>& y_ticks,
               const std::string& y_label) {
    const double top = std::min(y.r0, y.r1);
    const double bottom = std::max(y.r0, y.r1);
    const double left = std::min(x.r0, x.r1);
    const double right = std::max(x.r0, x.r1);
    out += "<g class=\"axes\">\n";
    for (const Tick& t : x_ticks) {
        const double px = x.map(t.value);
        put(out,
            "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"{3}\"/>"
            "<text class=\"tick x-tick\" x=\"{0:.1f}\" y=\"{4:.1f}\" text-anchor=\"middle\" "
            "fill=\"{5}\">{6}</text>\n",
            px, top, bottom, kGridColour, bottom + 15, kAxisColour, escape::html_text(t.label));
    }
    for (const Tick& t : y_ticks) {
        const double py = y.map(t.value);
        put(out,
            "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"{3}\"/>"
            "<text class=\"tick y-tick\" x=\"{4:.1f}\" y=\"{5:.1f}\" text-anchor=\"end\" "
            "fill=\"{6}\">{7}</text>\n",
            left, py, right, kGridColour, left - 6, py + 4, kAxisColour,
            escape::html_text(t.label));
    }
    put(out,
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" "
        "stroke=\"{}\"/>\n",
        left, top, right - left, bottom - top, kAxisColour);
    put(out,
        "<text class=\"axis-label\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n",
        (left + right) / 2, bottom + 36, escape::html_text(x_label));
    if (!y_label.empty()) {
        put(out,
            "<text class=\"axis-label\" transform=\"rotate(-90)\" x=\"{:.1f}\" y=\"16\" "
            "text-anchor=\"middle\">{}</text>\n",
            -(top + bottom) / 2, escape::html_text(y_label));
    }
    out += "</g>\n";
}

/// Lays out legend entries left to right, wrapping; returns the rows' y positions used.
struct LegendEntry {
    std::string name;
    std::string swatch;  ///< SVG for a 24x12 swatch at origin (0,0) .. (24,12)
};

double legend_height(const std::vector<LegendEntry>& entries, double width) {
    if (entries.empty()) {
        return 0;
    }
    double x = 8;
    int rows = 1;
    for (const LegendEntry& e : entries) {
        const double w = 34 + estimate_width_px(e.name) + 14;
        if (x + w > width - 8 && x > 8) {
            ++rows;
            x = 8;
        }
        x += w;
    }
    return rows * 18.0;
}

void draw_legend(std::string& out, const std::vector<LegendEntry>& entries, double width,
                 double top) {
    if (entries.empty()) {
        return;
    }
    out += "<g class=\"legend\">\n";
    double x = 8;
    double y = top;
    for (const LegendEntry& e : entries) {
        const double w = 34 + estimate_width_px(e.name) + 14;
        if (x + w > width - 8 && x > 8) {
            y += 18;
            x = 8;
        }
        put(out,
            "<g class=\"legend-entry\" transform=\"translate({:.1f},{:.1f})\">{}<text x=\"30\" "
            "y=\"10\">{}</text></g>\n",
            x, y, e.swatch, escape::html_text(e.name));
        x += w;
    }
    out += "</g>\n";
}

std::string line_swatch(const std::string& colour, bool dashed, bool with_point) {
    std::string s = fmt::format(
        "<line x1=\"0\" y1=\"6\" x2=\"24\" y2=\"6\" stroke=\"{}\" stroke-width=\"2\"{}/>", colour,
        dashed ? " stroke-dasharray=\"5 3\"" : "");
    if (with_point) {
        s += fmt::format("<circle cx=\"12\" cy=\"6\" r=\"3\" fill=\"{}\"/>", colour);
    }
    return s;
}

std::string format_coordinate(double v) {
    return format_axis_number(v);
}

}  // namespace

std::string palette_colour(std::size_t index) {
    // Okabe & Ito (2008), "Color Universal Design"; yellow (#F0E442) left out.
    static constexpr std::array<const char*, 7> kPalette = {
        "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000"};
    return kPalette[index % kPalette.size()];
}

std::string format_axis_number(double value) {
    if (!std::isfinite(value)) {
        return "n/a";
    }
    const double a = std::fabs(value);
    if (a == 0) {
        return "0";
    }
    struct Suffix {
        double scale;
        const char* name;
    };
    static constexpr std::array<Suffix, 4> kSuffixes = {
        {{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}}};
    if (a >= 1e4) {
        for (const Suffix& s : kSuffixes) {
            if (a >= s.scale) {
                return fmt::format("{:.3g}{}", value / s.scale, s.name);
            }
        }
    }
    if (a >= 1000) {
        return fmt::format("{:.0f}", value);
    }
    return fmt::format("{:.3g}", value);
}

std::string format_bytes_short(double bytes) {
    if (!std::isfinite(bytes) || bytes < 0) {
        return "n/a";
    }
    static constexpr std::array<const char*, 6> kUnits = {"", "K", "M", "G", "T", "P"};
    std::size_t unit = 0;
    double v = bytes;
    while (v >= 1024 && unit + 1 < kUnits.size()) {
        v /= 1024;
        ++unit;
    }
    if (v == std::floor(v)) {
        return fmt::format("{:.0f}{}", v, kUnits[unit]);
    }
    return fmt::format("{:.3g}{}", v, kUnits[unit]);
}

std::vector<Tick> linear_ticks(double lo, double hi, int target_count) {
    if (!std::isfinite(lo) || !std::isfinite(hi)) {
        throw std::invalid_argument("linear_ticks: range is not finite");
    }
    if (hi < lo) {
        std::swap(lo, hi);
    }
    if (hi == lo) {
        const double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
        lo = lo == 0 ? 0 : lo - pad;
        hi += pad;
    }
    const int count = std::max(target_count, 2);
    const double raw = (hi - lo) / count;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    const double norm = raw / magnitude;
    const double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * magnitude;
    const double first = std::floor(lo / step + 1e-9);
    const double last = std::ceil(hi / step - 1e-9);
    const int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
    std::vector<Tick> ticks;
    for (double k = first; k <= last + 0.5; k += 1) {
        const double v = k * step;
        const double clean = v == 0 ? 0.0 : v;  // no "-0"
        const std::string label = std::fabs(clean) >= 1e4 ? format_axis_number(clean)
                                                          : fmt::format("{:.{}f}", clean, decimals);
        ticks.push_back({clean, label});
    }
    return ticks;
}

std::vector<Tick> log10_ticks(double lo, double hi) {
    if (!(lo > 0) || !(hi >= lo) || !std::isfinite(hi)) {
        throw std::invalid_argument("log10_ticks: range must be positive and ordered");
    }
    const int k0 = static_cast<int>(std::floor(std::log10(lo) + 1e-9));
    const int k1 = static_cast<int>(std::ceil(std::log10(hi) - 1e-9));
    const int decades = std::max(k1 - k0, 1);
    std::vector<double> candidates;
    if (decades <= 2) {
        for (int k = k0 - 1; k <= k1 + 1; ++k) {
            for (double m : {1.0, 2.0, 5.0}) {
                candidates.push_back(m * std::pow(10.0, k));
            }
        }
    } else {
        const int stride = (decades + 11) / 12;
        // Anchor the stride at 10^0 so 1 stays a tick whenever it is in range.
        int start = k0 - 1;
        while (((start % stride) + stride) % stride != 0) {
            --start;
        }
        for (int k = start; k <= k1 + stride; k += stride) {
            candidates.push_back(std::pow(10.0, k));
        }
    }
    const double tol = 1e-9;
    double first = candidates.front();
    for (double c : candidates) {
        if (c <= lo * (1 + tol)) {
            first = c;
        }
    }
    double last = candidates.back();
    for (auto it = candidates.rbegin(); it != candidates.rend(); ++it) {
        if (*it >= hi * (1 - tol)) {
            last = *it;
        }
    }
    std::vector<Tick> ticks;
    for (double c : candidates) {
        if (c >= first * (1 - tol) && c <= last * (1 + tol)) {
            ticks.push_back({c, format_axis_number(c)});
        }
    }
    return ticks;
}

std::vector<Tick> log2_byte_ticks(double lo_bytes, double hi_bytes) {
    if (!(lo_bytes > 0) || !(hi_bytes >= lo_bytes) || !std::isfinite(hi_bytes)) {
        throw std::invalid_argument("log2_byte_ticks: range must be positive and ordered");
    }
    const int e0 = static_cast<int>(std::floor(std::log2(lo_bytes) + 1e-9));
    int e1 = static_cast<int>(std::ceil(std::log2(hi_bytes) - 1e-9));
    if (e1 == e0) {
        ++e1;
    }
    const int stride = std::max(1, (e1 - e0 + 12) / 13);
    std::vector<Tick> ticks;
    for (int e = e0;; e += stride) {
        const double v = std::ldexp(1.0, e);
        ticks.push_back({v, format_bytes_short(v)});
        if (e >= e1) {
            break;
        }
    }
    return ticks;
}

const char* tone_name(Tone tone) {
    switch (tone) {
        case Tone::faster:
            return "faster";
        case Tone::slower:
            return "slower";
        case Tone::same:
            return "same";
        case Tone::undecided:
            return "undecided";
        case Tone::neutral:
            return "neutral";
    }
    return "neutral";
}

std::string tone_colour(Tone tone) {
    // Blue vs vermillion stay distinct for all three common colour-vision deficiencies; the
    // verdict is also written next to every bar, so colour is never the only cue.
    switch (tone) {
        case Tone::faster:
            return "#0072B2";
        case Tone::slower:
            return "#D55E00";
        case Tone::same:
            return "#8c8c8c";
        case Tone::undecided:
            return "#E69F00";
        case Tone::neutral:
            return "#56B4E9";
    }
    return "#56B4E9";
}

std::string ratio_bar_chart(const std::vector<RatioBar>& bars, const RatioChartOptions& options) {
    const double width = options.width_px;
    std::size_t label_chars = 8;
    double value_w = 60;
    std::vector<double> values{1.0};
    for (const RatioBar& b : bars) {
        label_chars = std::max(label_chars, text_length(b.label));
        value_w = std::max(value_w, estimate_width_px(b.value_label) + 8);
        for (const std::optional<double>& v :
             {std::optional<double>(b.ratio), b.ci_low, b.ci_high}) {
            if (v && std::isfinite(*v) && *v > 0) {
                values.push_back(*v);
            }
        }
    }
    const double max_label_w = width * 0.36;
    const double label_w = std::min(static_cast<double>(label_chars) * kCharWidthPx, max_label_w);
    const auto max_label_chars = static_cast<std::size_t>(max_label_w / kCharWidthPx);
    value_w = std::min(value_w, width * 0.25);
    const double x0 = label_w + 16;
    const double x1 = width - value_w - 12;
    const double row_h = 22;
    const double top = 34;
    const double n = static_cast<double>(std::max<std::size_t>(bars.size(), 1));
    const double bottom = top + n * row_h;
    const double height = bottom + 46;

    std::string out;
    open_svg(out, options.id, "chart-ratio", width, height, options.title,
             fmt::format("{} bars; horizontal axis: {}", bars.size(), options.x_label));
    if (bars.empty()) {
        no_data(out, width, top + row_h * 0.7);
        out += "</svg>\n";
        return out;
    }
    const double lo = *std::min_element(values.begin(), values.end()) / 1.08;
    const double hi = *std::max_element(values.begin(), values.end()) * 1.08;
    const std::vector<Tick> ticks = log10_ticks(lo, hi);
    Scale x{AxisScale::log10, ticks.front().value, ticks.back().value, x0, x1};
    Scale y{AxisScale::linear, 0, 1, bottom, top};
    draw_axes(out, x, ticks, options.x_label, y, {}, "");
    out += "<g class=\"bars\">\n";
    for (std::size_t i = 0; i < bars.size(); ++i) {
        const RatioBar& b = bars[i];
        const double cy = top + (static_cast<double>(i) + 0.5) * row_h;
        const std::string colour = tone_colour(b.tone);
        put(out, "<g class=\"bar tone-{}\"><title>{}</title>", tone_name(b.tone),
            escape::html_text(b.tooltip.empty() ? b.label : b.tooltip));
        put(out, "<text class=\"bar-label\" x=\"8\" y=\"{:.1f}\">{}</text>", cy + 4,
            escape::html_text(truncate_text(b.label, max_label_chars)));
        const bool drawable = std::isfinite(b.ratio) && b.ratio > 0;
        if (drawable) {
            const double a = x.map(1.0);
            const double e = x.map(b.ratio);
            put(out,
                "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"14\" fill=\"{}\" "
                "fill-opacity=\"0.85\"/>",
                std::min(a, e), cy - 7, std::max(std::fabs(e - a), 1.5), colour);
            if (b.ci_low && b.ci_high && *b.ci_low > 0 && *b.ci_high > 0 &&
                std::isfinite(*b.ci_low) && std::isfinite(*b.ci_high)) {
                const double l = x.map(*b.ci_low);
                const double h = x.map(*b.ci_high);
                put(out,
                    "<g class=\"whisker\" stroke=\"#222\" stroke-width=\"1.3\"><line "
                    "x1=\"{0:.1f}\" "
                    "y1=\"{2:.1f}\" x2=\"{1:.1f}\" y2=\"{2:.1f}\"/><line x1=\"{0:.1f}\" "
                    "y1=\"{3:.1f}\" x2=\"{0:.1f}\" y2=\"{4:.1f}\"/><line x1=\"{1:.1f}\" "
                    "y1=\"{3:.1f}\" x2=\"{1:.1f}\" y2=\"{4:.1f}\"/></g>",
                    l, h, cy, cy - 5, cy + 5);
            }
        }
        put(out, "<text class=\"bar-value\" x=\"{:.1f}\" y=\"{:.1f}\">{}</text></g>\n", x1 + 8,
            cy + 4, escape::html_text(b.value_label.empty() && !drawable ? "n/a" : b.value_label));
    }
    out += "</g>\n";
    put(out,
        "<line class=\"reference\" x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" "
        "stroke=\"#000\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>\n",
        x.map(1.0), top - 4, bottom);
    out += "</svg>\n";
    return out;
}

std::string xy_chart(const std::vector<Series>& series, const std::vector<Marker>& markers,
                     const XyChartOptions& options) {
    const double width = options.width_px;
    Scale x_probe{options.x.scale};
    Scale y_probe{options.y.scale};
    std::vector<double> xs;
    std::vector<double> ys;
    std::size_t drawn_points = 0;
    for (const Series& s : series) {
        for (const Point& p : s.points) {
            if (x_probe.accepts(p.x) && y_probe.accepts(p.y)) {
                xs.push_back(p.x);
                ys.push_back(p.y);
                ++drawn_points;
            }
        }
    }
    for (const Marker& m : markers) {
        if (x_probe.accepts(m.x) && !xs.empty()) {
            xs.push_back(m.x);
        }
    }
    std::vector<LegendEntry> legend;
    for (const Series& s : series) {
        const std::string colour = palette_colour(s.colour_index);
        legend.push_back(
            {s.name, s.style == SeriesStyle::points
                         ? fmt::format("<circle cx=\"12\" cy=\"6\" r=\"4\" fill=\"{}\"/>", colour)
                         : line_swatch(colour, s.dashed, s.style == SeriesStyle::line_and_points)});
    }
    const double legend_top = 28;
    const double top = legend_top + legend_height(legend, width) + 8;
    const double left = 72;
    const double right = width - 20;
    const double height = std::max(options.height_px, top + 160);
    const double bottom = height - 48;

    std::string out;
    open_svg(out, options.id, "chart-xy " + options.css_class, width, height, options.title,
             fmt::format("{} series, {} points; x: {}; y: {}", series.size(), drawn_points,
                         options.x.label, options.y.label));
    if (drawn_points == 0) {
        no_data(out, width, (top + bottom) / 2);
        out += "</svg>\n";
        return out;
    }
    const std::vector<Tick> x_ticks = axis_ticks(options.x, xs);
    const std::vector<Tick> y_ticks = axis_ticks(options.y, ys);
    const Scale x{options.x.scale, x_ticks.front().value, x_ticks.back().value, left, right};
    const Scale y{options.y.scale, y_ticks.front().value, y_ticks.back().value, bottom, top};
    draw_axes(out, x, x_ticks, options.x.label, y, y_ticks, options.y.label);
    draw_legend(out, legend, width, legend_top);

    const std::string clip_id = escape::html_text(options.id) + "-clip";
    put(out,
        "<clipPath id=\"{}\"><rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" "
        "height=\"{:.1f}\"/></clipPath>\n",
        clip_id, left - kClipPadPx, top - kClipPadPx, right - left + 2 * kClipPadPx,
        bottom - top + 2 * kClipPadPx);

    out += "<g class=\"markers\">\n";
    for (std::size_t i = 0; i < markers.size(); ++i) {
        const Marker& m = markers[i];
        if (!x.accepts(m.x) || m.x < x.d0 || m.x > x.d1) {
            continue;
        }
        const double px = x.map(m.x);
        const std::string colour = palette_colour(m.colour_index);
        // Stagger labels: hosts often share cache sizes, and neighbouring levels sit close on a
        // log axis.
        const double ly = top + 12 + static_cast<double>(i % 4) * 13;
        put(out,
            "<g class=\"marker\"><title>{}</title><line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" "
            "y2=\"{:.1f}\" stroke=\"{}\" stroke-dasharray=\"3 3\" stroke-width=\"1.2\"/>"
            "<text x=\"{:.1f}\" y=\"{:.1f}\" fill=\"{}\" font-size=\"11\">{}</text></g>\n",
            escape::html_text(m.tooltip.empty() ? m.label : m.tooltip), px, top, px, bottom, colour,
            px + 3, ly, colour, escape::html_text(m.label));
    }
    out += "</g>\n";

    put(out, "<g class=\"series-group\" clip-path=\"url(#{})\">\n", clip_id);
    for (const Series& s : series) {
        const std::string colour = palette_colour(s.colour_index);
        put(out, "<g class=\"series\" data-name=\"{}\"><title>{}</title>",
            escape::html_text(s.name), escape::html_text(s.name));
        if (s.style != SeriesStyle::points) {
            std::string d;
            bool pen_down = false;
            for (const Point& p : s.points) {
                if (!x.accepts(p.x) || !y.accepts(p.y)) {
                    pen_down = false;
                    continue;
                }
                put(d, "{}{:.1f} {:.1f} ", pen_down ? "L" : "M", x.map(p.x), y.map(p.y));
                pen_down = true;
            }
            if (!d.empty()) {
                d.pop_back();
                put(out,
                    "<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\" "
                    "stroke-linejoin=\"round\"{}/>",
                    d, colour, s.dashed ? " stroke-dasharray=\"6 3\"" : "");
            }
        }
        if (s.style != SeriesStyle::line) {
            for (const Point& p : s.points) {
                if (!x.accepts(p.x) || !y.accepts(p.y)) {
                    continue;
                }
                const std::string tip =
                    p.tooltip.empty() ? fmt::format("{}: {}, {}", s.name, format_coordinate(p.x),
                                                    format_coordinate(p.y))
                                      : p.tooltip;
                put(out,
                    "<circle class=\"point\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\" "
                    "fill=\"{}\"><title>{}</title></circle>",
                    x.map(p.x), y.map(p.y), s.style == SeriesStyle::points ? "4" : "2.5", colour,
                    escape::html_text(tip));
            }
        }
        out += "</g>\n";
    }
    out += "</g>\n</svg>\n";
    return out;
}

namespace {

std::string point_shape(std::size_t group, double cx, double cy, bool for_legend) {
    const char* stroke = "#111";
    switch (group % 3) {
        case 0:
            return fmt::format(
                "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4\" fill=\"#111\" fill-opacity=\"{}\"/>",
                cx, cy, for_legend ? "1" : "0.75");
        case 1:
            return fmt::format(
                "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"8\" height=\"8\" fill=\"#fff\" "
                "stroke=\"{}\" stroke-width=\"1.5\"/>",
                cx - 4, cy - 4, stroke);
        default:
            return fmt::format(
                "<path d=\"M{:.1f} {:.1f} l5 5 l-5 5 l-5 -5 z\" fill=\"#999\" stroke=\"{}\"/>", cx,
                cy - 5, stroke);
    }
}

}  // namespace

std::string roofline_chart(const std::vector<Roof>& compute_gflop_per_s,
                           const std::vector<Roof>& bandwidth_gb_per_s,
                           const std::vector<RooflinePoint>& points,
                           const RooflineOptions& options) {
    std::vector<Roof> compute;
    std::vector<Roof> bandwidth;
    for (const Roof& r : compute_gflop_per_s) {
        if (std::isfinite(r.value) && r.value > 0) {
            compute.push_back(r);
        }
    }
    for (const Roof& r : bandwidth_gb_per_s) {
        if (std::isfinite(r.value) && r.value > 0) {
            bandwidth.push_back(r);
        }
    }
    std::vector<RooflinePoint> pts;
    for (const RooflinePoint& p : points) {
        if (std::isfinite(p.intensity_flop_per_byte) && p.intensity_flop_per_byte > 0 &&
            std::isfinite(p.gflop_per_s) && p.gflop_per_s > 0) {
            pts.push_back(p);
        }
    }
    const double width = options.width_px;
    const double height = options.height_px;
    const double legend_w = 250;
    const double left = 72;
    const double right = width - legend_w - 16;
    const double top = 34;
    const double bottom = height - 48;

    std::string out;
    open_svg(out, options.id, "chart-roofline", width, height, options.title,
             fmt::format("{} compute roofs, {} bandwidth roofs, {} points; x: arithmetic intensity "
                         "(FLOP/byte, log); y: GFLOP/s (log)",
                         compute.size(), bandwidth.size(), pts.size()));
    if (compute.empty() && bandwidth.empty() && pts.empty()) {
        no_data(out, width / 2, (top + bottom) / 2);
        out += "</svg>\n";
        return out;
    }
    double top_compute = 0;
    for (const Roof& r : compute) {
        top_compute = std::max(top_compute, r.value);
    }
    double top_bandwidth = 0;
    double min_bandwidth = std::numeric_limits<double>::infinity();
    for (const Roof& r : bandwidth) {
        top_bandwidth = std::max(top_bandwidth, r.value);
        min_bandwidth = std::min(min_bandwidth, r.value);
    }
    std::vector<double> xs;
    std::vector<double> ys;
    for (const RooflinePoint& p : pts) {
        xs.push_back(p.intensity_flop_per_byte);
        ys.push_back(p.gflop_per_s);
    }
    for (const Roof& c : compute) {
        ys.push_back(c.value);
        for (const Roof& b : bandwidth) {
            xs.push_back(c.value / b.value);  // ridge points
        }
    }
    if (xs.empty()) {
        xs = {0.1, 100};
    }
    const double x_lo = *std::min_element(xs.begin(), xs.end()) / 4;
    const double x_hi = *std::max_element(xs.begin(), xs.end()) * 4;
    const std::vector<Tick> x_ticks = log10_ticks(x_lo, x_hi);
    const Scale x{AxisScale::log10, x_ticks.front().value, x_ticks.back().value, left, right};
    for (const Roof& b : bandwidth) {
        ys.push_back(b.value * x.d0);
        if (!compute.empty()) {
            ys.push_back(std::min(b.value * x.d1, top_compute));
        } else {
            ys.push_back(b.value * x.d1);
        }
    }
    double y_hi = *std::max_element(ys.begin(), ys.end()) * 1.5;
    double y_lo = *std::min_element(ys.begin(), ys.end()) / 1.5;
    // Six decades are plenty: a slope from very low intensity would otherwise squash the roofs.
    y_lo = std::max(y_lo, y_hi / 1e6);
    const std::vector<Tick> y_ticks = log10_ticks(y_lo, y_hi);
    const Scale y{AxisScale::log10, y_ticks.front().value, y_ticks.back().value, bottom, top};
    draw_axes(out, x, x_ticks, "arithmetic intensity (FLOP/byte, log scale)", y, y_ticks,
              "GFLOP/s (log scale)");

    const std::string clip_id = escape::html_text(options.id) + "-clip";
    put(out,
        "<clipPath id=\"{}\"><rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" "
        "height=\"{:.1f}\"/></clipPath>\n",
        clip_id, left - kClipPadPx, top - kClipPadPx, right - left + 2 * kClipPadPx,
        bottom - top + 2 * kClipPadPx);
    put(out, "<g class=\"roofs\" clip-path=\"url(#{})\">\n", clip_id);
    std::vector<LegendEntry> legend;
    std::size_t colour = 0;
    for (const Roof& b : bandwidth) {
        const double xa = x.d0;
        const double xb = compute.empty() ? x.d1 : std::min(top_compute / b.value, x.d1);
        const std::string c = palette_colour(colour++);
        put(out,
            "<line class=\"roof roof-bandwidth\" x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" "
            "y2=\"{:.1f}\" stroke=\"{}\" stroke-width=\"2\" stroke-dasharray=\"7 3\"><title>{}"
            "</title></line>\n",
            x.map(xa), y.map(b.value * xa), x.map(xb), y.map(b.value * xb), c,
            escape::html_text(b.label));
        legend.push_back({b.label, line_swatch(c, true, false)});
    }
    for (const Roof& r : compute) {
        const double xa = bandwidth.empty() ? x.d0 : std::max(r.value / top_bandwidth, x.d0);
        const std::string c = palette_colour(colour++);
        put(out,
            "<line class=\"roof roof-compute\" x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" "
            "y2=\"{:.1f}\" stroke=\"{}\" stroke-width=\"2\"><title>{}</title></line>\n",
            x.map(xa), y.map(r.value), x.map(x.d1), y.map(r.value), c, escape::html_text(r.label));
        legend.push_back({r.label, line_swatch(c, false, false)});
    }
    out += "</g>\n";
    put(out, "<g class=\"points\" clip-path=\"url(#{})\">\n", clip_id);
    for (const RooflinePoint& p : pts) {
        put(out, "<g class=\"point group-{}\"><title>{}</title>{}</g>\n", p.group,
            escape::html_text(p.label),
            point_shape(p.group, x.map(p.intensity_flop_per_byte), y.map(p.gflop_per_s), false));
    }
    out += "</g>\n";
    std::vector<bool> group_used(options.group_names.size(), false);
    for (const RooflinePoint& p : pts) {
        if (p.group < group_used.size()) {
            group_used[p.group] = true;
        }
    }
    for (std::size_t g = 0; g < options.group_names.size(); ++g) {
        if (group_used[g]) {
            legend.push_back({options.group_names[g], point_shape(g, 12, 6, true)});
        }
    }
    // Legend as one column right of the plot: roof labels are long ("DRAM triad 38.2 GB/s").
    const double legend_x = right + 16;
    const auto max_chars = static_cast<std::size_t>((legend_w - 40) / kCharWidthPx);
    out += "<g class=\"legend\">\n";
    for (std::size_t i = 0; i < legend.size(); ++i) {
        put(out,
            "<g class=\"legend-entry\" transform=\"translate({:.1f},{:.1f})\"><title>{}</title>"
            "{}<text x=\"30\" y=\"10\">{}</text></g>\n",
            legend_x, top + static_cast<double>(i) * 18, escape::html_text(legend[i].name),
            legend[i].swatch, escape::html_text(truncate_text(legend[i].name, max_chars)));
    }
    out += "</g>\n</svg>\n";
    return out;
}

}  // namespace assay::svg
