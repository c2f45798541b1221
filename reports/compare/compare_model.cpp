#include "reports/compare/compare_model.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/pattern.hpp"
#include "reports/compare/compare_stats.hpp"
#include "reports/compare/projection.hpp"
#include "reports/run_report.hpp"
#include "store/store.hpp"

namespace assay {
namespace {

/// A stored run that could be selected, with its host facts.
struct Candidate {
    std::size_t source = 0;
    StoredRun run;
    HostInfo info;
    std::string instance_type;
    std::string host_key;  ///< hostname + machine id: one machine across stores
};

bool starts_with(const std::string& s, const std::string& prefix) {
    return s.rfind(prefix, 0) == 0;
}

std::vector<Candidate> load_candidates(const std::vector<CompareSource>& sources) {
    std::vector<Candidate> out;
    for (std::size_t i = 0; i < sources.size(); ++i) {
        const Store& store = *sources[i].store;
        std::map<std::int64_t, StoredHost> configs;
        for (const StoredHost& h : store.hosts()) {
            configs[h.hw_config_id] = h;
        }
        std::vector<StoredRun> runs = store.list_runs();
        std::sort(runs.begin(), runs.end(),
                  [](const StoredRun& a, const StoredRun& b) { return a.id < b.id; });
        for (const StoredRun& r : runs) {
            Candidate c;
            c.source = i;
            c.run = r;
            std::string machine_id;
            if (auto it = configs.find(r.hw_config_id); it != configs.end()) {
                machine_id = it->second.machine_id;
                try {
                    c.info = host_info_from_json(it->second.probe_json);
                } catch (const InputError&) {
                    // An unreadable probe leaves the card "unknown"; the results still count.
                    c.info = HostInfo{};
                }
            }
            c.info.identity.hostname = r.hostname;
            c.instance_type = c.info.identity.product_name;
            c.host_key = r.hostname + "\n" + machine_id;
            out.push_back(std::move(c));
        }
    }
    return out;
}

bool matches(const HostSelector& sel, const Candidate& c) {
    switch (sel.kind) {
        case HostSelector::Kind::hostname:
            return c.run.hostname == sel.value;
        case HostSelector::Kind::fingerprint:
            return starts_with(c.run.fingerprint, sel.value);
        case HostSelector::Kind::instance:
            return c.instance_type == sel.value;
        case HostSelector::Kind::run:
            return c.run.id == sel.run_id;
    }
    return false;
}

/// Newest complete run per matching host (newest of any status when a host has none complete),
/// hosts in the order their first run appears.
std::vector<std::size_t> resolve(const HostSelector& sel, const std::vector<Candidate>& all) {
    if (sel.kind == HostSelector::Kind::run) {
        std::vector<std::size_t> hits;
        for (std::size_t i = 0; i < all.size(); ++i) {
            if (matches(sel, all[i])) {
                hits.push_back(i);
            }
        }
        if (hits.size() > 1) {
            throw UsageError(fmt::format(
                "host selector '{}' is ambiguous: run {} exists in {} of the given stores (pass "
                "that store alone, or select by hostname or fingerprint)",
                sel.text, sel.run_id, hits.size()));
        }
        return hits;
    }
    std::vector<std::string> order;
    std::map<std::string, std::size_t> chosen;
    for (std::size_t i = 0; i < all.size(); ++i) {
        const Candidate& c = all[i];
        if (!matches(sel, c)) {
            continue;
        }
        auto it = chosen.find(c.host_key);
        if (it == chosen.end()) {
            order.push_back(c.host_key);
            chosen[c.host_key] = i;
            continue;
        }
        const Candidate& cur = all[it->second];
        const bool c_complete = c.run.status == RunStatus::complete;
        const bool cur_complete = cur.run.status == RunStatus::complete;
        if ((c_complete && !cur_complete) ||
            (c_complete == cur_complete && c.run.info.started_at > cur.run.info.started_at)) {
            it->second = i;
        }
    }
    std::vector<std::size_t> out;
    for (const std::string& key : order) {
        out.push_back(chosen[key]);
    }
    return out;
}

bool lower_is_better(const Headline& h) {
    return h.quantity == "time" || starts_with(h.quantity, "latency");
}

double metric_or(const Result& r, const std::string& name, double fallback) {
    const Metric* m = r.find_metric(name);
    return m != nullptr ? m->value : fallback;
}

std::optional<double> param_number(const Params& p, const std::string& key) {
    auto it = p.find(key);
    if (it == p.end()) {
        return std::nullopt;
    }
    double v = 0;
    const char* first = it->second.data();
    const char* last = first + it->second.size();
    if (auto [ptr, ec] = std::from_chars(first, last, v); ec != std::errc{} || ptr != last) {
        return std::nullopt;
    }
    return v;
}

std::string param_or(const Params& p, const std::string& key, const std::string& fallback) {
    auto it = p.find(key);
    return it != p.end() ? it->second : fallback;
}

std::string level_of(const Result& r) {
    for (const Metric& m : r.metrics) {
        if (starts_with(m.name, "level.")) {
            return m.name.substr(6);
        }
    }
    return {};
}

/// One selected host's data.
struct HostData {
    const Candidate* cand = nullptr;
    std::vector<StoredResult> results;  ///< usable (ok, samples) results passing the filter
};

struct Slot {
    std::string device;
    std::string backend;  ///< empty unless per-backend
    auto operator<=>(const Slot&) const = default;
};

HostCard make_card(const Candidate& c, const std::vector<StoredCeiling>& ceilings) {
    const HostInfo& h = c.info;
    HostCard card;
    card.cpu_model = h.cpu.model_name;
    card.microarchitecture = h.cpu.microarchitecture;
    card.arch = h.cpu.arch;
    card.packages = h.topology.packages;
    card.numa_nodes = static_cast<unsigned>(h.topology.numa_nodes.size());
    card.cores = h.topology.cores;
    card.pus = h.topology.pus;
    card.memory_bytes = h.topology.os_memory_bytes.value_or(h.topology.numa_memory_bytes);
    for (const CacheLevel& cl : h.topology.caches) {
        card.caches.push_back({cl.name(), cl.size_bytes, cl.instances, cl.cores_per_instance});
    }
    for (const GpuInfo& g : h.gpu.gpus) {
        card.gpus.push_back({fmt::format("cuda:{}", g.index), g.name, g.memory_bytes, g.sm_count,
                             fmt::format("{}.{}", g.cc_major, g.cc_minor)});
    }
    if (!h.gpu.gpus.empty()) {
        card.gpu_note =
            fmt::format("driver {}, runtime {}", h.gpu.driver_version, h.gpu.runtime_version);
    } else {
        card.gpu_note = h.gpu.none_reason.empty() ? "none seen" : h.gpu.none_reason;
    }
    static const std::set<std::string> kNotable = {
        "avx2",     "avx512f",  "avx512_bf16", "avx512_fp16", "avx512_vnni",
        "amx_tile", "amx_bf16", "amx_int8",    "amx_fp16",    "fma",
        "asimd",    "neon",     "sve",         "sve2",        "sve2_bf16",
        "bf16",     "i8mm",     "sme",         "sme2"};
    for (const std::string& f : h.cpu.isa_features) {
        if (kNotable.count(f) != 0) {
            card.isa_highlights.push_back(f);
        }
    }
    card.sve_vector_bits = h.cpu.sve_vector_bits;
    card.kernel = h.os.kernel;
    card.os_release = h.os.os_release;
    card.cpu_governor = h.os.cpu_governor;
    card.thp_enabled = h.os.thp_enabled;
    card.smt_control = h.os.smt_control;
    card.virtualization = h.os.virtualization;
    card.container = h.os.container;
    card.hw_counters_usable = h.os.hw_counters_usable;
    card.hw_counters_reason = h.os.hw_counters_reason;
    const StoredRun& r = c.run;
    card.tool_version = r.info.tool_version;
    card.git_sha = r.info.git_sha;
    card.compiler = r.info.compiler;
    card.build_type = r.info.build_type;
    card.suite = r.info.suite;
    card.run_started_at = r.info.started_at;
    card.run_finished_at = r.finished_at;
    card.run_status = to_string(r.status);
    for (const StoredCeiling& sc : ceilings) {
        const Ceiling& ce = sc.ceiling;
        card.ceilings.push_back({ce.device, ce.name, ce.value, ce.unit, ce.basis});
    }
    std::sort(card.ceilings.begin(), card.ceilings.end(),
              [](const CompareCeiling& a, const CompareCeiling& b) {
                  return std::tie(a.device, a.name) < std::tie(b.device, b.name);
              });
    return card;
}

/// The headline of a result plus the direction and its time median.
struct Scored {
    const StoredResult* sr = nullptr;
    Headline h;
    bool lower = false;
};

bool better(const Scored& a, const Scored& b) {
    if (a.h.median != b.h.median) {
        return a.lower ? a.h.median < b.h.median : a.h.median > b.h.median;
    }
    return a.sr->result.backend < b.sr->result.backend;
}

CompareCell make_cell(std::size_t host, const Scored& s, const CompareHost& ch) {
    const Result& r = s.sr->result;
    CompareCell c;
    c.host = host;
    c.device = r.device;
    c.backend = r.backend;
    c.benchmark_params = r.bench_case.canonical_params();
    c.quantity = s.h.quantity;
    c.best = s.h.best;
    c.median = s.h.median;
    c.unit = s.h.unit;
    c.higher_is_better = !s.lower;
    c.rel_iqr = r.stats.rel_iqr();
    c.samples = r.samples.size();
    c.result_id = s.sr->id;
    const std::string power_name =
        starts_with(r.device, "cuda") ? "telemetry.gpu_power_w.avg" : "telemetry.power_w.avg";
    if (const Metric* m = r.find_metric(power_name); m != nullptr && m->value > 0) {
        c.power_w = m->value;
    }
    if (s.lower) {
        c.per_dollar_note = "n/a (not a throughput)";
        c.per_watt_note = "n/a (not a throughput)";
        return c;
    }
    if (!ch.usd_per_hour) {
        c.per_dollar_note = "n/a (no price)";
    } else if (auto pd = per_dollar(c.median, c.unit, *ch.usd_per_hour)) {
        c.per_dollar = pd->value;
        c.per_dollar_unit = pd->unit;
    } else {
        c.per_dollar_note = "n/a (not a throughput)";
    }
    if (!c.power_w) {
        c.per_watt_note = "n/a (no power telemetry)";
    } else if (auto pw = per_watt(c.median, c.unit, *c.power_w)) {
        c.per_watt = pw->value;
        c.per_watt_unit = pw->unit;
    } else {
        c.per_watt_note = "n/a (not a throughput)";
    }
    return c;
}

/// The bootstrap input of "other vs baseline" for two results.
RatioInput ratio_input(const Scored& base, const Scored& other) {
    RatioInput in{base.sr->result.samples, other.sr->result.samples, 1.0};
    const double tb = compare_median(in.baseline_seconds);
    const double to = compare_median(in.other_seconds);
    if (tb > 0 && to > 0 && base.h.unit == other.h.unit && base.lower == other.lower &&
        base.h.median > 0 && other.h.median > 0) {
        const double point =
            base.lower ? base.h.median / other.h.median : other.h.median / base.h.median;
        in.scale = point / (tb / to);
    }
    return in;
}

std::string device_label(const std::string& baseline_device, const std::string& other_device) {
    return baseline_device == other_device ? baseline_device
                                           : fmt::format("{} vs {}", other_device, baseline_device);
}

std::string short_bandwidth_label(const std::string& name) {
    const std::string prefix = "mem.bandwidth.";
    return starts_with(name, prefix) ? name.substr(prefix.size()) : name;
}

/// A GEMM shape label and 2·m·n·k, when the params carry m, n and k.
std::optional<std::pair<std::string, double>> gemm_shape(const Params& p) {
    const auto m = param_number(p, "m");
    const auto n = param_number(p, "n");
    const auto k = param_number(p, "k");
    if (!m || !n || !k) {
        return std::nullopt;
    }
    std::string label = fmt::format("m={},n={},k={}", param_or(p, "m", ""), param_or(p, "n", ""),
                                    param_or(p, "k", ""));
    if (auto it = p.find("shape"); it != p.end()) {
        label = it->second + " " + label;
    }
    return std::make_pair(label, 2.0 * *m * *n * *k);
}

double dtype_bytes(const std::string& dtype) {
    if (dtype == "f64") {
        return 8;
    }
    if (dtype == "f32" || dtype == "tf32") {
        return 4;
    }
    if (dtype == "f16" || dtype == "bf16") {
        return 2;
    }
    return 1;
}

/// The compute figure of a result in GFLOP/s (GOP/s for integer GEMMs), best and median.
std::optional<std::pair<double, double>> compute_rate(const Result& r) {
    for (const char* prefix : {"gflop_per_s", "gop_per_s"}) {
        const Metric* b = r.find_metric(std::string(prefix) + ".best");
        const Metric* m = r.find_metric(std::string(prefix) + ".median");
        if (b != nullptr && m != nullptr) {
            return std::make_pair(b->value, m->value);
        }
    }
    return std::nullopt;
}

}  // namespace

HostSelector parse_host_selector(const std::string& text) {
    HostSelector s;
    s.text = text;
    const auto colon = text.find(':');
    const std::string kind = colon == std::string::npos ? "" : text.substr(0, colon);
    const std::string value = colon == std::string::npos ? text : text.substr(colon + 1);
    if (colon == std::string::npos) {
        s.kind = HostSelector::Kind::hostname;
    } else if (kind == "hostname" || kind == "host") {
        s.kind = HostSelector::Kind::hostname;
    } else if (kind == "fingerprint" || kind == "fp") {
        s.kind = HostSelector::Kind::fingerprint;
    } else if (kind == "instance" || kind == "instance_type") {
        s.kind = HostSelector::Kind::instance;
    } else if (kind == "run") {
        s.kind = HostSelector::Kind::run;
        std::int64_t id = 0;
        const char* first = value.data();
        const char* last = first + value.size();
        if (auto [ptr, ec] = std::from_chars(first, last, id);
            ec != std::errc{} || ptr != last || id <= 0) {
            throw UsageError(
                fmt::format("host selector '{}': run id must be a positive integer", text));
        }
        s.run_id = id;
    } else {
        throw UsageError(fmt::format(
            "host selector '{}': unknown kind '{}' (expected hostname:, fingerprint:, instance:, "
            "run: or a bare hostname)",
            text, kind));
    }
    if (value.empty()) {
        throw UsageError(fmt::format("host selector '{}' has an empty value", text));
    }
    s.value = value;
    return s;
}

std::string match_params(const Params& params) {
    Params p = params;
    if (auto it = p.find("placement");
        it != p.end() && (it->second == "all_cores" || it->second == "device")) {
        p.erase(it);
    }
    Case c;
    c.params = std::move(p);
    return c.canonical_params();
}

CompareModel build_compare_model(const std::vector<CompareSource>& sources,
                                 const CompareOptions& options) {
    CompareModel model;
    model.generated_at = options.generated_at;
    model.per_backend = options.per_backend;
    model.family_filter = options.family_regex;
    model.price_table = options.price_table_path;
    model.bootstrap_resamples = options.bootstrap_resamples;
    model.bootstrap_seed = options.bootstrap_seed;
    model.confidence = options.confidence;
    model.same_margin = options.same_margin;
    for (const CompareSource& s : sources) {
        model.db_paths.push_back(s.path);
    }
    std::optional<Pattern> family_re;
    if (!options.family_regex.empty()) {
        family_re = Pattern::compile(options.family_regex, "--family");
    }

    const std::vector<Candidate> all = load_candidates(sources);
    // Selection.
    std::vector<std::size_t> selected;
    auto add_unique = [&](std::size_t idx, bool front) {
        for (std::size_t s : selected) {
            if (all[s].host_key == all[idx].host_key) {
                return;
            }
        }
        if (front) {
            selected.insert(selected.begin(), idx);
        } else {
            selected.push_back(idx);
        }
    };
    if (options.hosts.empty()) {
        // (host key, hostname): a hostname may itself hold a newline, so it is not cut back
        // out of the key.
        std::vector<std::pair<std::string, std::string>> keys;
        for (const Candidate& c : all) {
            if (std::find_if(keys.begin(), keys.end(),
                             [&](const auto& k) { return k.first == c.host_key; }) == keys.end()) {
                keys.emplace_back(c.host_key, c.run.hostname);
            }
        }
        for (const auto& [key, hostname] : keys) {
            HostSelector by_name;
            by_name.kind = HostSelector::Kind::hostname;
            by_name.value = hostname;
            for (std::size_t idx : resolve(by_name, all)) {
                if (all[idx].host_key == key && all[idx].run.status == RunStatus::complete) {
                    add_unique(idx, false);
                }
            }
        }
        if (selected.empty()) {
            throw UsageError("no host with a complete run in the given store(s)");
        }
    } else {
        for (const HostSelector& sel : options.hosts) {
            const std::vector<std::size_t> hits = resolve(sel, all);
            if (hits.empty()) {
                throw UsageError(fmt::format("host selector '{}' matches no stored run", sel.text));
            }
            for (std::size_t idx : hits) {
                add_unique(idx, false);
            }
        }
    }
    if (options.baseline) {
        const std::vector<std::size_t> hits = resolve(*options.baseline, all);
        if (hits.empty()) {
            throw UsageError(fmt::format("baseline selector '{}' matches no stored run",
                                         options.baseline->text));
        }
        if (hits.size() > 1) {
            throw UsageError(fmt::format("baseline selector '{}' matches {} hosts; pick one",
                                         options.baseline->text, hits.size()));
        }
        // The baseline goes first (selected or not); a host already selected moves there.
        const std::string key = all[hits[0]].host_key;
        std::size_t chosen = hits[0];
        for (auto it = selected.begin(); it != selected.end(); ++it) {
            if (all[*it].host_key == key) {
                chosen = *it;
                selected.erase(it);
                break;
            }
        }
        selected.insert(selected.begin(), chosen);
    }
    model.baseline = 0;

    // Hosts, cards and usable results.
    std::vector<HostData> data;
    std::map<std::string, int> label_count;
    for (std::size_t i = 0; i < selected.size(); ++i) {
        const Candidate& c = all[selected[i]];
        const Store& store = *sources[c.source].store;
        CompareHost h;
        h.hostname = c.run.hostname;
        const int n = ++label_count[c.run.hostname];
        h.label = n == 1 ? c.run.hostname : fmt::format("{}#{}", c.run.hostname, n);
        h.fingerprint = c.run.fingerprint;
        h.instance_type = c.instance_type;
        h.db_path = sources[c.source].path;
        h.run_id = c.run.id;
        h.run_uuid = c.run.info.uuid;
        h.baseline = i == 0;
        std::vector<StoredCeiling> ceilings = store.ceilings_for_run(c.run.id);
        if (ceilings.empty()) {
            ceilings = store.latest_ceilings(c.run.hw_config_id);
            if (!ceilings.empty()) {
                model.notes.push_back(fmt::format(
                    "{}: run {} measured no ceilings; the host's latest stored ceilings are shown",
                    h.label, c.run.id));
            }
        }
        h.card = make_card(c, ceilings);
        if (options.prices != nullptr) {
            if (const PriceEntry* p =
                    find_price(*options.prices, h.hostname, h.instance_type, h.fingerprint)) {
                h.usd_per_hour = p->usd_per_hour;
                h.price_source = fmt::format("{} ({}, {})", p->match, p->date, p->source);
            } else {
                h.price_source = "n/a (no price)";
            }
        } else {
            h.price_source = "n/a (no price table given)";
        }
        if (c.run.status != RunStatus::complete) {
            model.notes.push_back(fmt::format(
                "{}: run {} is {}{}", h.label, c.run.id, to_string(c.run.status),
                c.run.status_note.empty() ? std::string{} : " (" + c.run.status_note + ")"));
        }
        HostData d;
        d.cand = &c;
        for (StoredResult& sr : store.results_for_run(c.run.id)) {
            const Result& r = sr.result;
            if (r.status != ResultStatus::ok || r.samples.empty()) {
                continue;
            }
            if (family_re && !family_re->search(r.bench_case.family())) {
                continue;
            }
            d.results.push_back(std::move(sr));
        }
        data.push_back(std::move(d));
        model.hosts.push_back(std::move(h));
    }

    // Lanes: every (host, device) with results.
    for (std::size_t hi = 0; hi < data.size(); ++hi) {
        std::set<std::string> devices;
        for (const StoredResult& sr : data[hi].results) {
            devices.insert(sr.result.device);
        }
        for (const std::string& dev : devices) {
            model.lanes.push_back({hi, dev, model.hosts[hi].label + " " + dev});
        }
    }

    // Group by match key, host and slot; keep the best result per slot.
    using Key = std::pair<std::string, std::string>;  // benchmark, match params
    std::map<Key, std::vector<std::map<Slot, Scored>>> groups;
    for (std::size_t hi = 0; hi < data.size(); ++hi) {
        for (const StoredResult& sr : data[hi].results) {
            const Result& r = sr.result;
            Scored s{&sr, headline_of(r), false};
            if (!s.h.available) {
                continue;
            }
            s.lower = lower_is_better(s.h);
            auto& per_host = groups[{r.bench_case.benchmark, match_params(r.bench_case.params)}];
            per_host.resize(data.size());
            const Slot slot{r.device, options.per_backend ? r.backend : std::string{}};
            auto it = per_host[hi].find(slot);
            if (it == per_host[hi].end() || better(s, it->second)) {
                per_host[hi][slot] = s;
            }
        }
    }

    BootstrapOptions boot;
    boot.resamples = options.bootstrap_resamples;
    boot.seed = options.bootstrap_seed;
    boot.confidence = options.confidence;
    boot.same_margin = options.same_margin;

    // Family geometric means collect inputs per (family, host, baseline device, other device).
    using FamKey = std::tuple<std::string, std::size_t, std::string, std::string>;
    std::map<FamKey, std::vector<RatioInput>> fam_inputs;

    for (const auto& [key, per_host] : groups) {
        const std::string family = Case{key.first, {}}.family();
        // Coverage: which hosts have the case at all.
        std::vector<std::string> ran_on;
        std::vector<std::string> missing_on;
        for (std::size_t hi = 0; hi < per_host.size(); ++hi) {
            if (per_host[hi].empty()) {
                missing_on.push_back(model.hosts[hi].label);
            }
            std::set<std::string> devs;
            for (const auto& [slot, s] : per_host[hi]) {
                devs.insert(slot.device);
            }
            for (const std::string& d : devs) {
                ran_on.push_back(model.hosts[hi].label + " " + d);
            }
        }
        if (!missing_on.empty() && data.size() > 1) {
            model.one_sided.push_back({family, key.first, key.second, ran_on, missing_on});
        }
        if (data.size() < 2 || per_host[0].empty()) {
            continue;
        }
        std::set<Slot> other_slots;
        for (std::size_t hi = 1; hi < per_host.size(); ++hi) {
            for (const auto& [slot, s] : per_host[hi]) {
                other_slots.insert(slot);
            }
        }
        for (const auto& [bslot, bs] : per_host[0]) {
            for (const Slot& oslot : other_slots) {
                if (options.per_backend && bslot.device == oslot.device &&
                    bslot.backend != oslot.backend) {
                    continue;
                }
                CompareRow row;
                row.family = family;
                row.benchmark = key.first;
                row.params = key.second;
                row.baseline_device = bslot.device;
                row.other_device = oslot.device;
                row.device_label = device_label(bslot.device, oslot.device);
                row.quantity = bs.h.quantity;
                row.unit = bs.h.unit;
                row.cells.push_back(make_cell(0, bs, model.hosts[0]));
                for (std::size_t hi = 1; hi < per_host.size(); ++hi) {
                    auto it = per_host[hi].find(oslot);
                    if (it == per_host[hi].end()) {
                        continue;
                    }
                    CompareCell cell = make_cell(hi, it->second, model.hosts[hi]);
                    const RatioInput in = ratio_input(bs, it->second);
                    cell.vs_baseline = bootstrap_ratio(in, boot);
                    fam_inputs[{family, hi, bslot.device, oslot.device}].push_back(in);
                    row.cells.push_back(std::move(cell));
                }
                model.rows.push_back(std::move(row));
            }
        }
    }
    for (const auto& [fk, inputs] : fam_inputs) {
        FamilySummary f;
        f.family = std::get<0>(fk);
        f.host = std::get<1>(fk);
        f.baseline_device = std::get<2>(fk);
        f.other_device = std::get<3>(fk);
        f.device_label = device_label(f.baseline_device, f.other_device);
        f.rows = inputs.size();
        f.geomean = bootstrap_geomean(inputs, boot);
        model.families.push_back(std::move(f));
    }

    // Curves, cache boundaries, rooflines, GEMM efficiency, projections.
    for (std::size_t hi = 0; hi < data.size(); ++hi) {
        std::map<std::pair<std::string, std::string>, Curve> curves;  // (kind, series) per device
        for (const StoredResult& sr : data[hi].results) {
            const Result& r = sr.result;
            const bool sweep = r.bench_case.benchmark == "mem.sweep";
            const bool latency = r.bench_case.benchmark == "mem.latency";
            if (!sweep && !latency) {
                continue;
            }
            const Headline h = headline_of(r);
            const Params& p = r.bench_case.params;
            const std::string series = sweep ? fmt::format("{} {}", param_or(p, "kernel", "?"),
                                                           param_or(p, "placement", "?"))
                                             : fmt::format("{} pages", param_or(p, "pages", "?"));
            const double ws =
                metric_or(r, "working_set_bytes", param_number(p, "bytes").value_or(0));
            if (!(ws > 0)) {
                continue;
            }
            Curve& c = curves[{r.device + (sweep ? "\tbandwidth" : "\tlatency"), series}];
            c.host = hi;
            c.device = r.device;
            c.kind = sweep ? "bandwidth" : "latency";
            c.series = series;
            c.unit = h.unit;
            c.points.push_back({ws, h.median, h.best, level_of(r)});
        }
        for (auto& [k, c] : curves) {
            std::sort(c.points.begin(), c.points.end(),
                      [](const CurvePoint& a, const CurvePoint& b) {
                          return a.working_set_bytes < b.working_set_bytes;
                      });
            model.curves.push_back(std::move(c));
        }
        for (const CacheLevel& cl : data[hi].cand->info.topology.caches) {
            if (cl.type != "instruction") {
                model.cache_boundaries.push_back({hi, cl.name(), cl.size_bytes});
            }
        }

        const HostCard& card = model.hosts[hi].card;
        std::set<std::string> devices;
        for (const CompareCeiling& c : card.ceilings) {
            devices.insert(c.device);
        }
        for (const StoredResult& sr : data[hi].results) {
            devices.insert(sr.result.device);
        }
        for (const std::string& dev : devices) {
            Roofline rl;
            rl.host = hi;
            rl.device = dev;
            for (const CompareCeiling& c : card.ceilings) {
                if (c.device != dev) {
                    continue;
                }
                if (starts_with(c.name, "gemm.") &&
                    std::count(c.name.begin(), c.name.end(), '.') == 1) {
                    rl.compute.push_back({c.name, c.name.substr(5) + " GEMM", c.value, c.unit});
                } else if (starts_with(c.name, "mem.bandwidth.") && c.unit == "GB/s") {
                    rl.bandwidth.push_back(
                        {c.name, short_bandwidth_label(c.name), c.value, c.unit});
                }
            }
            for (const StoredResult& sr : data[hi].results) {
                const Result& r = sr.result;
                if (r.device != dev) {
                    continue;
                }
                const std::string& bench = r.bench_case.benchmark;
                const bool is_gemm = starts_with(bench, "gemm.");
                const bool is_attention = starts_with(bench, "attention.");
                if (!is_gemm && !is_attention) {
                    continue;
                }
                const auto rate = compute_rate(r);
                if (!rate) {
                    continue;
                }
                const std::string dtype = param_or(r.bench_case.params, "dtype", "");
                double intensity = 0;
                if (is_gemm) {
                    if (const auto shape = gemm_shape(r.bench_case.params)) {
                        const Params& p = r.bench_case.params;
                        const double m = param_number(p, "m").value_or(0);
                        const double n = param_number(p, "n").value_or(0);
                        const double k = param_number(p, "k").value_or(0);
                        const double bytes = metric_or(
                            r, "working_set_bytes", dtype_bytes(dtype) * (m * k + k * n + m * n));
                        intensity = bytes > 0 ? shape->second / bytes : 0;
                        GemmEfficiencyPoint e;
                        e.host = hi;
                        e.device = dev;
                        e.backend = r.backend;
                        e.dtype = dtype;
                        e.shape = shape->first;
                        e.flops = shape->second;
                        e.gflop_per_s = rate->first;
                        for (const CompareCeiling& c : card.ceilings) {
                            if (c.device == dev && c.name == "gemm." + dtype && c.value > 0) {
                                e.fraction_of_ceiling = rate->first / c.value;
                            }
                        }
                        model.gemm_efficiency.push_back(std::move(e));
                    }
                } else {
                    const Metric* gb = r.find_metric("bandwidth_stream_gb_per_s.median");
                    if (gb != nullptr && gb->value > 0) {
                        intensity = rate->second / gb->value;
                    }
                }
                if (intensity > 0) {
                    rl.points.push_back({bench, r.bench_case.canonical_params(), r.backend, dtype,
                                         intensity, rate->first});
                }
            }
            if (!rl.compute.empty() || !rl.bandwidth.empty() || !rl.points.empty()) {
                model.rooflines.push_back(std::move(rl));
            }

            std::uint64_t memory = card.memory_bytes;
            for (const CompareGpu& g : card.gpus) {
                if (g.device == dev) {
                    memory = g.memory_bytes;
                }
            }
            bool has_ceiling = false;
            for (const CompareCeiling& c : card.ceilings) {
                has_ceiling = has_ceiling || c.device == dev;
            }
            if (has_ceiling) {
                for (Projection& p : project_llm(hi, dev, card.ceilings, memory)) {
                    model.projections.push_back(std::move(p));
                }
            }
        }
    }
    std::stable_sort(
        model.rows.begin(), model.rows.end(), [](const CompareRow& a, const CompareRow& b) {
            return std::tie(a.family, a.benchmark, a.params, a.baseline_device, a.other_device) <
                   std::tie(b.family, b.benchmark, b.params, b.baseline_device, b.other_device);
        });
    if (data.size() < 2) {
        model.notes.push_back("only one host selected: no ratios");
    }
    return model;
}

}  // namespace assay
