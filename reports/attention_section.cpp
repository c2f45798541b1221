#include "reports/attention_section.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
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
    if (a >= 100) {
        return fmt::format("{:.0f}", v);
    }
    if (a >= 10) {
        return fmt::format("{:.1f}", v);
    }
    if (a >= 1) {
        return fmt::format("{:.2f}", v);
    }
    return fmt::format("{:.3g}", v);
}

std::optional<double> number(const std::string& s) {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) {
        return std::nullopt;
    }
    return std::strtod(s.c_str(), nullptr);  // huge digit strings give HUGE_VAL, never a throw
}

bool is_unfused(const Result& r) {
    return r.backend.find(".unfused") != std::string::npos;
}

/// "62.4 % of gemm.f32 (180 GFLOP/s)" from the percent_of_ceiling.best and ceiling.* metrics.
std::string ceiling_cell(const Result& r) {
    const auto pct = finite_metric(r, "percent_of_ceiling.best");
    if (!pct) {
        return "-";
    }
    for (const Metric& m : r.metrics) {
        if (m.name.rfind("ceiling.", 0) == 0) {
            return fmt::format("{} % of `{}` ({} {})", cell(*pct), markdown_cell(m.name.substr(8)),
                               cell(m.value), markdown_cell(m.unit));
        }
    }
    return fmt::format("{} %", cell(*pct));
}

std::string shape_text(const Result& r) {
    return fmt::format("{} B{} H{}/{} D{}", cell_param(r, "preset"), cell_param(r, "batch"),
                       cell_param(r, "heads_q"), cell_param(r, "heads_kv"),
                       cell_param(r, "head_dim"));
}

/// K+V bytes of a decode case: the stored context metric, else from the params.
std::optional<double> kv_bytes_of(const Result& r) {
    if (const auto m = finite_metric(r, "kv_bytes")) {
        return m;
    }
    const auto b = number(param(r, "batch"));
    const auto h = number(param(r, "heads_kv"));
    const auto s = number(param(r, "kv_len"));
    const auto d = number(param(r, "head_dim"));
    const std::string kv = param(r, "kv_dtype");
    const double bytes = kv == "f32" ? 4 : (kv == "bf16" || kv == "f16") ? 2 : 0;
    if (!b || !h || !s || !d || bytes == 0) {
        return std::nullopt;
    }
    return 2.0 * *b * *h * *s * *d * bytes;
}

/// Sort key: device, preset, shape numbers, dtype, causal, backend.
using RowKey = std::tuple<std::string, std::string, double, double, std::string, std::string,
                          std::string, std::string>;

RowKey key_of(const Result& r, const std::string& length_param) {
    return {r.device,
            param(r, "preset"),
            number(param(r, length_param)).value_or(0),
            number(param(r, "batch")).value_or(0),
            param(r, "dtype") + "/" + param(r, "kv_dtype"),
            param(r, "causal"),
            r.bench_case.canonical_params(),
            r.backend};
}

std::string render_prefill(const std::vector<StoredResult>& results) {
    // Best unfused throughput per (device, case): the speedup reference of fused rows.
    std::map<std::pair<std::string, std::string>, std::pair<double, std::string>> unfused;
    for (const auto& sr : results) {
        const Result& r = sr.result;
        if (r.bench_case.benchmark != "attention.prefill" || !usable(r) || !is_unfused(r)) {
            continue;
        }
        if (const auto rate = finite_metric(r, "gflop_per_s.best")) {
            auto& slot = unfused[{r.device, r.bench_case.canonical_params()}];
            if (*rate > slot.first) {
                slot = {*rate, r.backend};
            }
        }
    }
    std::multimap<RowKey, std::string> rows;
    for (const auto& sr : results) {
        const Result& r = sr.result;
        if (r.bench_case.benchmark != "attention.prefill") {
            continue;
        }
        const std::string lead =
            fmt::format("| {} | {} | {} | {} | {} | {} |", markdown_cell(r.device), shape_text(r),
                        cell_param(r, "seq"), cell_param(r, "dtype"), cell_param(r, "causal"),
                        markdown_cell(r.backend));
        std::string row;
        if (!usable(r)) {
            row = fmt::format("{} {} | - | - | - | - | {} |\n", lead,
                              r.status == ResultStatus::skipped ? "skipped" : "FAILED",
                              markdown_cell(r.message));
        } else {
            const auto best = finite_metric(r, "gflop_per_s.best");
            const auto median = finite_metric(r, "gflop_per_s.median");
            std::string speedup = "-";
            if (!is_unfused(r) && best) {
                const auto it = unfused.find({r.device, r.bench_case.canonical_params()});
                if (it != unfused.end() && it->second.first > 0) {
                    speedup = fmt::format("{:.2f}× vs {}", *best / it->second.first,
                                          markdown_cell(it->second.second));
                }
            }
            row = fmt::format("{} ok | {} | {} | {} | {} | {} |\n", lead,
                              best ? cell(*best / 1000.0) : "-",
                              median ? cell(*median / 1000.0) : "-", ceiling_cell(r), speedup,
                              markdown_cell(r.implementation));
        }
        rows.emplace(key_of(r, "seq"), row);
    }
    if (rows.empty()) {
        return {};
    }
    std::string out =
        "\nAttention prefill (TFLOP/s by the unmasked-pairs convention: 4·B·H·D·(query, key) "
        "pairs the mask lets through, so causal counts about half; % of the same dtype's "
        "measured GEMM ceiling; speedup of a fused kernel over the fastest unfused "
        "GEMM→softmax→GEMM reference of the same case):\n\n"
        "| device | shape | seq | dtype | causal | backend | status | TFLOP/s best | "
        "TFLOP/s median | % of ceiling (best) | fused/unfused | implementation / reason |\n"
        "|---|---|---:|---|---|---|---|---:|---:|---|---|---|\n";
    for (const auto& [key, row] : rows) {
        out += row;
    }
    return out;
}

std::string render_decode(const std::vector<StoredResult>& results) {
    std::multimap<RowKey, std::string> rows;
    for (const auto& sr : results) {
        const Result& r = sr.result;
        if (r.bench_case.benchmark != "attention.decode") {
            continue;
        }
        const auto kv = kv_bytes_of(r);
        const std::string lead =
            fmt::format("| {} | {} | {} | {}/{} | {} | {} |", markdown_cell(r.device),
                        shape_text(r), cell_param(r, "kv_len"), cell_param(r, "dtype"),
                        cell_param(r, "kv_dtype"), markdown_cell(r.backend),
                        kv ? format_bytes(static_cast<std::uint64_t>(*kv)) : std::string("-"));
        std::string row;
        if (!usable(r)) {
            row = fmt::format("{} {} | - | - | - | {} |\n", lead,
                              r.status == ResultStatus::skipped ? "skipped" : "FAILED",
                              markdown_cell(r.message));
        } else {
            const auto best = finite_metric(r, "bandwidth_stream_gb_per_s.best");
            const auto median = finite_metric(r, "bandwidth_stream_gb_per_s.median");
            std::string ceiling = ceiling_cell(r);
            if (finite_metric(r, "kv_fits_in_llc")) {
                const auto llc = finite_metric(r, "llc_bytes");
                ceiling += fmt::format(
                    " (K+V fit in the {} LLC: a cache figure, not DRAM)",
                    llc ? format_bytes(static_cast<std::uint64_t>(*llc)) : std::string("host's"));
            }
            row =
                fmt::format("{} ok | {} | {} | {} | {} |\n", lead, best ? cell(*best) : "-",
                            median ? cell(*median) : "-", ceiling, markdown_cell(r.implementation));
        }
        rows.emplace(key_of(r, "kv_len"), row);
    }
    if (rows.empty()) {
        return {};
    }
    std::string out =
        "\nAttention decode (one query token per sequence; GB/s counts K and V read once plus Q "
        "and O; % of the measured DRAM read bandwidth ceiling; where K+V fit in the last-level "
        "cache, repeated calls read them from cache and the row says so):\n\n"
        "| device | shape | KV length | dtype q/kv | backend | K+V bytes | status | GB/s best | "
        "GB/s median | % of ceiling (best) | implementation / reason |\n"
        "|---|---|---:|---|---|---:|---|---:|---:|---|---|\n";
    for (const auto& [key, row] : rows) {
        out += row;
    }
    return out;
}

}  // namespace

std::string render_attention_section(const std::vector<StoredResult>& results) {
    return render_prefill(results) + render_decode(results);
}

}  // namespace assay
