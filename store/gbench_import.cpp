#include "store/gbench_import.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/sha256.hpp"
#include "core/stats.hpp"
#include "store/store.hpp"

namespace assay {

namespace {

using nlohmann::json;

/// Fields of a benchmark entry that are not user counters.
const std::set<std::string> kKnownFields = {
    "name",
    "family_index",
    "per_family_instance_index",
    "run_name",
    "run_type",
    "repetitions",
    "repetition_index",
    "threads",
    "iterations",
    "real_time",
    "cpu_time",
    "time_unit",
    "aggregate_name",
    "aggregate_unit",
    "error_occurred",
    "error_message",
    "skipped",
    "skip_message",
    "label",
    "big_o",
    "rms",
    "complexity",
};

[[noreturn]] void fail(const std::string& source, const std::string& problem) {
    throw InputError(fmt::format("'{}': {}", source, problem));
}

double seconds_per_unit(const std::string& unit, const std::string& source,
                        const std::string& bench) {
    if (unit == "ns")
        return 1e-9;
    if (unit == "us")
        return 1e-6;
    if (unit == "ms")
        return 1e-3;
    if (unit == "s")
        return 1.0;
    fail(source, fmt::format("benchmark '{}': unknown time_unit '{}'", bench, unit));
}

double number_field(const json& entry, const char* key, const std::string& source,
                    const std::string& bench) {
    const auto it = entry.find(key);
    if (it == entry.end() || !it->is_number()) {
        fail(source, fmt::format("benchmark '{}': '{}' is missing or not a number", bench, key));
    }
    return it->get<double>();
}

std::string text_field(const json& obj, const char* key) {
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
        return {};
    }
    return it->is_string() ? it->get<std::string>() : it->dump();
}

/// "2026-11-25T02:12:14+00:00" (local time with offset) -> "2026-11-25T02:12:14Z"; the text
/// unchanged when it does not parse (older versions wrote "11/25/26 02:12:14").
std::string to_utc_iso8601(const std::string& date) {
    std::tm tm{};
    int offset_h = 0;
    int offset_m = 0;
    char sign = '+';
    const int n =
        std::sscanf(date.c_str(), "%d-%d-%dT%d:%d:%d%c%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &sign, &offset_h, &offset_m);
    if (n < 6) {
        return date;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    std::time_t t = timegm(&tm);
    if (n == 9 && (sign == '+' || sign == '-')) {
        const long offset = (offset_h * 60L + offset_m) * 60L;
        t -= sign == '+' ? offset : -offset;
    }
    std::tm utc{};
    gmtime_r(&t, &utc);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return buf;
}

/// A uuid-shaped id from the first 128 bits of the content hash.
std::string uuid_from_hash(const std::string& hex) {
    return fmt::format("{}-{}-{}-{}-{}", hex.substr(0, 8), hex.substr(8, 4), hex.substr(12, 4),
                       hex.substr(16, 4), hex.substr(20, 12));
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
        const auto pos = s.find(sep, start);
        out.push_back(s.substr(start, pos - start));
        if (pos == std::string::npos) {
            return out;
        }
        start = pos + 1;
    }
}

/// "BM_x/64/m:2/real_time/threads:2/repeats:3" -> benchmark "gbench.BM_x" and params. How a
/// case is measured (repetitions, minimum time, fixed iterations) is not part of what it is.
Case case_of(const std::string& run_name, const std::string& exe) {
    const auto parts = split(run_name, '/');
    Case c;
    c.benchmark = "gbench." + parts[0];
    int positional = 0;
    for (std::size_t i = 1; i < parts.size(); ++i) {
        const std::string& p = parts[i];
        const auto colon = p.find(':');
        if (colon == std::string::npos) {
            if (p == "real_time" || p == "manual_time" || p == "process_time") {
                c.params[p] = "yes";
            } else if (!p.empty()) {
                c.params[fmt::format("arg{}", positional++)] = p;
            }
            continue;
        }
        const std::string key = p.substr(0, colon);
        if (key == "repeats" || key == "min_time" || key == "min_warmup_time" ||
            key == "iterations") {
            continue;
        }
        c.params[key] = p.substr(colon + 1);
    }
    if (!exe.empty()) {
        c.params["exe"] = exe;
    }
    return c;
}

double median_of(std::vector<double> v) {
    return summarize(v).median;
}

struct Group {
    std::string run_name;
    std::vector<const json*> iterations;
    std::vector<const json*> aggregates;
};

std::string group_name(const json& e, const std::string& name) {
    std::string run_name = text_field(e, "run_name");
    if (!run_name.empty()) {
        return run_name;
    }
    // Versions before run_name: an aggregate is "<name>_<aggregate>".
    const std::string agg = text_field(e, "aggregate_name");
    if (!agg.empty() && name.size() > agg.size() + 1 &&
        name.compare(name.size() - agg.size() - 1, std::string::npos, "_" + agg) == 0) {
        return name.substr(0, name.size() - agg.size() - 1);
    }
    return name;
}

Metric counter_metric(const std::string& key, const std::string& suffix, double value) {
    if (key == "bytes_per_second") {
        return {key + suffix, value, "B/s", Direction::higher_is_better};
    }
    if (key == "items_per_second") {
        return {key + suffix, value, "items/s", Direction::higher_is_better};
    }
    return {key + suffix, value, "", Direction::none};
}

Result result_of(const Group& g, const std::string& exe, const std::string& started_at,
                 const std::string& source) {
    Result r;
    r.bench_case = case_of(g.run_name, exe);
    r.device = "cpu";
    r.backend = "gbench";
    r.unit = "s";
    r.started_at = started_at;
    r.verification = "not checked (imported from Google Benchmark)";
    std::vector<double> cpu_seconds;
    std::vector<double> iterations;
    std::map<std::string, std::vector<double>> counters;
    for (const json* e : g.iterations) {
        const std::string name = text_field(*e, "name");
        const bool errored = e->value("error_occurred", false);
        const bool skipped = e->contains("skipped") && (*e)["skipped"].is_number() &&
                             (*e)["skipped"].get<int>() != 0;
        if (errored || skipped) {
            r.status = errored ? ResultStatus::failed : ResultStatus::skipped;
            r.message = text_field(*e, errored ? "error_message" : "skip_message");
            if (r.message.empty()) {
                r.message = errored ? "the benchmark reported an error" : "skipped";
            }
            r.samples.clear();
            r.metrics.clear();
            r.stats = SampleStats{};
            return r;
        }
        const double scale = seconds_per_unit(
            text_field(*e, "time_unit").empty() ? "ns" : text_field(*e, "time_unit"), source, name);
        r.samples.push_back(number_field(*e, "real_time", source, name) * scale);
        cpu_seconds.push_back(number_field(*e, "cpu_time", source, name) * scale);
        iterations.push_back(number_field(*e, "iterations", source, name));
        for (const auto& [key, value] : e->items()) {
            if (kKnownFields.count(key) == 0 && value.is_number()) {
                counters[key].push_back(value.get<double>());
            }
        }
    }
    r.status = ResultStatus::ok;
    if (!r.samples.empty()) {
        r.stats = summarize(r.samples);
        r.metrics.push_back(
            {"cpu_time_seconds.median", median_of(cpu_seconds), "s", Direction::lower_is_better});
        r.metrics.push_back(
            {"iterations.median", median_of(iterations), "iterations", Direction::none});
        for (const auto& [key, values] : counters) {
            r.metrics.push_back(counter_metric(key, ".median", median_of(values)));
        }
        return r;
    }
    // Aggregates only: kept as reported, the per-repetition samples are gone.
    r.message = "aggregates only (--benchmark_report_aggregates_only): no samples";
    for (const json* e : g.aggregates) {
        const std::string name = text_field(*e, "name");
        const std::string agg = text_field(*e, "aggregate_name");
        if (agg.empty()) {
            fail(source, fmt::format("benchmark '{}': aggregate without aggregate_name", name));
        }
        if (e->value("error_occurred", false)) {
            r.status = ResultStatus::failed;
            r.message = text_field(*e, "error_message");
            r.metrics.clear();
            return r;
        }
        const bool percentage = text_field(*e, "aggregate_unit") == "percentage";
        const double scale = percentage ? 1.0
                                        : seconds_per_unit(text_field(*e, "time_unit").empty()
                                                               ? "ns"
                                                               : text_field(*e, "time_unit"),
                                                           source, name);
        const Direction time_dir = (agg == "mean" || agg == "median" || agg == "min")
                                       ? Direction::lower_is_better
                                       : Direction::none;
        const std::string unit = percentage ? "fraction" : "s";
        r.metrics.push_back({fmt::format("real_time_seconds.{}", agg),
                             number_field(*e, "real_time", source, name) * scale, unit, time_dir});
        r.metrics.push_back({fmt::format("cpu_time_seconds.{}", agg),
                             number_field(*e, "cpu_time", source, name) * scale, unit, time_dir});
        for (const auto& [key, value] : e->items()) {
            if (kKnownFields.count(key) == 0 && value.is_number()) {
                r.metrics.push_back(counter_metric(key, "." + agg, value.get<double>()));
            }
        }
    }
    return r;
}

HostInfo host_of(const json& ctx, const std::string& started_at) {
    HostInfo h;
    const std::string hostname = text_field(ctx, "host_name");
    h.identity.hostname = hostname.empty() ? "unknown" : hostname;
    // Google Benchmark reports no machine id: derive a stable one from the hostname.
    h.identity.machine_id =
        "gbench-" + sha256_hex("gbench-host:" + h.identity.hostname).substr(0, 32);
    h.cpu.isa_source = "unknown: imported from a Google Benchmark context";
    h.cpu.microarchitecture = "unknown";
    h.topology.source = "Google Benchmark context";
    if (ctx.contains("mhz_per_cpu") && ctx["mhz_per_cpu"].is_number()) {
        h.cpu.max_mhz = ctx["mhz_per_cpu"].get<double>();
        h.cpu.frequency_source = "Google Benchmark context mhz_per_cpu";
    } else {
        h.cpu.frequency_source = "unknown: not in the Google Benchmark context";
    }
    unsigned cpus = 0;
    if (ctx.contains("num_cpus") && ctx["num_cpus"].is_number_unsigned()) {
        cpus = ctx["num_cpus"].get<unsigned>();
    }
    h.topology.pus = cpus;
    std::vector<std::string> keys = {"source=google-benchmark-context",
                                     "hostname=" + h.identity.hostname,
                                     fmt::format("num_cpus={}", cpus)};
    if (ctx.contains("caches") && ctx["caches"].is_array()) {
        for (const auto& c : ctx["caches"]) {
            if (!c.is_object()) {
                continue;
            }
            CacheLevel level;
            level.level = c.value("level", 0);
            std::string type = text_field(c, "type");
            std::transform(type.begin(), type.end(), type.begin(),
                           [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
            level.type = type;
            level.size_bytes = c.value("size", std::uint64_t{0});
            level.pus_per_instance = c.value("num_sharing", 0u);
            if (level.pus_per_instance > 0 && cpus > 0) {
                level.instances = cpus / level.pus_per_instance;
            }
            keys.push_back(fmt::format("cache=L{}:{}:{}:{}", level.level, level.type,
                                       level.size_bytes, level.pus_per_instance));
            h.topology.caches.push_back(level);
        }
    }
    h.os.cpu_governor = "unknown";
    h.os.virtualization = "unknown";
    h.os.container = "unknown";
    h.os.hw_counters_reason = "unknown: imported from a Google Benchmark context";
    h.gpu.none_reason = "not reported by Google Benchmark";
    h.fingerprint_keys = keys;
    std::string joined;
    for (const auto& k : keys) {
        joined += k + "\n";
    }
    h.fingerprint = sha256_hex(joined);
    h.probed_at = started_at;
    return h;
}

}  // namespace

GbenchImport parse_gbench_json(const std::string& text, const std::string& source_name) {
    json doc;
    try {
        doc = json::parse(text);
    } catch (const json::exception& e) {
        fail(source_name, fmt::format("malformed Google Benchmark JSON: {}", e.what()));
    }
    if (!doc.is_object() || !doc.contains("benchmarks") || !doc["benchmarks"].is_array()) {
        fail(source_name, "not Google Benchmark JSON: no \"benchmarks\" array");
    }
    const json ctx =
        doc.contains("context") && doc["context"].is_object() ? doc["context"] : json::object();
    GbenchImport out;
    const std::string date = text_field(ctx, "date");
    out.run.started_at = date.empty() ? std::string() : to_utc_iso8601(date);
    const std::string executable = text_field(ctx, "executable");
    const std::string exe = std::filesystem::path(executable).filename().string();
    out.host = host_of(ctx, out.run.started_at);
    out.run.uuid = uuid_from_hash(sha256_hex(text));
    const std::string version = text_field(ctx, "library_version");
    out.run.tool_version = version.empty() ? "google-benchmark" : "google-benchmark " + version;
    out.run.build_type = text_field(ctx, "library_build_type");
    out.run.command_line = executable;
    out.run.suite = "gbench";
    out.run.tags = {"gbench"};
    out.run.environment["gbench.source_file"] = source_name;
    for (const char* key :
         {"date", "executable", "num_cpus", "mhz_per_cpu", "cpu_scaling_enabled", "load_avg",
          "library_build_type", "library_version", "json_schema_version"}) {
        const std::string value = text_field(ctx, key);
        if (!value.empty()) {
            out.run.environment[std::string("gbench.") + key] = value;
        }
    }

    std::vector<Group> groups;
    std::map<std::string, std::size_t> index;
    for (const json& e : doc["benchmarks"]) {
        if (!e.is_object() || !e.contains("name") || !e["name"].is_string()) {
            fail(source_name, "a benchmark entry has no \"name\"");
        }
        const std::string name = e["name"].get<std::string>();
        const std::string key = group_name(e, name);
        auto [it, added] = index.emplace(key, groups.size());
        if (added) {
            groups.push_back(Group{key, {}, {}});
        }
        Group& g = groups[it->second];
        const std::string run_type = text_field(e, "run_type");
        if (run_type == "aggregate") {
            g.aggregates.push_back(&e);
        } else if (run_type.empty() || run_type == "iteration") {
            g.iterations.push_back(&e);
        } else {
            fail(source_name, fmt::format("benchmark '{}': unknown run_type '{}'", name, run_type));
        }
    }
    std::set<std::string> ids;
    for (const Group& g : groups) {
        Result r = result_of(g, exe, out.run.started_at, source_name);
        if (!ids.insert(r.bench_case.id()).second) {
            // Names differing only in how they were measured (repeats:3 vs repeats:5): the
            // full run name keeps them apart.
            r.bench_case.params["variant"] = g.run_name;
            ids.insert(r.bench_case.id());
        }
        out.results.push_back(std::move(r));
    }
    return out;
}

void write_gbench_run(Store& store, const GbenchImport& imported) {
    const std::int64_t config = store.record_host(imported.host);
    const std::int64_t run = store.begin_run(config, imported.run);
    for (const Result& r : imported.results) {
        store.add_result(run, r);
    }
    store.finish_run(run, RunStatus::complete, "imported from Google Benchmark JSON");
}

}  // namespace assay
