#include "reports/compare/compare_render.hpp"

#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "reports/compare/projection.hpp"
#include "reports/escape.hpp"

namespace assay {
namespace {

// Markdown cells (C) and text (T): every name below comes from a store anyone can write.
std::string C(const std::string& s) {
    return escape::markdown_cell(s);
}
std::string T(const std::string& s) {
    return escape::markdown_text(s);
}

using nlohmann::ordered_json;

std::string or_unknown(const std::string& s) {
    return s.empty() ? "unknown" : s;
}

/// 6 significant digits: JSON and CSV numbers stay stable across libm last-bit differences.
double round6(double v) {
    if (!std::isfinite(v) || v == 0) {
        return v;
    }
    // strtod, not stod: a denormal result is a value, not an out_of_range exception.
    return std::strtod(fmt::format("{:.6g}", v).c_str(), nullptr);
}

std::string csv_number(double v) {
    return fmt::format("{:.6g}", v);
}

std::string host_label(const CompareModel& m, std::size_t host) {
    return host < m.hosts.size() ? m.hosts[host].label : "?";
}

std::string verdict_text(const std::optional<RatioCi>& r) {
    return r ? to_string(r->verdict) : "baseline";
}

/// "gpu-host cpu" style lane name of a family summary's compared side.
std::string summary_lane(const CompareModel& m, const FamilySummary& f) {
    return fmt::format("{} {} vs {} {}", C(host_label(m, f.host)), C(f.other_device),
                       C(host_label(m, m.baseline)), C(f.baseline_device));
}

std::string card_caches(const HostCard& c) {
    std::string out;
    for (const CompareCache& cc : c.caches) {
        if (!out.empty()) {
            out += ", ";
        }
        out += fmt::format("{} {} x{}", T(cc.name), bytes_text(static_cast<double>(cc.size_bytes)),
                           cc.instances);
    }
    return out.empty() ? "unknown" : out;
}

std::string card_gpus(const HostCard& c) {
    std::string out;
    for (const CompareGpu& g : c.gpus) {
        if (!out.empty()) {
            out += "; ";
        }
        out +=
            fmt::format("{}: {} ({} SMs, CC {}, {})", T(g.device), T(g.name), g.sm_count,
                        T(g.compute_capability), bytes_text(static_cast<double>(g.memory_bytes)));
    }
    return out.empty() ? "none" : out;
}

std::string isa_text(const HostCard& c) {
    std::string out;
    for (const std::string& f : c.isa_highlights) {
        out += (out.empty() ? "" : " ") + T(f);
    }
    if (c.sve_vector_bits) {
        out += fmt::format(" (SVE {} bits)", *c.sve_vector_bits);
    }
    return out.empty() ? "none notable" : out;
}

std::string price_text(const CompareHost& h) {
    if (h.usd_per_hour) {
        return fmt::format("${}/h from {}", compare_number(*h.usd_per_hour), T(h.price_source));
    }
    return T(h.price_source);
}

// ---------------------------------------------------------------------------------------------
// Markdown

void md_summary(const CompareModel& m, std::string& out) {
    out += fmt::format("Baseline: **{}**. Hosts: ", T(host_label(m, m.baseline)));
    for (std::size_t i = 0; i < m.hosts.size(); ++i) {
        out += fmt::format("{}{}", i == 0 ? "" : ", ", T(m.hosts[i].label));
    }
    out += fmt::format(". {} compared rows, {} cases not on every host.\n\n", m.rows.size(),
                       m.one_sided.size());
    // One summary line per compared lane pairing: verdict counts over its rows.
    std::map<std::tuple<std::size_t, std::string, std::string>, std::map<std::string, int>> counts;
    for (const CompareRow& r : m.rows) {
        for (const CompareCell& c : r.cells) {
            if (c.vs_baseline) {
                ++counts[{c.host, r.other_device, r.baseline_device}]
                        [to_string(c.vs_baseline->verdict)];
            }
        }
    }
    if (!counts.empty()) {
        out += "**Summary:**";
        bool first = true;
        for (const auto& [key, by_verdict] : counts) {
            const auto& [host, other, base] = key;
            auto n = [&](const char* v) {
                auto it = by_verdict.find(v);
                return it == by_verdict.end() ? 0 : it->second;
            };
            out += fmt::format("{} {} {} vs {} {}: {} FASTER, {} SLOWER, {} SAME, {} UNDECIDED",
                               first ? "" : ";", T(host_label(m, host)), T(other),
                               T(host_label(m, m.baseline)), T(base), n("FASTER"), n("SLOWER"),
                               n("SAME"), n("UNDECIDED"));
            first = false;
        }
        out += ".\n\n";
    }
}

void md_families(const CompareModel& m, std::string& out) {
    if (m.families.empty()) {
        return;
    }
    out += "## Geometric mean per family\n\n";
    out += "Ratio > 1 means better than the baseline (higher throughput or lower time).\n\n";
    out += "| Family | Compared | Rows | Geomean [95 % CI] | Verdict |\n";
    out += "|---|---|---:|---|---|\n";
    for (const FamilySummary& f : m.families) {
        out += fmt::format("| {} | {} | {} | {} | {} |\n", C(f.family), summary_lane(m, f), f.rows,
                           ratio_text(f.geomean), to_string(f.geomean.verdict));
    }
    out += "\n";
}

void md_rows(const CompareModel& m, std::string& out) {
    if (m.rows.empty()) {
        return;
    }
    out += "## Results\n\n";
    out += "Each host's best and median of the headline figure (best backend per device";
    out += m.per_backend ? ", one row per backend" : "";
    out += "); ratio = other / baseline medians, > 1 = better.\n\n";
    std::string header = "| Benchmark | Params | Devices | Unit |";
    std::string rule = "|---|---|---|---|";
    for (std::size_t i = 0; i < m.hosts.size(); ++i) {
        header += fmt::format(" {} best / median |", C(m.hosts[i].label));
        rule += "---|";
        if (i != m.baseline) {
            header += fmt::format(" {} ratio [95 % CI] | Verdict |", C(m.hosts[i].label));
            rule += "---|---|";
        }
    }
    out += header + "\n" + rule + "\n";
    for (const CompareRow& r : m.rows) {
        std::string line = fmt::format("| {} | {} | {} | {} |", C(r.benchmark), C(r.params),
                                       C(r.device_label), C(r.unit));
        for (std::size_t i = 0; i < m.hosts.size(); ++i) {
            const CompareCell* cell = nullptr;
            for (const CompareCell& c : r.cells) {
                if (c.host == i) {
                    cell = &c;
                }
            }
            if (cell == nullptr) {
                line += " - |";
                if (i != m.baseline) {
                    line += " - | - |";
                }
                continue;
            }
            line += fmt::format(" {} / {} ({}) |", compare_number(cell->best),
                                compare_number(cell->median), C(cell->backend));
            if (i != m.baseline) {
                line += cell->vs_baseline
                            ? fmt::format(" {} | {} |", ratio_text(*cell->vs_baseline),
                                          to_string(cell->vs_baseline->verdict))
                            : " - | - |";
            }
        }
        out += line + "\n";
    }
    out += "\n";
}

void md_one_sided(const CompareModel& m, std::string& out) {
    if (m.one_sided.empty()) {
        return;
    }
    out += "## Cases not run on every host\n\n";
    out += "| Benchmark | Params | Ran on | Missing on |\n|---|---|---|---|\n";
    for (const OneSidedCase& c : m.one_sided) {
        std::string ran, missing;
        for (const std::string& s : c.ran_on) {
            ran += (ran.empty() ? "" : ", ") + C(s);
        }
        for (const std::string& s : c.missing_on) {
            missing += (missing.empty() ? "" : ", ") + C(s);
        }
        out += fmt::format("| {} | {} | only on {} | {} |\n", C(c.benchmark), C(c.params), ran,
                           missing);
    }
    out += "\n";
}

void md_hosts(const CompareModel& m, std::string& out) {
    out += "## Hosts\n\n";
    for (const CompareHost& h : m.hosts) {
        const HostCard& c = h.card;
        out += fmt::format("### {}{}\n\n", T(h.label), h.baseline ? " (baseline)" : "");
        out += fmt::format("- Identity: hostname {}, instance type {}, fingerprint {}\n",
                           T(h.hostname), T(or_unknown(h.instance_type)),
                           T(h.fingerprint.substr(0, 12)));
        out += fmt::format("- CPU: {} ({}, {})\n", T(or_unknown(c.cpu_model)),
                           T(or_unknown(c.microarchitecture)), T(or_unknown(c.arch)));
        out += fmt::format(
            "- Topology: {} package(s), {} NUMA node(s), {} cores, {} PUs, {} memory\n", c.packages,
            c.numa_nodes, c.cores, c.pus,
            c.memory_bytes ? bytes_text(static_cast<double>(c.memory_bytes)) : "unknown");
        out += fmt::format("- Caches: {}\n", card_caches(c));
        out += fmt::format("- GPUs: {} ({})\n", card_gpus(c), T(c.gpu_note));
        out += fmt::format("- ISA: {}\n", isa_text(c));
        out += fmt::format(
            "- OS: {}, kernel {}, governor {}, THP {}, SMT {}, virtualization {}, container {}\n",
            T(or_unknown(c.os_release)), T(or_unknown(c.kernel)), T(or_unknown(c.cpu_governor)),
            T(or_unknown(c.thp_enabled)), T(or_unknown(c.smt_control)),
            T(or_unknown(c.virtualization)), T(or_unknown(c.container)));
        out += fmt::format("- Hardware counters: {} ({})\n",
                           c.hw_counters_usable ? "usable" : "not usable",
                           T(or_unknown(c.hw_counters_reason)));
        out += fmt::format("- Run: {} #{} ({}), suite {}, started {}; assay {} ({}), {} {}\n",
                           T(h.db_path), h.run_id, T(c.run_status), T(or_unknown(c.suite)),
                           T(c.run_started_at), T(or_unknown(c.tool_version)),
                           T(or_unknown(c.git_sha)), T(or_unknown(c.compiler)),
                           T(or_unknown(c.build_type)));
        out += fmt::format("- Price: {}\n\n", price_text(h));
        if (!c.ceilings.empty()) {
            out += "| Device | Ceiling | Value | Unit |\n|---|---|---:|---|\n";
            for (const CompareCeiling& ce : c.ceilings) {
                out += fmt::format("| {} | {} | {} | {} |\n", C(ce.device), C(ce.name),
                                   compare_number(ce.value), C(ce.unit));
            }
            out += "\n";
        } else {
            out += "No measured ceilings.\n\n";
        }
    }
}

void md_cost(const CompareModel& m, std::string& out) {
    out += "## Cost and energy\n\n";
    out +=
        "Per $: median throughput x 3600 / price per hour. Per W: median throughput / "
        "average power measured during the result (telemetry).\n\n";
    for (const CompareHost& h : m.hosts) {
        out += fmt::format("- {}: {}\n", T(h.label), price_text(h));
    }
    out += "\n| Host | Device | Benchmark | Params | Median | Unit | Power | Per $ | Per W |\n";
    out += "|---|---|---|---|---:|---|---:|---|---|\n";
    std::set<std::pair<std::size_t, std::int64_t>> seen_cells;
    for (const CompareRow& r : m.rows) {
        for (const CompareCell& c : r.cells) {
            if (!c.higher_is_better || !seen_cells.insert({c.host, c.result_id}).second) {
                continue;
            }
            out += fmt::format(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", C(host_label(m, c.host)),
                C(c.device), C(r.benchmark), C(r.params), compare_number(c.median), C(c.unit),
                c.power_w ? compare_number(*c.power_w) + " W" : "-",
                c.per_dollar ? compare_number(*c.per_dollar) + " " + C(c.per_dollar_unit)
                             : C(c.per_dollar_note),
                c.per_watt ? compare_number(*c.per_watt) + " " + C(c.per_watt_unit)
                           : C(c.per_watt_note));
        }
    }
    out += "\n";
}

void md_projections(const CompareModel& m, std::string& out) {
    if (m.projections.empty()) {
        return;
    }
    out += "## LLM serving projections (PROJECTION, not measured)\n\n";
    out += fmt::format(
        "- prefill tokens/s = GEMM ceiling of the weights' dtype / (2 x params)\n"
        "- decode tokens/s = DRAM bandwidth ceiling / (weight bytes + KV bytes read per token); "
        "KV bytes = 2 x layers x KV heads x head dim x 2 bytes x {} tokens of context, batch 1\n\n",
        kProjectionContextTokens);
    out +=
        "| Host | Device | Model | Weights | Prefill tokens/s | Decode tokens/s | Ceilings "
        "used | Note |\n|---|---|---|---|---:|---:|---|---|\n";
    for (const Projection& p : m.projections) {
        std::string used;
        if (!p.prefill_ceiling.empty()) {
            used += p.prefill_ceiling;
        }
        if (!p.decode_ceiling.empty()) {
            used += (used.empty() ? "" : "; ") + p.decode_ceiling;
        }
        out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |\n", C(host_label(m, p.host)),
                           C(p.device), C(p.model), C(p.weights),
                           p.prefill_tokens_per_s ? compare_number(*p.prefill_tokens_per_s)
                                                  : "skipped: " + C(p.prefill_skip),
                           p.decode_tokens_per_s ? compare_number(*p.decode_tokens_per_s)
                                                 : "skipped: " + C(p.decode_skip),
                           used.empty() ? "-" : C(used), p.note.empty() ? "-" : C(p.note));
    }
    out += "\n";
}

// ---------------------------------------------------------------------------------------------
// JSON

ordered_json ratio_json(const std::optional<RatioCi>& r) {
    if (!r) {
        return nullptr;
    }
    return {{"value", round6(r->ratio)},
            {"ci_low", round6(r->ci_low)},
            {"ci_high", round6(r->ci_high)},
            {"verdict", to_string(r->verdict)}};
}

ordered_json per_json(const std::optional<double>& v, const std::string& unit,
                      const std::string& note) {
    if (v) {
        return {{"value", round6(*v)}, {"unit", unit}};
    }
    return {{"value", nullptr}, {"note", note}};
}

ordered_json host_json(const CompareHost& h) {
    const HostCard& c = h.card;
    ordered_json caches = ordered_json::array();
    for (const CompareCache& cc : c.caches) {
        caches.push_back({{"name", cc.name},
                          {"size_bytes", cc.size_bytes},
                          {"instances", cc.instances},
                          {"cores_per_instance", cc.cores_per_instance}});
    }
    ordered_json gpus = ordered_json::array();
    for (const CompareGpu& g : c.gpus) {
        gpus.push_back({{"device", g.device},
                        {"name", g.name},
                        {"memory_bytes", g.memory_bytes},
                        {"sm_count", g.sm_count},
                        {"compute_capability", g.compute_capability}});
    }
    ordered_json ceilings = ordered_json::array();
    for (const CompareCeiling& ce : c.ceilings) {
        ceilings.push_back({{"device", ce.device},
                            {"name", ce.name},
                            {"value", round6(ce.value)},
                            {"unit", ce.unit},
                            {"basis", ce.basis}});
    }
    return {
        {"label", h.label},
        {"hostname", h.hostname},
        {"fingerprint", h.fingerprint},
        {"instance_type", h.instance_type},
        {"baseline", h.baseline},
        {"db", h.db_path},
        {"run",
         {{"id", h.run_id},
          {"uuid", h.run_uuid},
          {"status", c.run_status},
          {"started_at", c.run_started_at},
          {"suite", c.suite}}},
        {"price",
         h.usd_per_hour
             ? ordered_json{{"usd_per_hour", round6(*h.usd_per_hour)}, {"source", h.price_source}}
             : ordered_json{{"usd_per_hour", nullptr}, {"note", h.price_source}}},
        {"cpu",
         {{"model", c.cpu_model},
          {"microarchitecture", c.microarchitecture},
          {"arch", c.arch},
          {"isa_highlights", c.isa_highlights},
          {"sve_vector_bits",
           c.sve_vector_bits ? ordered_json(*c.sve_vector_bits) : ordered_json(nullptr)}}},
        {"topology",
         {{"packages", c.packages},
          {"numa_nodes", c.numa_nodes},
          {"cores", c.cores},
          {"pus", c.pus},
          {"memory_bytes", c.memory_bytes},
          {"caches", caches}}},
        {"gpus", gpus},
        {"gpu_note", c.gpu_note},
        {"os",
         {{"release", c.os_release},
          {"kernel", c.kernel},
          {"governor", c.cpu_governor},
          {"thp", c.thp_enabled},
          {"smt", c.smt_control},
          {"virtualization", c.virtualization},
          {"container", c.container}}},
        {"hw_counters", {{"usable", c.hw_counters_usable}, {"reason", c.hw_counters_reason}}},
        {"provenance",
         {{"tool_version", c.tool_version},
          {"git_sha", c.git_sha},
          {"compiler", c.compiler},
          {"build_type", c.build_type}}},
        {"ceilings", ceilings},
    };
}

}  // namespace

CompareFormat compare_format_from_string(const std::string& s) {
    if (s == "md" || s == "markdown") {
        return CompareFormat::markdown;
    }
    if (s == "csv") {
        return CompareFormat::csv;
    }
    if (s == "json") {
        return CompareFormat::json;
    }
    if (s == "html") {
        return CompareFormat::html;
    }
    throw UsageError(
        fmt::format("unknown compare format '{}' (expected md, csv, json or html)", s));
}

std::string compare_number(double v) {
    if (!std::isfinite(v)) {
        return "n/a";
    }
    const double a = std::fabs(v);
    if (a != 0 && (a < 1e-3 || a >= 1e7)) {
        return fmt::format("{:.3e}", v);
    }
    std::string s = fmt::format("{:.4g}", v);
    if (s.find('e') != std::string::npos) {
        // {:.4g} switches to an exponent from 1e4 up; print those as integers.
        s = fmt::format("{:.0f}", v);
    }
    return s;
}

std::string ratio_text(const RatioCi& r) {
    if (r.ratio == 0) {
        return "-";
    }
    return fmt::format("{} [{}, {}]", compare_number(r.ratio), compare_number(r.ci_low),
                       compare_number(r.ci_high));
}

std::string bytes_text(double bytes) {
    static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    std::size_t u = 0;
    while (bytes >= 1024 && u + 1 < std::size(kUnits)) {
        bytes /= 1024;
        ++u;
    }
    return fmt::format("{:.4g} {}", bytes, kUnits[u]);
}

std::string render_compare_markdown(const CompareModel& m) {
    std::string out = "# Assay comparison\n\n";
    out += fmt::format("Generated {} from {}. Schema {}.\n\n", m.generated_at,
                       fmt::join(m.db_paths, ", "), m.schema);
    md_summary(m, out);
    for (const std::string& n : m.notes) {
        out += fmt::format("> Note: {}\n", T(n));
    }
    if (!m.notes.empty()) {
        out += "\n";
    }
    md_families(m, out);
    md_rows(m, out);
    md_one_sided(m, out);
    md_hosts(m, out);
    md_cost(m, out);
    md_projections(m, out);
    out += "## Method\n\n";
    out += fmt::format(
        "Each row compares one case (benchmark and parameters; a whole-device placement is "
        "ignored so CPU and GPU results meet). Ratio = ratio of the headline medians, inverted for "
        "lower-is-better figures, so > 1 always means better than the baseline. CI: {:.0f} % "
        "percentile bootstrap over each host's raw samples, {} resamples, seed {}. Verdict: "
        "SAME "
        "when the CI lies within +/-{:.0f} %, FASTER when its lower bound is above 1, SLOWER when "
        "its upper bound is below 1, else UNDECIDED.{}\n",
        100 * m.confidence, m.bootstrap_resamples, m.bootstrap_seed, 100 * m.same_margin,
        m.family_filter.empty() ? std::string{}
                                : fmt::format(" Families matching '{}' only.", m.family_filter));
    return out;
}

std::string render_compare_csv(const CompareModel& m) {
    std::string out =
        "family,benchmark,params,baseline_device,other_device,host,hostname,fingerprint,run_id,"
        "is_baseline,device,backend,quantity,unit,higher_is_better,best,median,rel_iqr,samples,"
        "ratio,ci_low,ci_high,verdict,power_w,per_dollar,per_dollar_unit,per_watt,per_watt_unit,"
        "cost_note\n";
    for (const CompareRow& r : m.rows) {
        for (const CompareCell& c : r.cells) {
            const CompareHost& h = m.hosts[c.host];
            std::string note;
            if (!c.per_dollar) {
                note = c.per_dollar_note;
            }
            if (!c.per_watt && c.per_watt_note != note) {
                note += (note.empty() ? "" : "; ") + c.per_watt_note;
            }
            const std::vector<std::string> fields = {
                r.family,
                r.benchmark,
                r.params,
                r.baseline_device,
                r.other_device,
                h.label,
                h.hostname,
                h.fingerprint,
                std::to_string(h.run_id),
                h.baseline ? "1" : "0",
                c.device,
                c.backend,
                c.quantity,
                c.unit,
                c.higher_is_better ? "1" : "0",
                csv_number(c.best),
                csv_number(c.median),
                csv_number(c.rel_iqr),
                std::to_string(c.samples),
                c.vs_baseline ? csv_number(c.vs_baseline->ratio) : "",
                c.vs_baseline ? csv_number(c.vs_baseline->ci_low) : "",
                c.vs_baseline ? csv_number(c.vs_baseline->ci_high) : "",
                verdict_text(c.vs_baseline),
                c.power_w ? csv_number(*c.power_w) : "",
                c.per_dollar ? csv_number(*c.per_dollar) : "",
                c.per_dollar_unit,
                c.per_watt ? csv_number(*c.per_watt) : "",
                c.per_watt_unit,
                note,
            };
            std::string line;
            for (std::size_t i = 0; i < fields.size(); ++i) {
                line += (i == 0 ? "" : ",") + escape::csv_field(fields[i]);
            }
            out += line + "\n";
        }
    }
    return out;
}

std::string render_compare_json(const CompareModel& m) {
    ordered_json doc;
    doc["schema"] = m.schema;
    doc["generated_at"] = m.generated_at;
    doc["stores"] = m.db_paths;
    doc["baseline"] = host_label(m, m.baseline);
    doc["settings"] = {
        {"per_backend", m.per_backend},       {"family_filter", m.family_filter},
        {"price_table", m.price_table},       {"bootstrap_resamples", m.bootstrap_resamples},
        {"bootstrap_seed", m.bootstrap_seed}, {"confidence", m.confidence},
        {"same_margin", m.same_margin}};
    doc["hosts"] = ordered_json::array();
    for (const CompareHost& h : m.hosts) {
        doc["hosts"].push_back(host_json(h));
    }
    doc["lanes"] = ordered_json::array();
    for (const CompareLane& l : m.lanes) {
        doc["lanes"].push_back(
            {{"host", host_label(m, l.host)}, {"device", l.device}, {"label", l.label}});
    }
    doc["families"] = ordered_json::array();
    for (const FamilySummary& f : m.families) {
        doc["families"].push_back({{"family", f.family},
                                   {"host", host_label(m, f.host)},
                                   {"baseline_device", f.baseline_device},
                                   {"other_device", f.other_device},
                                   {"devices", f.device_label},
                                   {"rows", f.rows},
                                   {"geomean", ratio_json(f.geomean)}});
    }
    doc["rows"] = ordered_json::array();
    for (const CompareRow& r : m.rows) {
        ordered_json cells = ordered_json::array();
        for (const CompareCell& c : r.cells) {
            cells.push_back(
                {{"host", host_label(m, c.host)},
                 {"device", c.device},
                 {"backend", c.backend},
                 {"params", c.benchmark_params},
                 {"result_id", c.result_id},
                 {"quantity", c.quantity},
                 {"unit", c.unit},
                 {"higher_is_better", c.higher_is_better},
                 {"best", round6(c.best)},
                 {"median", round6(c.median)},
                 {"rel_iqr", round6(c.rel_iqr)},
                 {"samples", c.samples},
                 {"vs_baseline", ratio_json(c.vs_baseline)},
                 {"power_w", c.power_w ? ordered_json(round6(*c.power_w)) : ordered_json(nullptr)},
                 {"per_dollar", per_json(c.per_dollar, c.per_dollar_unit, c.per_dollar_note)},
                 {"per_watt", per_json(c.per_watt, c.per_watt_unit, c.per_watt_note)}});
        }
        doc["rows"].push_back({{"family", r.family},
                               {"benchmark", r.benchmark},
                               {"params", r.params},
                               {"baseline_device", r.baseline_device},
                               {"other_device", r.other_device},
                               {"devices", r.device_label},
                               {"quantity", r.quantity},
                               {"unit", r.unit},
                               {"cells", cells}});
    }
    doc["one_sided"] = ordered_json::array();
    for (const OneSidedCase& c : m.one_sided) {
        doc["one_sided"].push_back({{"family", c.family},
                                    {"benchmark", c.benchmark},
                                    {"params", c.params},
                                    {"ran_on", c.ran_on},
                                    {"missing_on", c.missing_on}});
    }
    doc["curves"] = ordered_json::array();
    for (const Curve& c : m.curves) {
        ordered_json pts = ordered_json::array();
        for (const CurvePoint& p : c.points) {
            pts.push_back({{"working_set_bytes", round6(p.working_set_bytes)},
                           {"median", round6(p.value)},
                           {"best", round6(p.best)},
                           {"level", p.level}});
        }
        doc["curves"].push_back({{"host", host_label(m, c.host)},
                                 {"device", c.device},
                                 {"kind", c.kind},
                                 {"series", c.series},
                                 {"unit", c.unit},
                                 {"points", pts}});
    }
    doc["cache_boundaries"] = ordered_json::array();
    for (const CacheBoundary& b : m.cache_boundaries) {
        doc["cache_boundaries"].push_back(
            {{"host", host_label(m, b.host)}, {"name", b.name}, {"size_bytes", b.size_bytes}});
    }
    doc["rooflines"] = ordered_json::array();
    for (const Roofline& r : m.rooflines) {
        auto ceilings = [](const std::vector<RooflineCeiling>& v) {
            ordered_json a = ordered_json::array();
            for (const RooflineCeiling& c : v) {
                a.push_back({{"name", c.name},
                             {"label", c.label},
                             {"value", round6(c.value)},
                             {"unit", c.unit}});
            }
            return a;
        };
        ordered_json pts = ordered_json::array();
        for (const RooflinePoint& p : r.points) {
            pts.push_back({{"benchmark", p.benchmark},
                           {"params", p.params},
                           {"backend", p.backend},
                           {"dtype", p.dtype},
                           {"arithmetic_intensity", round6(p.arithmetic_intensity)},
                           {"gflop_per_s", round6(p.gflop_per_s)}});
        }
        doc["rooflines"].push_back({{"host", host_label(m, r.host)},
                                    {"device", r.device},
                                    {"compute", ceilings(r.compute)},
                                    {"bandwidth", ceilings(r.bandwidth)},
                                    {"points", pts}});
    }
    doc["gemm_efficiency"] = ordered_json::array();
    for (const GemmEfficiencyPoint& e : m.gemm_efficiency) {
        doc["gemm_efficiency"].push_back(
            {{"host", host_label(m, e.host)},
             {"device", e.device},
             {"backend", e.backend},
             {"dtype", e.dtype},
             {"shape", e.shape},
             {"flops", round6(e.flops)},
             {"gflop_per_s", round6(e.gflop_per_s)},
             {"fraction_of_ceiling", e.fraction_of_ceiling
                                         ? ordered_json(round6(*e.fraction_of_ceiling))
                                         : ordered_json(nullptr)}});
    }
    doc["projections"] = ordered_json::array();
    for (const Projection& p : m.projections) {
        doc["projections"].push_back(
            {{"label", "PROJECTION"},
             {"host", host_label(m, p.host)},
             {"device", p.device},
             {"model", p.model},
             {"weights", p.weights},
             {"params", round6(p.params)},
             {"context_tokens", p.context_tokens},
             {"batch", p.batch},
             {"weight_bytes", round6(p.weight_bytes)},
             {"kv_bytes_per_token_read", round6(p.kv_bytes_per_token_read)},
             {"prefill",
              {{"tokens_per_s", p.prefill_tokens_per_s
                                    ? ordered_json(round6(*p.prefill_tokens_per_s))
                                    : ordered_json(nullptr)},
               {"formula", p.prefill_formula},
               {"ceiling", p.prefill_ceiling},
               {"skipped", p.prefill_skip}}},
             {"decode",
              {{"tokens_per_s", p.decode_tokens_per_s ? ordered_json(round6(*p.decode_tokens_per_s))
                                                      : ordered_json(nullptr)},
               {"formula", p.decode_formula},
               {"ceiling", p.decode_ceiling},
               {"skipped", p.decode_skip}}},
             {"note", p.note}});
    }
    doc["notes"] = m.notes;
    return doc.dump(2, ' ', false, ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace assay
