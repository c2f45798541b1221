#include "reports/regress_report.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/pattern.hpp"
#include "reports/escape.hpp"
#include "reports/report_support.hpp"

namespace assay {

namespace {

using escape::markdown_cell;
using escape::markdown_code;
using escape::markdown_text;

/// Environment entries that differ on every run by design; never a "what else changed".
const std::set<std::string> kVolatileEnvironment = {"shuffle_seed"};

std::string pct(double rel) {
    return fmt::format("{:+.1f} %", 100.0 * rel);
}

std::string num(double v) {
    const double a = std::abs(v);
    if (a == 0 || !std::isfinite(v))
        return fmt::format("{}", v);
    if (a >= 1000)
        return fmt::format("{:.0f}", v);
    if (a >= 1)
        return fmt::format("{:.3g}", v);
    return fmt::format("{:.3g}", v);
}

void flatten(const nlohmann::json& j, const std::string& prefix,
             std::map<std::string, std::string>& out) {
    if (j.is_object()) {
        for (auto it = j.begin(); it != j.end(); ++it) {
            flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
        }
    } else if (j.is_array()) {
        for (std::size_t i = 0; i < j.size(); ++i) {
            flatten(j[i], fmt::format("{}[{}]", prefix, i), out);
        }
    } else {
        out[prefix] = j.is_string()
                          ? j.get<std::string>()
                          : j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
}

void diff_field(std::vector<std::string>& out, const std::string& name, const std::string& a,
                const std::string& b) {
    if (a != b) {
        out.push_back(
            fmt::format("{}: {} -> {}", name, a.empty() ? "(none)" : a, b.empty() ? "(none)" : b));
    }
}

Verdict verdict_of(GateState state, bool bad, Direction direction) {
    const bool suspect = state == GateState::suspect;
    if (state != GateState::suspect && state != GateState::confirmed) {
        return state == GateState::normal ? Verdict::normal : Verdict::insufficient_history;
    }
    if (direction == Direction::none) {
        return suspect ? Verdict::normal : Verdict::changed;
    }
    if (bad) {
        return suspect ? Verdict::suspect_regression : Verdict::regression;
    }
    return suspect ? Verdict::suspect_improvement : Verdict::improvement;
}

bool is_bad_sign(double rel, Direction d) {
    return (d == Direction::higher_is_better && rel < 0) ||
           (d == Direction::lower_is_better && rel > 0);
}

SeriesFinding analyze_series(const HistorySeries& s, const RegressOptions& o) {
    SeriesFinding f;
    f.key = s.key;
    f.unit = s.unit;
    f.direction = s.direction;
    f.points = s.points.size();
    if (s.points.empty()) {
        return f;
    }
    std::vector<double> values;
    values.reserve(s.points.size());
    for (const auto& p : s.points) {
        values.push_back(p.value);
    }
    const std::size_t n = values.size();
    f.latest = values.back();
    f.latest_run_id = s.points.back().run_id;
    f.change_points = e_divisive_change_points(values, o.change_points);
    for (const auto& cp : f.change_points) {
        f.change_point_runs.push_back(s.points[cp.index].run_id);
    }
    const std::size_t segment_start = f.change_points.empty() ? 0 : f.change_points.back().index;
    f.segment_points = n - segment_start;
    const std::span<const double> segment(values.data() + segment_start, n - segment_start);

    if (!f.change_points.empty() && f.segment_points <= o.gate.min_history) {
        // The newest runs sit on a new level found by change-point detection; too few to gate
        // against, so the change point is the finding until the new level is the baseline.
        const ChangePoint& cp = f.change_points.back();
        f.detected_by = "change point";
        f.baseline = cp.mean_before;
        f.relative_change = cp.relative_change;
        f.pvalue = cp.pvalue;
        f.change_run_id = s.points[cp.index].run_id;
        f.before_run_id = s.points[cp.index - 1].run_id;
        if (std::abs(cp.relative_change) < o.gate.min_effect) {
            f.verdict = Verdict::normal;
            f.note = "recent change point below the minimum effect";
            return f;
        }
        f.verdict = verdict_of(GateState::confirmed, is_bad_sign(cp.relative_change, s.direction),
                               s.direction);
        return f;
    }
    const GateResult g = gate_newest(segment, s.direction, o.gate);
    f.baseline = g.newest.median;
    f.z = g.newest.z;
    f.relative_change = g.newest.relative_change;
    f.pvalue = g.state == GateState::insufficient_history ? 1.0 : g.pvalue;
    f.verdict = verdict_of(g.state, g.bad, s.direction);
    if (g.state == GateState::suspect || g.state == GateState::confirmed) {
        f.detected_by = "gate";
        const std::size_t at = segment_start + g.change_index;
        f.change_run_id = s.points[at].run_id;
        f.before_run_id = at > 0 ? s.points[at - 1].run_id : 0;
    }
    return f;
}

nlohmann::json finding_json(const SeriesFinding& f, const History& h) {
    nlohmann::json j = {
        {"case_id", f.key.case_id},
        {"device", f.key.device},
        {"backend", f.key.backend},
        {"metric", f.key.metric},
        {"host_class", f.key.host_class},
        {"build_class", f.key.build_class},
        {"unit", f.unit},
        {"direction", to_string(f.direction)},
        {"verdict", to_string(f.verdict)},
        {"detected_by", f.detected_by},
        {"points", f.points},
        {"segment_points", f.segment_points},
        {"baseline", f.baseline},
        {"latest", f.latest},
        {"relative_change", f.relative_change},
        {"z", std::isfinite(f.z) ? nlohmann::json(f.z) : nlohmann::json(nullptr)},
        {"pvalue", f.pvalue},
        {"qvalue", f.qvalue},
        {"latest_run_id", f.latest_run_id},
        {"note", f.note},
    };
    if (f.change_run_id != 0) {
        j["since_run_id"] = f.change_run_id;
        j["before_run_id"] = f.before_run_id;
        const auto it = h.runs.find(f.change_run_id);
        if (it != h.runs.end()) {
            j["since_run_uuid"] = it->second.run.info.uuid;
            j["since_started_at"] = it->second.run.info.started_at;
        }
        j["what_else_changed"] = what_changed(h, f.before_run_id, f.change_run_id);
    }
    j["change_points"] = nlohmann::json::array();
    for (std::size_t i = 0; i < f.change_points.size(); ++i) {
        const auto& cp = f.change_points[i];
        j["change_points"].push_back({{"index", cp.index},
                                      {"run_id", f.change_point_runs[i]},
                                      {"mean_before", cp.mean_before},
                                      {"mean_after", cp.mean_after},
                                      {"relative_change", cp.relative_change},
                                      {"pvalue", cp.pvalue}});
    }
    return j;
}

/// A what_changed() line ("name: a -> b") as Markdown text. The arrow is ours, so it is given
/// back its '>' after escaping: without a '<' (always escaped) no tag can form.
std::string changed_item(const std::string& line) {
    std::string out = markdown_text(line);
    for (std::size_t at = out.find(" -&gt; "); at != std::string::npos;
         at = out.find(" -&gt; ", at + 4)) {
        out.replace(at, 7, " -> ");
    }
    return out;
}

std::string run_label(const History& h, std::int64_t run_id) {
    const auto it = h.runs.find(run_id);
    if (it == h.runs.end()) {
        return fmt::format("run {}", run_id);
    }
    const auto& r = it->second.run;
    return fmt::format("run {} ({}, {})", run_id, r.info.started_at.substr(0, 10), r.hostname);
}

std::string device_label(const SeriesKey& k) {
    return k.backend.empty() ? k.device : fmt::format("{} ({})", k.device, k.backend);
}

std::string finding_table(const std::vector<const SeriesFinding*>& rows, const History& h) {
    std::string out =
        "| case | device | metric | change | latest | baseline | unit | z | q | since | by |\n"
        "|---|---|---|---:|---:|---:|---|---:|---:|---|---|\n";
    for (const auto* f : rows) {
        out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                           markdown_cell(f->key.case_id), markdown_cell(device_label(f->key)),
                           markdown_cell(f->key.metric), pct(f->relative_change), num(f->latest),
                           num(f->baseline), markdown_cell(f->unit),
                           f->detected_by == "gate" ? fmt::format("{:.1f}", f->z) : "-",
                           fmt::format("{:.2g}", f->qvalue),
                           markdown_cell(run_label(h, f->change_run_id)), f->detected_by);
    }
    return out;
}

}  // namespace

const char* to_string(Verdict v) {
    switch (v) {
        case Verdict::insufficient_history:
            return "insufficient_history";
        case Verdict::normal:
            return "normal";
        case Verdict::suspect_regression:
            return "suspect_regression";
        case Verdict::regression:
            return "regression";
        case Verdict::suspect_improvement:
            return "suspect_improvement";
        case Verdict::improvement:
            return "improvement";
        case Verdict::changed:
            return "changed";
    }
    return "?";
}

std::vector<std::string> default_regress_metrics() {
    return {"bandwidth_stream_gb_per_s.median", "gflop_per_s.median", "gop_per_s.median",
            "latency_ns.median", "bandwidth_write_allocate_gb_per_s.median"};
}

std::vector<std::string> what_changed(const History& history, std::int64_t before_run_id,
                                      std::int64_t at_run_id) {
    std::vector<std::string> out;
    const auto a_it = history.runs.find(before_run_id);
    const auto b_it = history.runs.find(at_run_id);
    if (a_it == history.runs.end() || b_it == history.runs.end()) {
        return out;
    }
    const StoredRun& a = a_it->second.run;
    const StoredRun& b = b_it->second.run;
    diff_field(out, "host", a.hostname, b.hostname);
    diff_field(out, "tool version", a.info.tool_version, b.info.tool_version);
    diff_field(out, "git sha", a.info.git_sha, b.info.git_sha);
    diff_field(out, "compiler", a.info.compiler, b.info.compiler);
    diff_field(out, "compiler flags", a.info.compiler_flags, b.info.compiler_flags);
    diff_field(out, "build type", a.info.build_type, b.info.build_type);
    diff_field(out, "suite", a.info.suite, b.info.suite);
    std::set<std::string> keys;
    for (const auto& [k, v] : a.info.environment)
        keys.insert(k);
    for (const auto& [k, v] : b.info.environment)
        keys.insert(k);
    for (const auto& k : keys) {
        if (kVolatileEnvironment.count(k)) {
            continue;
        }
        const auto ea = a.info.environment.find(k);
        const auto eb = b.info.environment.find(k);
        diff_field(out, "env " + k, ea == a.info.environment.end() ? "" : ea->second,
                   eb == b.info.environment.end() ? "" : eb->second);
    }
    if (a.hw_config_id != b.hw_config_id) {
        out.push_back(fmt::format("hardware snapshot: hw_config {} ({}) -> {} ({})", a.hw_config_id,
                                  a.fingerprint.substr(0, 12), b.hw_config_id,
                                  b.fingerprint.substr(0, 12)));
        const auto pa = history.probe_json.find(a.hw_config_id);
        const auto pb = history.probe_json.find(b.hw_config_id);
        if (pa != history.probe_json.end() && pb != history.probe_json.end()) {
            std::map<std::string, std::string> fa, fb;
            const auto ja = nlohmann::json::parse(pa->second, nullptr, false);
            const auto jb = nlohmann::json::parse(pb->second, nullptr, false);
            if (!ja.is_discarded() && !jb.is_discarded()) {
                flatten(ja, "", fa);
                flatten(jb, "", fb);
                std::set<std::string> probe_keys;
                for (const auto& [k, v] : fa)
                    probe_keys.insert(k);
                for (const auto& [k, v] : fb)
                    probe_keys.insert(k);
                std::size_t listed = 0;
                constexpr std::size_t kMaxProbeLines = 12;
                for (const auto& k : probe_keys) {
                    if (k == "probed_at" || k == "fingerprint" ||
                        k.rfind("fingerprint_keys", 0) == 0) {
                        continue;
                    }
                    const std::string va = fa.count(k) ? fa[k] : "";
                    const std::string vb = fb.count(k) ? fb[k] : "";
                    if (va == vb) {
                        continue;
                    }
                    if (listed++ < kMaxProbeLines) {
                        diff_field(out, "probe " + k, va, vb);
                    }
                }
                if (listed > kMaxProbeLines) {
                    out.push_back(
                        fmt::format("probe: {} more differences", listed - kMaxProbeLines));
                }
            }
        }
    }
    return out;
}

RegressAnalysis analyze_history(const History& history, const RegressOptions& options) {
    std::optional<Pattern> filter;
    if (!options.case_filter.empty()) {
        filter = Pattern::compile(options.case_filter, "--filter");
    }
    RegressAnalysis a;
    a.runs = history.runs.size();
    for (const auto& s : history.series) {
        if (filter && !filter->search(s.key.case_id)) {
            continue;
        }
        a.findings.push_back(analyze_series(s, options));
    }
    // Benjamini-Hochberg across every series tested tonight (gated or decided by a change
    // point); a finding that does not survive it goes back to normal, with a note.
    std::vector<double> p;
    std::vector<std::size_t> tested;
    for (std::size_t i = 0; i < a.findings.size(); ++i) {
        if (a.findings[i].verdict != Verdict::insufficient_history) {
            p.push_back(a.findings[i].pvalue);
            tested.push_back(i);
        }
    }
    const auto q = benjamini_hochberg(p);
    for (std::size_t k = 0; k < tested.size(); ++k) {
        auto& f = a.findings[tested[k]];
        f.qvalue = q[k];
        if (f.verdict != Verdict::normal && f.qvalue > options.fdr) {
            f.note = fmt::format("{} not significant after Benjamini-Hochberg (q = {:.2g} > {})",
                                 to_string(f.verdict), f.qvalue, options.fdr);
            f.verdict = Verdict::normal;
        }
    }
    for (const auto& f : a.findings) {
        switch (f.verdict) {
            case Verdict::regression:
                ++a.regressions;
                break;
            case Verdict::suspect_regression:
                ++a.suspects;
                break;
            case Verdict::improvement:
            case Verdict::suspect_improvement:
                ++a.improvements;
                break;
            case Verdict::changed:
                ++a.changes;
                break;
            case Verdict::insufficient_history:
                ++a.insufficient;
                break;
            case Verdict::normal:
                break;
        }
    }
    return a;
}

std::string render_regress_markdown(const RegressAnalysis& a, const History& h,
                                    const RegressContext& ctx) {
    const auto& o = ctx.options;
    std::string out = "# Assay regression report\n\n";
    out += fmt::format("- database: {}\n- generated: {}\n- runs in history: {}\n",
                       markdown_code(ctx.db_path), ctx.generated_at, a.runs);
    out += fmt::format("- series: {} ({} with too little history)\n", a.findings.size(),
                       a.insufficient);
    out += fmt::format(
        "- metric: {}\n- gate: robust z >= {} and effect >= {:.1f} % against the last {} points "
        "of the current segment (at least {}); confirmed by a second run\n",
        ctx.metric_note.empty() ? "headline median" : markdown_text(ctx.metric_note), o.gate.z,
        100.0 * o.gate.min_effect, o.gate.window, o.gate.min_history);
    out += fmt::format(
        "- change points: E-divisive means, window {}, Welch t-test p < {}; FDR (Benjamini-"
        "Hochberg) {}\n\n",
        o.change_points.window, o.change_points.max_pvalue, o.fdr);
    out += fmt::format(
        "**{}: {} regression(s), {} suspect, {} improvement(s), {} other change(s).**\n\n",
        a.has_regression() ? "REGRESSION" : "OK", a.regressions, a.suspects, a.improvements,
        a.changes);

    auto section = [&](const std::string& title, const std::string& blurb,
                       std::initializer_list<Verdict> verdicts, bool details) {
        std::vector<const SeriesFinding*> rows;
        for (const auto& f : a.findings) {
            if (std::find(verdicts.begin(), verdicts.end(), f.verdict) != verdicts.end()) {
                rows.push_back(&f);
            }
        }
        if (rows.empty()) {
            return;
        }
        std::sort(rows.begin(), rows.end(), [](const auto* x, const auto* y) {
            return std::abs(x->relative_change) > std::abs(y->relative_change);
        });
        out += fmt::format("## {}\n\n{}\n\n", title, blurb);
        out += finding_table(rows, h);
        out += "\n";
        if (!details) {
            return;
        }
        for (const auto* f : rows) {
            out += fmt::format("### {} on {} ({}): {}\n\n", markdown_text(f->key.case_id),
                               markdown_text(device_label(f->key)), markdown_text(f->key.metric),
                               pct(f->relative_change));
            out += fmt::format(
                "- {} {} now vs {} {} before, since {} (previous: {}); detected by "
                "{}; p = {:.2g}, q = {:.2g}\n",
                num(f->latest), markdown_text(f->unit), num(f->baseline), markdown_text(f->unit),
                markdown_text(run_label(h, f->change_run_id)),
                markdown_text(run_label(h, f->before_run_id)), f->detected_by, f->pvalue,
                f->qvalue);
            out += fmt::format(
                "- series: host class {}, build class {}, {} points ({} in the "
                "current segment)\n",
                markdown_text(f->key.host_class), markdown_text(f->key.build_class), f->points,
                f->segment_points);
            const auto changed = what_changed(h, f->before_run_id, f->change_run_id);
            if (changed.empty()) {
                out +=
                    "- what else changed at that run: nothing recorded (same host, hardware "
                    "snapshot, build and environment)\n\n";
            } else {
                out += "- what else changed at that run:\n";
                for (const auto& c : changed) {
                    out += fmt::format("  - {}\n", changed_item(c));
                }
                out += "\n";
            }
        }
    };
    section("Regressions",
            "Confirmed: beyond the gate in the bad direction on the newest two runs, or a "
            "change point among the newest runs.",
            {Verdict::regression}, true);
    section("Suspect",
            "The newest run alone is beyond the gate in the bad direction; the next run "
            "confirms or clears it (not counted in the exit code).",
            {Verdict::suspect_regression}, true);
    section("Improvements", "The same tests in the good direction.",
            {Verdict::improvement, Verdict::suspect_improvement}, false);
    section("Other changes", "Confirmed changes of metrics without a better direction.",
            {Verdict::changed}, false);

    struct Listed {
        const SeriesFinding* f;
        std::size_t i;
        std::size_t order;
    };
    std::vector<Listed> cps;
    for (const auto& f : a.findings) {
        for (std::size_t i = 0; i < f.change_points.size(); ++i) {
            const auto it = h.runs.find(f.change_point_runs[i]);
            cps.push_back({&f, i, it == h.runs.end() ? 0 : it->second.order});
        }
    }
    if (!cps.empty()) {
        std::stable_sort(cps.begin(), cps.end(),
                         [](const Listed& x, const Listed& y) { return x.order > y.order; });
        out += fmt::format("## Change points in history ({} found, newest first)\n\n", cps.size());
        out +=
            "| since | case | device | metric | before | after | change | p |\n"
            "|---|---|---|---|---:|---:|---:|---:|\n";
        for (std::size_t k = 0; k < cps.size() && k < o.max_change_points_listed; ++k) {
            const auto& cp = cps[k].f->change_points[cps[k].i];
            out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {:.2g} |\n",
                               markdown_cell(run_label(h, cps[k].f->change_point_runs[cps[k].i])),
                               markdown_cell(cps[k].f->key.case_id),
                               markdown_cell(device_label(cps[k].f->key)),
                               markdown_cell(cps[k].f->key.metric), num(cp.mean_before),
                               num(cp.mean_after), pct(cp.relative_change), cp.pvalue);
        }
        out += "\n";
    }
    return out;
}

std::string render_regress_json(const RegressAnalysis& a, const History& h,
                                const RegressContext& ctx) {
    const auto& o = ctx.options;
    nlohmann::json doc = {
        {"schema", "assay.regress/1"},
        {"generated_at", ctx.generated_at},
        {"db", ctx.db_path},
        {"metric", ctx.metric_note},
        {"options",
         {{"window", o.gate.window},
          {"min_history", o.gate.min_history},
          {"z", o.gate.z},
          {"min_effect", o.gate.min_effect},
          {"change_point_window", o.change_points.window},
          {"min_segment", o.change_points.min_segment},
          {"pvalue", o.change_points.max_pvalue},
          {"fdr", o.fdr},
          {"filter", o.case_filter}}},
        {"runs", a.runs},
        {"summary",
         {{"status", a.has_regression() ? "regression" : "ok"},
          {"series", a.findings.size()},
          {"regressions", a.regressions},
          {"suspects", a.suspects},
          {"improvements", a.improvements},
          {"changes", a.changes},
          {"insufficient_history", a.insufficient}}},
        {"series", nlohmann::json::array()},
    };
    for (const auto& f : a.findings) {
        doc["series"].push_back(finding_json(f, h));
    }
    return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace assay
