#include "reports/family_sections.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "reports/escape.hpp"
#include "reports/host_summary.hpp"
#include "reports/report_support.hpp"

namespace assay {
namespace {

using escape::markdown_cell;
using report_support::finite_metric;
using report_support::param;
using report_support::usable;

/// A case parameter as a Markdown table cell (params come from any store, ingested ones too).
std::string cell_param(const Result& r, const std::string& key) {
    return markdown_cell(param(r, key));
}

std::string cell(double v) {
    if (!std::isfinite(v)) {
        return "-";
    }
    const double a = std::abs(v);
    if (a >= 1000) {
        return fmt::format("{:.0f}", v);
    }
    if (a >= 100) {
        return fmt::format("{:.1f}", v);
    }
    if (a >= 1) {
        return fmt::format("{:.2f}", v);
    }
    return fmt::format("{:.3g}", v);
}

std::string level_of(const Result& r) {
    for (const Metric& m : r.metrics) {
        if (m.name.rfind("level.", 0) == 0 && m.value != 0) {
            return m.name.substr(6);
        }
    }
    return {};
}

std::optional<std::uint64_t> to_u64(const std::string& s) {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) {
        return std::nullopt;
    }
    return std::stoull(s);
}

/// A failed or skipped row still shows why, so a gap in a table is explained.
std::string unusable_cell(const Result& r) {
    return r.status == ResultStatus::skipped ? "skipped" : "FAILED";
}

std::string render_memory_hierarchy(const std::vector<StoredResult>& results) {
    // Columns: sweep kernel x placement (bandwidth), latency x pages (ns). Rows: working set.
    std::map<std::uint64_t, std::map<std::string, std::string>> rows;
    std::set<std::string> bandwidth_columns;  // bandwidth first, then latency, each sorted
    std::set<std::string> latency_columns;
    for (const auto& sr : results) {
        const Result& r = sr.result;
        std::string column;
        std::string text;
        std::optional<std::uint64_t> bytes;
        if (r.bench_case.benchmark == "mem.sweep") {
            const std::string kernel =
                param(r, "kernel") == "sum" ? "read" : cell_param(r, "kernel");
            column = fmt::format("{} {} GB/s", kernel, cell_param(r, "placement"));
            bytes = to_u64(param(r, "bytes"));
            if (const auto bw = finite_metric(r, "bandwidth_stream_gb_per_s.best");
                usable(r) && bw) {
                text = fmt::format("{} ({})", cell(*bw), level_of(r));
            }
        } else if (r.bench_case.benchmark == "mem.latency") {
            column = fmt::format("latency {} ns", cell_param(r, "pages"));
            bytes = to_u64(param(r, "bytes"));
            if (const auto ns = finite_metric(r, "latency_ns.median"); usable(r) && ns) {
                const auto cycles = finite_metric(r, "latency_cycles.median");
                text = cycles
                           ? fmt::format("{} ({}, {} cyc)", cell(*ns), level_of(r), cell(*cycles))
                           : fmt::format("{} ({})", cell(*ns), level_of(r));
            }
        } else {
            continue;
        }
        if (!bytes) {
            continue;
        }
        if (text.empty()) {
            text = unusable_cell(r);
        }
        rows[*bytes][column] = text;
        (r.bench_case.benchmark == "mem.sweep" ? bandwidth_columns : latency_columns)
            .insert(column);
    }
    if (rows.empty()) {
        return {};
    }
    std::vector<std::string> columns(bandwidth_columns.begin(), bandwidth_columns.end());
    columns.insert(columns.end(), latency_columns.begin(), latency_columns.end());
    std::string out =
        "\nMemory hierarchy (bandwidth: best, STREAM bytes; latency: median per dependent load; "
        "the cache level each point fits, from the probed cache sizes, in parentheses):\n\n"
        "| working set |";
    for (const auto& c : columns) {
        out += fmt::format(" {} |", c);
    }
    out += "\n|---:|";
    for (std::size_t i = 0; i < columns.size(); ++i) {
        out += "---:|";
    }
    out += "\n";
    for (const auto& [bytes, cells] : rows) {
        out += fmt::format("| {} |", format_bytes(bytes));
        for (const auto& c : columns) {
            const auto it = cells.find(c);
            out += fmt::format(" {} |", it == cells.end() ? "" : it->second);
        }
        out += "\n";
    }
    return out;
}

std::string render_loaded_latency(const std::vector<StoredResult>& results) {
    std::string rows;
    for (const auto& sr : results) {
        const Result& r = sr.result;
        if (r.bench_case.benchmark != "mem.loaded_latency") {
            continue;
        }
        if (!usable(r)) {
            rows += fmt::format("| {} | {} | - |\n", cell_param(r, "streams"), unusable_cell(r));
            continue;
        }
        const auto ns = finite_metric(r, "latency_ns.median");
        const auto bw = finite_metric(r, "loaded.stream_gb_per_s");
        rows += fmt::format("| {} | {} | {} |\n", cell_param(r, "streams"), ns ? cell(*ns) : "-",
                            bw ? cell(*bw) : "-");
    }
    if (rows.empty()) {
        return {};
    }
    return "\nLoaded latency (one pointer chaser while N threads stream on other cores):\n\n"
           "| streaming threads | latency ns (median) | background GB/s |\n|---:|---:|---:|\n" +
           rows;
}

/// A square-ish matrix of cells keyed by (row, column) labels, sorted numerically when they are
/// numbers.
/// With `square`, rows and columns share one label set (a pair matrix) and the diagonal is "-".
std::string render_matrix(const std::string& title, const std::string& corner,
                          const std::map<std::pair<std::string, std::string>, std::string>& cells,
                          bool square) {
    if (cells.empty()) {
        return {};
    }
    const auto numeric_less = [](const std::string& a, const std::string& b) {
        const auto na = to_u64(a);
        const auto nb = to_u64(b);
        if (na && nb) {
            return *na < *nb;
        }
        return a < b;
    };
    std::set<std::string, decltype(numeric_less)> row_labels(numeric_less);
    std::set<std::string, decltype(numeric_less)> col_labels(numeric_less);
    for (const auto& [key, text] : cells) {
        row_labels.insert(key.first);
        col_labels.insert(key.second);
        if (square) {
            row_labels.insert(key.second);
            col_labels.insert(key.first);
        }
    }
    std::string out = "\n" + title + "\n\n| " + corner + " |";
    for (const auto& c : col_labels) {
        out += fmt::format(" {} |", markdown_cell(c));
    }
    out += "\n|---|";
    for (std::size_t i = 0; i < col_labels.size(); ++i) {
        out += "---:|";
    }
    out += "\n";
    for (const auto& row : row_labels) {
        out += fmt::format("| {} |", markdown_cell(row));
        for (const auto& col : col_labels) {
            const auto it = cells.find({row, col});
            out += fmt::format(" {} |", it != cells.end()      ? it->second
                                        : square && row == col ? std::string("-")
                                                               : std::string());
        }
        out += "\n";
    }
    return out;
}

std::string render_numa(const std::vector<StoredResult>& results) {
    std::map<std::string, std::map<std::pair<std::string, std::string>, std::string>> by_kind;
    for (const auto& sr : results) {
        const Result& r = sr.result;
        const std::string& b = r.bench_case.benchmark;
        if (b != "mem.numa.bandwidth" && b != "mem.numa.latency") {
            continue;
        }
        const bool latency = b == "mem.numa.latency";
        const std::string kind = latency ? "latency ns (median)"
                                         : fmt::format("{} GB/s (best)", cell_param(r, "kernel"));
        std::string text = unusable_cell(r);
        if (usable(r)) {
            const auto v = latency ? finite_metric(r, "latency_ns.median")
                                   : finite_metric(r, "bandwidth_stream_gb_per_s.best");
            text = v ? cell(*v) : "-";
        }
        by_kind[kind][{param(r, "cpu_node"), param(r, "mem_node")}] = text;
    }
    std::string out;
    for (const auto& [kind, cells] : by_kind) {
        out += render_matrix(fmt::format("NUMA matrix, {}: rows = CPUs of node, columns = "
                                         "memory of node:",
                                         kind),
                             "cpu \\ mem", cells, false);
    }
    return out;
}

std::string render_c2c(const std::vector<StoredResult>& results) {
    std::map<std::pair<std::string, std::string>, std::string> cells;
    for (const auto& sr : results) {
        const Result& r = sr.result;
        if (r.bench_case.benchmark != "mem.c2c") {
            continue;
        }
        std::string text = unusable_cell(r);
        if (usable(r)) {
            const auto ns = finite_metric(r, "latency_ns.median");
            text = ns ? cell(*ns) : "-";
        }
        // Ping-pong latency is symmetric: one measured pair fills both halves.
        cells[{param(r, "a"), param(r, "b")}] = text;
        cells.emplace(std::make_pair(param(r, "b"), param(r, "a")), text);
    }
    return render_matrix(
        "Core-to-core latency, ns one way (median of cache-line ping-pong round trips / 2); rows "
        "and columns are OS PU numbers:",
        "PU", cells, true);
}

/// "Which backend wins", per device and dtype: each backend's best rate over every shape,
/// ranked. Only verified results count.
std::string render_gemm_winners(const std::vector<StoredResult>& results) {
    // (device, dtype) -> backend -> (best rate, unit)
    std::map<std::pair<std::string, std::string>, std::map<std::string, std::pair<double, bool>>>
        best;
    for (const auto& sr : results) {
        const Result& r = sr.result;
        if (r.bench_case.benchmark.rfind("gemm", 0) != 0 || !usable(r)) {
            continue;
        }
        auto rate = finite_metric(r, "gflop_per_s.best");
        const bool integer = !rate;
        if (integer) {
            rate = finite_metric(r, "gop_per_s.best");
        }
        if (!rate) {
            continue;
        }
        auto& slot = best[{r.device, param(r, "dtype")}][r.backend];
        slot = {std::max(slot.first, *rate), integer};
    }
    std::string out;
    for (const auto& [key, backends] : best) {
        std::vector<std::pair<double, std::string>> ranked;
        bool integer = false;
        for (const auto& [backend, rate] : backends) {
            ranked.emplace_back(rate.first, backend);
            integer = rate.second;
        }
        std::sort(ranked.rbegin(), ranked.rend());
        std::string list;
        for (const auto& [rate, backend] : ranked) {
            list += fmt::format("{}{} {}", list.empty() ? "" : " > ",
                                escape::markdown_text(backend), cell(rate / 1000.0));
        }
        out += fmt::format("- {} {}: **{}** wins — {} {} (best over the shapes run)\n",
                           escape::markdown_text(key.first), escape::markdown_text(key.second),
                           escape::markdown_text(ranked.front().second), list,
                           integer ? "TOP/s" : "TFLOP/s");
    }
    return out.empty() ? out : "\nGEMM winners per dtype:\n\n" + out;
}

std::string render_gemm(const std::vector<StoredResult>& results) {
    std::string rows;
    for (const auto& sr : results) {
        const Result& r = sr.result;
        if (r.bench_case.benchmark.rfind("gemm", 0) != 0) {
            continue;
        }
        const std::string shape =
            param(r, "shape").empty()
                ? fmt::format("{}x{}x{}", cell_param(r, "m"), cell_param(r, "n"),
                              cell_param(r, "k"))
                : fmt::format("{} ({}x{}x{})", cell_param(r, "shape"), cell_param(r, "m"),
                              cell_param(r, "n"), cell_param(r, "k"));
        if (!usable(r)) {
            rows += fmt::format("| {} | {} | {} | {} | {} | {} | - | - | {} |\n",
                                markdown_cell(r.device), markdown_cell(r.backend),
                                cell_param(r, "dtype"), shape, cell_param(r, "layout"),
                                unusable_cell(r), markdown_cell(r.message));
            continue;
        }
        auto rate = finite_metric(r, "gflop_per_s.best");
        if (!rate) {
            rate = finite_metric(r, "gop_per_s.best");
        }
        const auto peak = finite_metric(r, "percent_of_peak.best");
        rows +=
            fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", markdown_cell(r.device),
                        markdown_cell(r.backend), cell_param(r, "dtype"), shape,
                        cell_param(r, "layout"), "ok", rate ? cell(*rate / 1000.0) : "-",
                        peak ? cell(*peak) : "-", markdown_cell(r.implementation));
    }
    if (rows.empty()) {
        return {};
    }
    return "\nGEMM (T(FL)OP/s from the fastest sample, 2·M·N·K; % of the probe's peak "
           "*estimate* for the dtype at the clock its formula states — the base clock when the "
           "boost clock is unknown, so a boosting core can exceed 100 %):\n\n"
           "| device | backend | dtype | M×N×K | layout | status | TFLOP/s | % peak | "
           "implementation / reason |\n|---|---|---|---|---|---|---:|---:|---|\n" +
           rows + render_gemm_winners(results);
}

}  // namespace

std::string render_ceilings_section(const std::vector<StoredCeiling>& ceilings) {
    if (ceilings.empty()) {
        return {};
    }
    std::string out =
        "\nMeasured ceilings (derived from this run's verified results; used by comparisons and "
        "rooflines):\n\n| device | ceiling | value | unit | basis |\n|---|---|---:|---|---|\n";
    for (const auto& sc : ceilings) {
        const Ceiling& c = sc.ceiling;
        out += fmt::format("| {} | `{}` | {} | {} | {} |\n", markdown_cell(c.device),
                           markdown_cell(c.name), cell(c.value), markdown_cell(c.unit),
                           markdown_cell(c.basis));
    }
    return out;
}

std::string render_family_sections(const std::vector<StoredResult>& results) {
    return render_memory_hierarchy(results) + render_loaded_latency(results) +
           render_numa(results) + render_c2c(results) + render_gemm(results);
}

}  // namespace assay
