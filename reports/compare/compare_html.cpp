#include "reports/compare/compare_html.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>
#include <map>
#include <set>
#include <tuple>

#include "reports/compare/compare_render.hpp"
#include "reports/compare/svg_chart.hpp"
#include "reports/escape.hpp"

namespace assay {
namespace {

template <typename... Args>
void put(std::string& out, fmt::format_string<Args...> format, Args&&... args) {
    fmt::vformat_to(std::back_inserter(out), format, fmt::make_format_args(args...));
}

std::string esc(const std::string& s) {
    return escape::html_text(s);
}

/// Shown for empty fields: the model never guesses, so an empty string means "not known".
std::string or_unknown(const std::string& s) {
    return s.empty() ? "unknown" : s;
}

/// An element id from arbitrary text: [A-Za-z0-9_-] kept, everything else '-'.
std::string id_part(const std::string& s) {
    std::string out;
    for (char c : s) {
        const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '_' || c == '-';
        out += keep ? c : '-';
    }
    return out.empty() ? "x" : out;
}

svg::Tone tone_of(CompareVerdict v) {
    switch (v) {
        case CompareVerdict::faster:
            return svg::Tone::faster;
        case CompareVerdict::slower:
            return svg::Tone::slower;
        case CompareVerdict::same:
            return svg::Tone::same;
        case CompareVerdict::undecided:
            return svg::Tone::undecided;
    }
    return svg::Tone::neutral;
}

std::string verdict_badge(CompareVerdict v) {
    return fmt::format("<span class=\"verdict verdict-{}\">{}</span>", svg::tone_name(tone_of(v)),
                       to_string(v));
}

/// A numeric table cell: the shared formatting for the text, the raw value for sorting.
std::string num_cell(double v, const std::string& suffix = "") {
    return fmt::format("<td class=\"num\" data-sort=\"{}\">{}{}</td>",
                       std::isfinite(v) ? fmt::format("{:.17g}", v) : "", esc(compare_number(v)),
                       esc(suffix));
}

std::string text_cell(const std::string& s) {
    return "<td>" + esc(s) + "</td>";
}

std::string na_cell(const std::string& reason) {
    return "<td class=\"na\" data-sort=\"\">" + esc(reason) + "</td>";
}

std::string host_label(const CompareModel& m, std::size_t host) {
    return host < m.hosts.size() ? m.hosts[host].label : fmt::format("host {}", host);
}

std::string case_label(const CompareRow& r) {
    std::string s = r.benchmark;
    if (!r.params.empty()) {
        s += " " + r.params;
    }
    return s;
}

/// "k=v,k=v" -> pairs (canonical params never contain ',' inside a value).
std::vector<std::pair<std::string, std::string>> split_params(const std::string& params) {
    std::vector<std::pair<std::string, std::string>> out;
    std::size_t start = 0;
    while (start < params.size()) {
        std::size_t end = params.find(',', start);
        if (end == std::string::npos) {
            end = params.size();
        }
        const std::string item = params.substr(start, end - start);
        const std::size_t eq = item.find('=');
        out.emplace_back(item.substr(0, eq), eq == std::string::npos ? "" : item.substr(eq + 1));
        start = end + 1;
    }
    return out;
}

/// A param value for a bar label: byte counts as "1M"/"32K" (the tooltip keeps the exact value).
std::string short_value(const std::string& key, const std::string& value) {
    const bool bytes_key =
        key == "bytes" || (key.size() > 6 && key.compare(key.size() - 6, 6, "_bytes") == 0);
    if (!bytes_key || value.empty() || value.find_first_not_of("0123456789") != std::string::npos ||
        value.size() > 18) {
        return value;
    }
    return svg::format_bytes_short(std::stod(value));
}

/// Short bar labels for one chart's rows: the benchmark without its family prefix, only the
/// params whose values differ between rows of the same benchmark, and the devices. The full
/// case stays in the tooltip; long identical prefixes would otherwise make labels look alike.
std::vector<std::string> short_labels(const std::vector<const CompareRow*>& rows) {
    // benchmark -> key -> distinct values (a key absent from a row counts as the value "").
    std::map<std::string, std::map<std::string, std::set<std::string>>> values;
    std::map<std::string, std::size_t> rows_of;
    for (const CompareRow* r : rows) {
        rows_of[r->benchmark] += 1;
        for (const auto& [k, v] : split_params(r->params)) {
            values[r->benchmark][k].insert(v);
        }
    }
    std::vector<std::string> out;
    for (const CompareRow* r : rows) {
        std::string name = r->benchmark;
        if (name.rfind(r->family + ".", 0) == 0 && name.size() > r->family.size() + 1) {
            name = name.substr(r->family.size() + 1);
        }
        std::vector<std::string> parts;
        if (rows_of.size() > 1 || rows_of[r->benchmark] == 1) {
            parts.push_back(name);
        }
        for (const auto& [k, v] : split_params(r->params)) {
            if (values[r->benchmark][k].size() > 1) {
                parts.push_back(k + "=" + short_value(k, v));
            }
        }
        if (parts.empty()) {
            parts.push_back(name);  // rows differ only by device: still name the case
        }
        out.push_back(fmt::format("{} [{}]", fmt::join(parts, " "), r->device_label));
    }
    return out;
}

constexpr std::array<CompareVerdict, 4> kVerdicts = {CompareVerdict::faster, CompareVerdict::slower,
                                                     CompareVerdict::same,
                                                     CompareVerdict::undecided};

// ---------------------------------------------------------------------------------------------
// Page frame

constexpr const char* kCss = R"css(
:root{--fg:#1b1b1b;--muted:#5a5a5a;--line:#d4d4d4;--head:#f2f4f7;--faster:#0072B2;
--slower:#D55E00;--same:#8c8c8c;--undecided:#E69F00}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);
margin:0 auto;max-width:1400px;padding:12px 24px 48px;line-height:1.4;font-size:15px}
header h1{font-size:1.7em;margin:.3em 0}
h2{font-size:1.3em;border-bottom:2px solid var(--line);padding-bottom:4px;margin-top:2em}
h3{font-size:1.08em;margin:1.2em 0 .4em}
p.meta,.note,figcaption{color:var(--muted);font-size:.92em}
nav.toc{font-size:.92em;margin:.5em 0 1em}
nav.toc a{margin-right:1em;white-space:nowrap}
.table-wrap{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:13px;margin:6px 0 12px}
th,td{border:1px solid var(--line);padding:3px 7px;text-align:left;vertical-align:top}
thead th{background:var(--head);font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.na{color:var(--muted);font-style:italic;white-space:nowrap;font-size:.92em}
td.case{min-width:300px;max-width:480px;overflow-wrap:anywhere}
table.sortable thead th{cursor:pointer;user-select:none}
table.sortable thead th::after{content:" \2195";color:#aaa;font-size:.85em}
table.sortable thead th[aria-sort=ascending]::after{content:" \25B2";color:var(--fg)}
table.sortable thead th[aria-sort=descending]::after{content:" \25BC";color:var(--fg)}
.verdict{font-weight:600;font-size:.85em;padding:1px 5px;border-radius:3px;color:#fff;
white-space:nowrap}
.verdict-faster{background:var(--faster)}.verdict-slower{background:var(--slower)}
.verdict-same{background:var(--same)}.verdict-undecided{background:var(--undecided);color:#000}
.badge{font-size:.75em;font-weight:700;padding:1px 6px;border-radius:3px;vertical-align:middle;
background:#222;color:#fff}
.badge-projection{background:var(--undecided);color:#000}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:16px}
.card{border:1px solid var(--line);border-radius:6px;padding:10px 14px;background:#fcfcfd}
.card h3{margin-top:.2em}
.card dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0 0 8px;
font-size:.92em}
table.ceilings{font-size:12px}table.ceilings td:last-child{color:var(--muted)}
.card dt{color:var(--muted)}.card dd{margin:0;overflow-wrap:anywhere}
figure{margin:10px 0 22px}
svg.chart{display:block;width:100%;max-width:1100px;height:auto}
.formula{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
.projection-box{border-left:4px solid var(--undecided);padding:2px 12px;background:#fffaf0}
@media print{
body{max-width:none;padding:0;font-size:11px}
nav.toc{display:none}
.table-wrap{overflow:visible}
table{font-size:9.5px}
table.sortable thead th::after{content:""}
h2{break-after:avoid}
figure,.card,tr{break-inside:avoid}
.cards{grid-template-columns:1fr 1fr}
.verdict,.badge{-webkit-print-color-adjust:exact;print-color-adjust:exact}
a{color:inherit;text-decoration:none}
}
)css";

// Sortable tables: click (or Enter/Space on) a header. Numeric cells sort by data-sort (the raw
// value); empty data-sort (n/a) sorts last. The last line marks the page as scripted so tests
// can tell the script ran to the end.
constexpr const char* kScript = R"js(
(function(){
function key(td){if(!td)return null;var v=td.getAttribute('data-sort');
if(v===null)return td.textContent.trim().toLowerCase();if(v==='')return null;
var n=Number(v);return isNaN(n)?v.toLowerCase():n;}
function cmp(a,b){if(a===b)return 0;if(a===null)return 1;if(b===null)return -1;
if(typeof a==='number'&&typeof b==='number')return a-b;
if(typeof a==='number')return -1;if(typeof b==='number')return 1;return a.localeCompare(b);}
function sortBy(table,th,col){var asc=th.getAttribute('aria-sort')!=='ascending';
table.querySelectorAll('thead th').forEach(function(h){h.removeAttribute('aria-sort');});
th.setAttribute('aria-sort',asc?'ascending':'descending');var body=table.tBodies[0];
var rows=Array.prototype.slice.call(body.rows);rows.sort(function(r1,r2){
var a=key(r1.cells[col]),b=key(r2.cells[col]);if(a===null||b===null)return cmp(a,b);
return asc?cmp(a,b):cmp(b,a);});rows.forEach(function(r){body.appendChild(r);});}
document.querySelectorAll('table.sortable').forEach(function(table){
table.querySelectorAll('thead th').forEach(function(th,col){th.tabIndex=0;
th.setAttribute('title','sort by this column');
th.addEventListener('click',function(){sortBy(table,th,col);});
th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();
sortBy(table,th,col);}});});});
document.documentElement.setAttribute('data-script','ready');
})();
)js";

void page_head(std::string& out, const CompareModel& m) {
    std::string title = "Assay comparison";
    if (!m.hosts.empty()) {
        std::vector<std::string> names;
        for (const CompareHost& h : m.hosts) {
            names.push_back(h.label);
        }
        title += ": " + fmt::format("{}", fmt::join(names, " vs "));
    }
    put(out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
        "<meta name=\"generator\" content=\"assay report compare\"/>\n"
        "<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n",
        esc(title), kCss);
    put(out, "<header>\n<h1>{}</h1>\n", esc(title));
    put(out,
        "<p class=\"meta\">Generated {} from {} &#183; schema {} &#183; baseline <b>{}</b></p>\n",
        esc(or_unknown(m.generated_at)),
        esc(m.db_paths.empty() ? std::string("(no store)")
                               : fmt::format("{}", fmt::join(m.db_paths, ", "))),
        esc(m.schema), esc(host_label(m, m.baseline)));
    out +=
        "<nav class=\"toc\"><a href=\"#summary\">Summary</a><a href=\"#hosts\">Hosts</a>"
        "<a href=\"#ratios\">Ratios</a><a href=\"#families\">Families</a><a "
        "href=\"#rows\">All rows</a><a href=\"#curves\">Memory curves</a><a "
        "href=\"#rooflines\">Rooflines</a><a href=\"#gemm-efficiency\">GEMM efficiency</a><a "
        "href=\"#cost\">Cost &amp; energy</a><a href=\"#projections\">LLM projections</a></nav>\n"
        "</header>\n<main>\n";
}

// ---------------------------------------------------------------------------------------------
// Sections

void summary_section(std::string& out, const CompareModel& m) {
    out += "<section id=\"summary\">\n<h2>Summary</h2>\n";
    put(out,
        "<p>Ratios are <i>other / baseline</i>, oriented so that &gt; 1 is better than the "
        "baseline, with a {}% percentile-bootstrap confidence interval ({} resamples, seed {}). "
        "Verdict: SAME when the interval lies within 1 &#177; {}, FASTER / SLOWER when it "
        "excludes 1, otherwise UNDECIDED.</p>\n",
        esc(compare_number(m.confidence * 100)), m.bootstrap_resamples, m.bootstrap_seed,
        esc(compare_number(m.same_margin)));
    out +=
        "<div class=\"table-wrap\"><table id=\"hosts-table\" class=\"sortable\"><thead><tr>"
        "<th>host</th><th>role</th><th>hostname</th><th>instance type</th><th>CPU</th>"
        "<th>cores</th><th>GPUs</th><th>run</th><th>price</th></tr></thead><tbody>\n";
    for (const CompareHost& h : m.hosts) {
        std::vector<std::string> gpus;
        for (const CompareGpu& g : h.card.gpus) {
            gpus.push_back(g.name);
        }
        out += "<tr>" + text_cell(h.label) + text_cell(h.baseline ? "baseline" : "compared") +
               text_cell(h.hostname) + text_cell(or_unknown(h.instance_type)) +
               text_cell(or_unknown(h.card.cpu_model)) +
               fmt::format("<td class=\"num\" data-sort=\"{0}\">{0}</td>", h.card.cores) +
               text_cell(gpus.empty() ? "none" : fmt::format("{}", fmt::join(gpus, ", "))) +
               text_cell(fmt::format("#{} {} ({})", h.run_id, or_unknown(h.card.run_started_at),
                                     or_unknown(h.card.run_status)));
        if (h.usd_per_hour) {
            out += num_cell(*h.usd_per_hour, " $/h");
        } else {
            out += na_cell(h.price_source.empty() ? "n/a (no price)" : h.price_source);
        }
        out += "</tr>\n";
    }
    out += "</tbody></table></div>\n";

    // Verdict counts per compared host, over every row it has a ratio in.
    std::map<std::size_t, std::array<std::size_t, 4>> counts;
    for (const CompareRow& r : m.rows) {
        for (const CompareCell& c : r.cells) {
            if (c.vs_baseline && c.vs_baseline->ratio > 0) {
                counts[c.host][static_cast<std::size_t>(c.vs_baseline->verdict)] += 1;
            }
        }
    }
    out +=
        "<h3>Verdicts</h3>\n<div class=\"table-wrap\"><table id=\"verdict-table\"><thead><tr>"
        "<th>compared host</th><th>vs baseline</th>";
    for (CompareVerdict v : kVerdicts) {
        out += "<th>" + verdict_badge(v) + "</th>";
    }
    out += "<th>rows</th><th>only one side</th></tr></thead><tbody>\n";
    for (std::size_t h = 0; h < m.hosts.size(); ++h) {
        if (h == m.baseline) {
            continue;
        }
        const auto it = counts.find(h);
        std::size_t total = 0;
        out += "<tr>" + text_cell(host_label(m, h)) + text_cell(host_label(m, m.baseline));
        for (CompareVerdict v : kVerdicts) {
            const std::size_t n = it == counts.end() ? 0 : it->second[static_cast<std::size_t>(v)];
            total += n;
            put(out, "<td class=\"num\">{}</td>", n);
        }
        put(out, "<td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n", total,
            m.one_sided.size());
    }
    out += "</tbody></table></div>\n";
    if (m.hosts.size() < 2) {
        out += "<p class=\"note\">Fewer than two hosts selected: no ratios.</p>\n";
    }
    if (!m.notes.empty()) {
        out += "<h3>Notes</h3>\n<ul class=\"notes\">\n";
        for (const std::string& n : m.notes) {
            out += "<li>" + esc(n) + "</li>\n";
        }
        out += "</ul>\n";
    }
    out += "</section>\n";
}

void dl_item(std::string& out, const std::string& term, const std::string& value) {
    out += "<dt>" + esc(term) + "</dt><dd>" + esc(value) + "</dd>\n";
}

void host_cards_section(std::string& out, const CompareModel& m) {
    out += "<section id=\"hosts\">\n<h2>Host cards</h2>\n<div class=\"cards\">\n";
    for (std::size_t i = 0; i < m.hosts.size(); ++i) {
        const CompareHost& h = m.hosts[i];
        const HostCard& c = h.card;
        put(out, "<article class=\"card\" id=\"host-{}\">\n<h3>{}{}</h3>\n<dl>\n", i, esc(h.label),
            h.baseline ? " <span class=\"badge\">baseline</span>" : "");
        dl_item(out, "CPU",
                fmt::format("{} ({}, {})", or_unknown(c.cpu_model), or_unknown(c.microarchitecture),
                            or_unknown(c.arch)));
        dl_item(out, "topology",
                fmt::format("{} package(s), {} NUMA node(s), {} cores, {} hardware threads, {} "
                            "memory",
                            c.packages, c.numa_nodes, c.cores, c.pus,
                            c.memory_bytes > 0 ? bytes_text(static_cast<double>(c.memory_bytes))
                                               : std::string("unknown")));
        std::vector<std::string> caches;
        for (const CompareCache& cc : c.caches) {
            caches.push_back(fmt::format("{} {} x {} ({} core(s) each)", cc.name,
                                         bytes_text(static_cast<double>(cc.size_bytes)),
                                         cc.instances, cc.cores_per_instance));
        }
        dl_item(out, "caches",
                caches.empty() ? "unknown" : fmt::format("{}", fmt::join(caches, "; ")));
        std::vector<std::string> gpus;
        for (const CompareGpu& g : c.gpus) {
            gpus.push_back(fmt::format("{}: {} ({} memory, {} SMs, cc {})", g.device, g.name,
                                       bytes_text(static_cast<double>(g.memory_bytes)), g.sm_count,
                                       or_unknown(g.compute_capability)));
        }
        std::string gpu_text = gpus.empty() ? "none" : fmt::format("{}", fmt::join(gpus, "; "));
        if (!c.gpu_note.empty()) {
            gpu_text += " — " + c.gpu_note;
        }
        dl_item(out, "GPUs", gpu_text);
        std::string isa = c.isa_highlights.empty()
                              ? std::string("unknown")
                              : fmt::format("{}", fmt::join(c.isa_highlights, ", "));
        if (c.sve_vector_bits) {
            isa += fmt::format(" (SVE {} bits)", *c.sve_vector_bits);
        }
        dl_item(out, "ISA", isa);
        dl_item(out, "OS",
                fmt::format("{}, kernel {}", or_unknown(c.os_release), or_unknown(c.kernel)));
        dl_item(out, "settings",
                fmt::format("governor {}, THP {}, SMT {}, virtualization {}, container {}",
                            or_unknown(c.cpu_governor), or_unknown(c.thp_enabled),
                            or_unknown(c.smt_control), or_unknown(c.virtualization),
                            or_unknown(c.container)));
        dl_item(out, "HW counters",
                fmt::format("{}{}", c.hw_counters_usable ? "usable" : "not usable",
                            c.hw_counters_reason.empty() ? "" : " (" + c.hw_counters_reason + ")"));
        dl_item(out, "provenance",
                fmt::format("assay {} ({}), {} {}, suite {}", or_unknown(c.tool_version),
                            or_unknown(c.git_sha), or_unknown(c.compiler), or_unknown(c.build_type),
                            or_unknown(c.suite)));
        dl_item(out, "run",
                fmt::format("#{} {} — {} to {} ({})", h.run_id, h.run_uuid,
                            or_unknown(c.run_started_at), or_unknown(c.run_finished_at),
                            or_unknown(c.run_status)));
        dl_item(out, "store", or_unknown(h.db_path));
        dl_item(out, "fingerprint", or_unknown(h.fingerprint.substr(0, 16)));
        dl_item(out, "price",
                h.usd_per_hour
                    ? fmt::format("{} $/h — {}", compare_number(*h.usd_per_hour), h.price_source)
                    : (h.price_source.empty() ? "n/a (no price)" : h.price_source));
        out += "</dl>\n";
        if (c.ceilings.empty()) {
            out += "<p class=\"note\">No measured ceilings.</p>\n";
        } else {
            put(out,
                "<div class=\"table-wrap\"><table class=\"ceilings sortable\" "
                "id=\"ceilings-{}\"><thead><tr><th>device</th><th>ceiling</th><th>value</th>"
                "<th>unit</th><th>basis</th></tr></thead><tbody>\n",
                i);
            for (const CompareCeiling& ce : c.ceilings) {
                out += "<tr>" + text_cell(ce.device) + text_cell(ce.name) + num_cell(ce.value) +
                       text_cell(ce.unit) + text_cell(ce.basis) + "</tr>\n";
            }
            out += "</tbody></table></div>\n";
        }
        out += "</article>\n";
    }
    out += "</div>\n</section>\n";
}

void ratio_section(std::string& out, const CompareModel& m) {
    out += "<section id=\"ratios\">\n<h2>Ratios to the baseline, per family</h2>\n";
    out +=
        "<p class=\"note\">Bars run from 1 (same as the baseline) to each row's ratio on a log "
        "scale; whiskers are the confidence interval. Right of 1 = better than the baseline. Hover "
        "a bar for the full case.</p>\n";
    // (family, compared host) -> rows and cells, in row order.
    using Key = std::tuple<std::string, std::size_t>;
    std::map<Key, std::vector<std::pair<const CompareRow*, const CompareCell*>>> charts;
    std::vector<Key> order;
    for (const CompareRow& r : m.rows) {
        for (const CompareCell& c : r.cells) {
            if (!c.vs_baseline) {
                continue;
            }
            const Key key{r.family, c.host};
            if (charts.find(key) == charts.end()) {
                order.push_back(key);
            }
            charts[key].emplace_back(&r, &c);
        }
    }
    if (order.empty()) {
        out +=
            "<p class=\"note\">No row has a ratio (fewer than two hosts, or no case in "
            "common).</p>\n";
    }
    std::size_t n = 0;
    for (const Key& key : order) {
        const auto& [family, host] = key;
        const auto& entries = charts[key];
        std::vector<const CompareRow*> rows;
        for (const auto& e : entries) {
            rows.push_back(e.first);
        }
        const std::vector<std::string> labels = short_labels(rows);
        std::vector<svg::RatioBar> bars;
        for (std::size_t i = 0; i < entries.size(); ++i) {
            const CompareRow& r = *entries[i].first;
            const CompareCell& c = *entries[i].second;
            const RatioCi& rc = *c.vs_baseline;
            svg::RatioBar bar;
            bar.label = labels[i];
            bar.ratio = rc.ratio;
            if (rc.ratio > 0) {
                bar.ci_low = rc.ci_low;
                bar.ci_high = rc.ci_high;
            }
            bar.tone = tone_of(rc.verdict);
            bar.value_label = rc.ratio > 0 ? compare_number(rc.ratio) + " " + to_string(rc.verdict)
                                           : std::string("n/a");
            bar.tooltip =
                fmt::format("{} [{}] — {} vs {}: {} {} (median {} vs {} {})", case_label(r),
                            r.device_label, host_label(m, c.host), host_label(m, m.baseline),
                            ratio_text(rc), to_string(rc.verdict), compare_number(c.median),
                            compare_number(r.cells.front().median), r.unit);
            bars.push_back(std::move(bar));
        }
        svg::RatioChartOptions opt;
        opt.id = fmt::format("ratio-{}-{}", id_part(family), n++);
        opt.title = fmt::format("{}: {} vs {} (baseline)", family, host_label(m, host),
                                host_label(m, m.baseline));
        out += "<figure>\n" + svg::ratio_bar_chart(bars, opt) + "</figure>\n";
    }
    out += "</section>\n";
}

void families_section(std::string& out, const CompareModel& m) {
    out += "<section id=\"families\">\n<h2>Geometric mean per family</h2>\n";
    out +=
        "<div class=\"table-wrap\"><table id=\"family-table\" class=\"sortable\"><thead><tr>"
        "<th>family</th><th>compared host</th><th>devices</th><th>rows</th><th>geomean</th>"
        "<th>CI low</th><th>CI high</th><th>verdict</th></tr></thead><tbody>\n";
    for (const FamilySummary& f : m.families) {
        out += "<tr>" + text_cell(f.family) + text_cell(host_label(m, f.host)) +
               text_cell(f.device_label) +
               fmt::format("<td class=\"num\" data-sort=\"{0}\">{0}</td>", f.rows);
        if (f.geomean.ratio > 0) {
            out += num_cell(f.geomean.ratio) + num_cell(f.geomean.ci_low) +
                   num_cell(f.geomean.ci_high);
        } else {
            out += na_cell("-") + na_cell("-") + na_cell("-");
        }
        out += "<td data-sort=\"" + std::string(to_string(f.geomean.verdict)) + "\">" +
               verdict_badge(f.geomean.verdict) + "</td></tr>\n";
    }
    out += "</tbody></table></div>\n";
    if (m.families.empty()) {
        out += "<p class=\"note\">No family has a ratio.</p>\n";
    }
    out += "</section>\n";
}

void rows_section(std::string& out, const CompareModel& m) {
    out += "<section id=\"rows\">\n<h2>All rows</h2>\n";
    out +=
        "<p class=\"note\">Best and median of each host's headline figure (best backend on that "
        "device unless per-backend rows were asked for); hover a value for its backend and "
        "noise. Click a header to sort.</p>\n";
    out +=
        "<div class=\"table-wrap\"><table id=\"rows-table\" class=\"sortable\"><thead><tr>"
        "<th>family</th><th>case</th><th>devices</th><th>quantity</th><th>unit</th>";
    for (std::size_t h = 0; h < m.hosts.size(); ++h) {
        const std::string l = esc(host_label(m, h));
        put(out, "<th>{0} best</th><th>{0} median</th>", l);
        if (h != m.baseline) {
            put(out, "<th>{0} ratio</th><th>{0} CI</th><th>{0} verdict</th>", l);
        }
    }
    out += "</tr></thead><tbody>\n";
    for (const CompareRow& r : m.rows) {
        out += "<tr>" + text_cell(r.family) + "<td class=\"case\">" + esc(case_label(r)) + "</td>" +
               text_cell(r.device_label) + text_cell(r.quantity) + text_cell(r.unit);
        for (std::size_t h = 0; h < m.hosts.size(); ++h) {
            const CompareCell* cell = nullptr;
            for (const CompareCell& c : r.cells) {
                if (c.host == h) {
                    cell = &c;
                    break;
                }
            }
            const std::size_t span = h == m.baseline ? 2 : 5;
            if (cell == nullptr) {
                for (std::size_t k = 0; k < span; ++k) {
                    out += na_cell("-");
                }
                continue;
            }
            const std::string tip =
                fmt::format(" title=\"{} on {}, {} samples, rel. IQR {}{}\"", esc(cell->backend),
                            esc(cell->device), cell->samples, esc(compare_number(cell->rel_iqr)),
                            cell->unit != r.unit ? esc(", unit " + cell->unit) : "");
            std::string best = num_cell(cell->best);
            std::string median = num_cell(cell->median);
            best.insert(3, tip);
            median.insert(3, tip);
            out += best + median;
            if (h == m.baseline) {
                continue;
            }
            if (cell->vs_baseline && cell->vs_baseline->ratio > 0) {
                const RatioCi& rc = *cell->vs_baseline;
                out +=
                    num_cell(rc.ratio) +
                    fmt::format("<td class=\"num\">[{}, {}]</td>", esc(compare_number(rc.ci_low)),
                                esc(compare_number(rc.ci_high))) +
                    "<td data-sort=\"" + std::string(to_string(rc.verdict)) + "\">" +
                    verdict_badge(rc.verdict) + "</td>";
            } else {
                out += na_cell("-") + na_cell("-") + na_cell("-");
            }
        }
        out += "</tr>\n";
    }
    out += "</tbody></table></div>\n";
    put(out, "<h3>Cases only one side ran ({})</h3>\n", m.one_sided.size());
    out +=
        "<div class=\"table-wrap\"><table id=\"one-sided-table\" class=\"sortable\"><thead><tr>"
        "<th>family</th><th>case</th><th>ran on</th><th>missing on</th></tr></thead><tbody>\n";
    for (const OneSidedCase& o : m.one_sided) {
        out += "<tr>" + text_cell(o.family) + "<td class=\"case\">" +
               esc(o.benchmark + (o.params.empty() ? "" : " " + o.params)) + "</td>" +
               text_cell(fmt::format("{}", fmt::join(o.ran_on, ", "))) +
               text_cell(fmt::format("{}", fmt::join(o.missing_on, ", "))) + "</tr>\n";
    }
    out += "</tbody></table></div>\n</section>\n";
}

void curve_chart(std::string& out, const CompareModel& m, const std::string& kind,
                 const std::string& id, const std::string& title, const std::string& y_label) {
    std::vector<svg::Series> series;
    std::map<std::size_t, int> per_host;
    std::set<std::size_t> hosts_with_curves;
    for (const Curve& c : m.curves) {
        if (c.kind != kind) {
            continue;
        }
        svg::Series s;
        s.name = fmt::format("{} {} {} ({})", host_label(m, c.host), c.device, c.series, c.unit);
        s.colour_index = c.host;
        s.dashed = per_host[c.host]++ > 0;  // the host's colour, later series dashed
        s.style = svg::SeriesStyle::line_and_points;
        for (const CurvePoint& p : c.points) {
            s.points.push_back(
                {p.working_set_bytes, p.value,
                 fmt::format("{}: {} working set -> {} {} (best {}){}", s.name,
                             bytes_text(p.working_set_bytes), compare_number(p.value), c.unit,
                             compare_number(p.best), p.level.empty() ? "" : ", " + p.level)});
        }
        series.push_back(std::move(s));
        hosts_with_curves.insert(c.host);
    }
    std::vector<svg::Marker> markers;
    for (const CacheBoundary& b : m.cache_boundaries) {
        if (hosts_with_curves.count(b.host) == 0) {
            continue;
        }
        const std::string size = svg::format_bytes_short(static_cast<double>(b.size_bytes));
        markers.push_back({static_cast<double>(b.size_bytes),
                           hosts_with_curves.size() > 1
                               ? fmt::format("{} {} ({})", b.name, size, host_label(m, b.host))
                               : fmt::format("{} {}", b.name, size),
                           b.host,
                           fmt::format("{}: {} = {}", host_label(m, b.host), b.name,
                                       bytes_text(static_cast<double>(b.size_bytes)))});
    }
    svg::XyChartOptions opt;
    opt.id = id;
    opt.title = title;
    opt.css_class = "chart-curve";
    opt.x = {"working set (bytes, log2 scale)", svg::AxisScale::log2_bytes, {}, {}};
    opt.y = {y_label, svg::AxisScale::log10, {}, {}};
    out += "<figure>\n" + svg::xy_chart(series, markers, opt);
    put(out,
        "<figcaption>{} series; dashed vertical lines mark each host's cache sizes (per "
        "instance).</figcaption>\n</figure>\n",
        series.size());
}

void curves_section(std::string& out, const CompareModel& m) {
    out += "<section id=\"curves\">\n<h2>Memory: bandwidth and latency vs working set</h2>\n";
    curve_chart(out, m, "bandwidth", "curve-bandwidth", "Bandwidth vs working set (median)",
                "GB/s (log scale)");
    curve_chart(out, m, "latency", "curve-latency", "Load-to-use latency vs working set (median)",
                "ns (log scale)");
    out += "</section>\n";
}

void rooflines_section(std::string& out, const CompareModel& m) {
    out += "<section id=\"rooflines\">\n<h2>Rooflines</h2>\n";
    out +=
        "<p class=\"note\">Measured ceilings only (never datasheet peaks): slopes are measured "
        "bandwidths, flat roofs measured GEMM throughput; points are GEMM and attention cases at "
        "their arithmetic intensity (FLOP per byte of the analytic work model).</p>\n";
    if (m.rooflines.empty()) {
        out += "<p class=\"note\">No roofline inputs (no GEMM or bandwidth ceilings).</p>\n";
    }
    for (std::size_t i = 0; i < m.rooflines.size(); ++i) {
        const Roofline& r = m.rooflines[i];
        std::vector<svg::Roof> compute;
        std::vector<svg::Roof> bandwidth;
        for (const RooflineCeiling& c : r.compute) {
            compute.push_back(
                {fmt::format("{} {} {}", c.label, compare_number(c.value), c.unit), c.value});
        }
        for (const RooflineCeiling& c : r.bandwidth) {
            bandwidth.push_back(
                {fmt::format("{} {} {}", c.label, compare_number(c.value), c.unit), c.value});
        }
        std::vector<svg::RooflinePoint> points;
        for (const RooflinePoint& p : r.points) {
            const bool attention = p.benchmark.find("attention") != std::string::npos;
            points.push_back(
                {fmt::format("{} {} ({}, {}): {} FLOP/byte, {} GFLOP/s", p.benchmark, p.params,
                             p.backend, p.dtype, compare_number(p.arithmetic_intensity),
                             compare_number(p.gflop_per_s)),
                 p.arithmetic_intensity, p.gflop_per_s, attention ? 1U : 0U});
        }
        svg::RooflineOptions opt;
        opt.id = fmt::format("roofline-{}-{}", i, id_part(r.device));
        opt.title = fmt::format("Roofline: {} {}", host_label(m, r.host), r.device);
        opt.group_names = {"GEMM cases", "attention cases"};
        out += "<figure>\n" + svg::roofline_chart(compute, bandwidth, points, opt) + "</figure>\n";
    }
    out += "</section>\n";
}

void gemm_efficiency_section(std::string& out, const CompareModel& m) {
    out += "<section id=\"gemm-efficiency\">\n<h2>GEMM efficiency vs shape</h2>\n";
    // One series per host, device and dtype, ordered by problem size.
    std::map<std::tuple<std::size_t, std::string, std::string>,
             std::vector<const GemmEfficiencyPoint*>>
        groups;
    std::size_t without_ceiling = 0;
    for (const GemmEfficiencyPoint& p : m.gemm_efficiency) {
        groups[{p.host, p.device, p.dtype}].push_back(&p);
        without_ceiling += p.fraction_of_ceiling ? 0 : 1;
    }
    std::vector<svg::Series> series;
    std::map<std::size_t, int> per_host;
    for (auto& [key, pts] : groups) {
        const auto& [host, device, dtype] = key;
        std::sort(pts.begin(), pts.end(),
                  [](const GemmEfficiencyPoint* a, const GemmEfficiencyPoint* b) {
                      return a->flops < b->flops;
                  });
        svg::Series s;
        s.name = fmt::format("{} {} {}", host_label(m, host), device, dtype);
        s.colour_index = host;
        s.dashed = per_host[host]++ > 0;
        for (const GemmEfficiencyPoint* p : pts) {
            if (!p->fraction_of_ceiling) {
                continue;
            }
            s.points.push_back(
                {p->flops, *p->fraction_of_ceiling * 100,
                 fmt::format("{} {} {}: {} GFLOP/s = {}% of the gemm.{} ceiling", s.name,
                             p->backend, p->shape, compare_number(p->gflop_per_s),
                             compare_number(*p->fraction_of_ceiling * 100), p->dtype)});
        }
        series.push_back(std::move(s));
    }
    svg::XyChartOptions opt;
    opt.id = "gemm-efficiency-chart";
    opt.title = "GEMM efficiency: % of the device's measured GEMM ceiling vs problem size";
    opt.css_class = "chart-gemm-efficiency";
    opt.x = {"problem size: 2·m·n·k FLOP (log scale)", svg::AxisScale::log10, {}, {}};
    opt.y = {"% of measured gemm.<dtype> ceiling", svg::AxisScale::linear, 0.0, 100.0};
    out += "<figure>\n" + svg::xy_chart(series, {}, opt);
    if (without_ceiling > 0) {
        put(out,
            "<figcaption>{} point(s) not plotted: no measured ceiling for their dtype on that "
            "device.</figcaption>\n",
            without_ceiling);
    }
    out += "</figure>\n";
    out +=
        "<div class=\"table-wrap\"><table id=\"gemm-efficiency-table\" class=\"sortable\"><thead>"
        "<tr><th>host</th><th>device</th><th>backend</th><th>dtype</th><th>shape</th>"
        "<th>FLOP</th><th>GFLOP/s (best)</th><th>% of ceiling</th></tr></thead><tbody>\n";
    for (const GemmEfficiencyPoint& p : m.gemm_efficiency) {
        out += "<tr>" + text_cell(host_label(m, p.host)) + text_cell(p.device) +
               text_cell(p.backend) + text_cell(p.dtype) + text_cell(p.shape) + num_cell(p.flops) +
               num_cell(p.gflop_per_s) +
               (p.fraction_of_ceiling ? num_cell(*p.fraction_of_ceiling * 100, "%")
                                      : na_cell("n/a (no ceiling)")) +
               "</tr>\n";
    }
    out += "</tbody></table></div>\n</section>\n";
}

void cost_section(std::string& out, const CompareModel& m) {
    out += "<section id=\"cost\">\n<h2>Cost and energy</h2>\n";
    put(out,
        "<p class=\"note\">Price table: {}. Per-$ = median throughput &#215; 3600 / ($/h); "
        "per-W = median throughput / measured average power (telemetry).</p>\n",
        esc(m.price_table.empty() ? std::string("none given") : m.price_table));
    out +=
        "<div class=\"table-wrap\"><table id=\"cost-table\" class=\"sortable\"><thead><tr>"
        "<th>family</th><th>case</th><th>host</th><th>device</th><th>median</th><th>unit</th>"
        "<th>$/h</th><th>per $</th><th>per $ unit</th><th>power (W)</th><th>per W</th>"
        "<th>per W unit</th></tr></thead><tbody>\n";
    std::set<std::tuple<std::size_t, std::string, std::string, std::string, std::string>> seen;
    for (const CompareRow& r : m.rows) {
        for (const CompareCell& c : r.cells) {
            // The baseline cell repeats in every row pairing of its device: list each host's
            // result once.
            if (!seen.insert({c.host, c.device, r.benchmark, r.params, c.backend}).second) {
                continue;
            }
            const CompareHost* host = c.host < m.hosts.size() ? &m.hosts[c.host] : nullptr;
            out += "<tr>" + text_cell(r.family) + "<td class=\"case\">" + esc(case_label(r)) +
                   "</td>" + text_cell(host_label(m, c.host)) + text_cell(c.device) +
                   num_cell(c.median) + text_cell(c.unit);
            if (host != nullptr && host->usd_per_hour) {
                out += num_cell(*host->usd_per_hour);
            } else {
                out += na_cell("n/a (no price)");
            }
            if (c.per_dollar) {
                out += num_cell(*c.per_dollar) + text_cell(c.per_dollar_unit);
            } else {
                out +=
                    na_cell(c.per_dollar_note.empty() ? "n/a" : c.per_dollar_note) + text_cell("");
            }
            out += c.power_w ? num_cell(*c.power_w) : na_cell("n/a (no power telemetry)");
            if (c.per_watt) {
                out += num_cell(*c.per_watt) + text_cell(c.per_watt_unit);
            } else {
                out += na_cell(c.per_watt_note.empty() ? "n/a" : c.per_watt_note) + text_cell("");
            }
            out += "</tr>\n";
        }
    }
    out += "</tbody></table></div>\n</section>\n";
}

void projections_section(std::string& out, const CompareModel& m) {
    out +=
        "<section id=\"projections\">\n<h2>LLM serving <span class=\"badge "
        "badge-projection\">PROJECTION</span></h2>\n<div class=\"projection-box\">\n"
        "<p><b>These are projections from measured ceilings, not measurements.</b> Batch 1; "
        "prefill is bounded by the GEMM ceiling, decode by memory bandwidth (weights plus the KV "
        "cache read per token). Each row shows its formula and the ceiling it used.</p>\n"
        "<p class=\"formula\">prefill tokens/s = GEMM ceiling / (2 &#183; params)<br/>"
        "decode tokens/s = bandwidth ceiling / (weight bytes + KV bytes per token)</p>\n</div>\n";
    out +=
        "<div class=\"table-wrap\"><table id=\"projection-table\" class=\"sortable\"><thead><tr>"
        "<th>kind</th><th>host</th><th>device</th><th>model</th><th>weights</th>"
        "<th>context</th><th>prefill tokens/s</th><th>prefill formula</th>"
        "<th>decode tokens/s</th><th>decode formula</th><th>note</th></tr></thead><tbody>\n";
    for (const Projection& p : m.projections) {
        out += "<tr><td><span class=\"badge badge-projection\">PROJECTION</span></td>" +
               text_cell(host_label(m, p.host)) + text_cell(p.device) + text_cell(p.model) +
               text_cell(p.weights) +
               fmt::format("<td class=\"num\" data-sort=\"{0}\">{0}</td>", p.context_tokens);
        out += p.prefill_tokens_per_s ? num_cell(*p.prefill_tokens_per_s)
                                      : na_cell("n/a (" + p.prefill_skip + ")");
        out += "<td class=\"formula\">" +
               esc(p.prefill_formula +
                   (p.prefill_ceiling.empty() ? "" : " with " + p.prefill_ceiling)) +
               "</td>";
        out += p.decode_tokens_per_s ? num_cell(*p.decode_tokens_per_s)
                                     : na_cell("n/a (" + p.decode_skip + ")");
        out +=
            "<td class=\"formula\">" +
            esc(p.decode_formula + (p.decode_ceiling.empty() ? "" : " with " + p.decode_ceiling)) +
            "</td>" + text_cell(p.note) + "</tr>\n";
    }
    out += "</tbody></table></div>\n";
    if (m.projections.empty()) {
        out += "<p class=\"note\">No projections (no GEMM or bandwidth ceilings).</p>\n";
    }
    out += "</section>\n";
}

}  // namespace

std::string render_compare_html(const CompareModel& model) {
    std::string out;
    out.reserve(256 * 1024);
    page_head(out, model);
    summary_section(out, model);
    host_cards_section(out, model);
    ratio_section(out, model);
    families_section(out, model);
    rows_section(out, model);
    curves_section(out, model);
    rooflines_section(out, model);
    gemm_efficiency_section(out, model);
    cost_section(out, model);
    projections_section(out, model);
    put(out,
        "</main>\n<footer><p class=\"meta\">assay report compare &#183; {} &#183; reports read "
        "only the store; nothing was re-measured.</p></footer>\n<script>{}</script>\n</body>\n"
        "</html>\n",
        esc(model.schema), kScript);
    return out;
}

}  // namespace assay
