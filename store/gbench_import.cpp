#include "store/gbench_import.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string_view>

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

/// Limits on what one file may bring: a name is an identity (and shown in every report), the
/// rest is provenance text.
constexpr std::size_t kMaxNameBytes = 512;
constexpr std::size_t kMaxTextBytes = 4096;

[[noreturn]] void fail(const std::string& source, const std::string& problem) {
    throw InputError(fmt::format("'{}': {}", source, problem));
}

/// A name fit for a one-line message: control characters escaped, at most 80 bytes.
std::string shown(const std::string& name) {
    std::string out;
    for (const char ch : name) {
        const auto c = static_cast<unsigned char>(ch);
        out += c < 0x20 || c == 0x7f ? fmt::format("\\x{:02x}", static_cast<unsigned>(c))
                                     : std::string(1, ch);
        if (out.size() >= 80) {
            return out + "...";
        }
    }
    return out;
}

/// "benchmark #3 'BM_x/1'": how errors name an entry of the "benchmarks" array.
std::string entry_label(std::size_t index, const std::string& name) {
    return fmt::format("benchmark #{} '{}'", index, shown(name));
}

const char* type_name(const json& v) {
    return v.type_name();
}

double seconds_per_unit(const std::string& unit, const std::string& source,
                        const std::string& where) {
    if (unit == "ns")
        return 1e-9;
    if (unit == "us")
        return 1e-6;
    if (unit == "ms")
        return 1e-3;
    if (unit == "s")
        return 1.0;
    fail(source, fmt::format("{}: unknown time_unit '{}'", where, shown(unit)));
}

/// A required finite, non-negative number (times, iterations).
double number_field(const json& entry, const char* key, const std::string& source,
                    const std::string& where) {
    const auto it = entry.find(key);
    if (it == entry.end() || !it->is_number()) {
        fail(source, fmt::format("{}: '{}' is {}, expected a number", where, key,
                                 it == entry.end() ? "missing" : type_name(*it)));
    }
    const double v = it->get<double>();
    if (!std::isfinite(v) || v < 0) {
        fail(source,
             fmt::format("{}: '{}' is {}, expected a finite non-negative number", where, key, v));
    }
    return v;
}

/// An optional boolean (false when absent or null).
bool bool_field(const json& entry, const char* key, const std::string& source,
                const std::string& where) {
    const auto it = entry.find(key);
    if (it == entry.end() || it->is_null()) {
        return false;
    }
    if (!it->is_boolean()) {
        fail(source,
             fmt::format("{}: '{}' is {}, expected true or false", where, key, type_name(*it)));
    }
    return it->get<bool>();
}

/// An optional non-negative integer no larger than `max` (0 when absent or null); never a
/// wrapped or truncated conversion.
std::uint64_t uint_field(const json& obj, const char* key, std::uint64_t max,
                         const std::string& source, const std::string& where) {
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
        return 0;
    }
    if (it->is_number_unsigned() && it->get<std::uint64_t>() <= max) {
        return it->get<std::uint64_t>();
    }
    if (it->is_number_float()) {
        const double v = it->get<double>();
        if (std::isfinite(v) && v >= 0 && v <= static_cast<double>(max) && std::floor(v) == v) {
            return static_cast<std::uint64_t>(v);
        }
    }
    fail(source, fmt::format("{}: '{}' is {}, expected an integer from 0 to {}", where, key,
                             it->is_number() || it->is_string() ? it->dump().substr(0, 40)
                                                                : std::string(type_name(*it)),
                             max));
}

/// Free text of an object, at most kMaxTextBytes; "" when absent or null. Numbers and other
/// scalars are kept as their JSON text (context fields such as num_cpus).
std::string text_field(const json& obj, const char* key, const std::string& source,
                       const std::string& where) {
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
        return {};
    }
    std::string text = it->is_string() ? it->get<std::string>() : it->dump();
    if (text.size() > kMaxTextBytes) {
        fail(source, fmt::format("{}: '{}' is {} bytes, longer than the limit of {}", where, key,
                                 text.size(), kMaxTextBytes));
    }
    return text;
}

/// An optional string field (its value must be a string when present).
std::string string_field(const json& obj, const char* key, const std::string& source,
                         const std::string& where) {
    const auto it = obj.find(key);
    if (it != obj.end() && !it->is_null() && !it->is_string()) {
        fail(source, fmt::format("{}: '{}' is {}, expected a string", where, key, type_name(*it)));
    }
    return text_field(obj, key, source, where);
}

/// Benchmark names are identities: bounded, and free of control characters.
void check_name(const std::string& name, const char* key, const std::string& source,
                const std::string& where) {
    if (name.empty()) {
        fail(source, fmt::format("{}: '{}' is empty", where, key));
    }
    if (name.size() > kMaxNameBytes) {
        fail(source, fmt::format("{}: '{}' is {} bytes, longer than the limit of {}", where, key,
                                 name.size(), kMaxNameBytes));
    }
    for (const char ch : name) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7f) {
            fail(source, fmt::format("{}: '{}' contains the control character {:#04x}", where, key,
                                     static_cast<unsigned>(c)));
        }
    }
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
        // No key before the ':' ("BM_x/:5"): a positional argument, kept whole.
        if (colon == std::string::npos || colon == 0) {
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

/// One entry of the "benchmarks" array, with its position for error messages.
struct Entry {
    const json* e;
    std::string label;  ///< entry_label()
};

struct Group {
    std::string run_name;
    std::vector<Entry> iterations;
    std::vector<Entry> aggregates;
};

std::string group_name(const json& e, const std::string& name, const std::string& source,
                       const std::string& where) {
    std::string run_name = string_field(e, "run_name", source, where);
    if (!run_name.empty()) {
        check_name(run_name, "run_name", source, where);
        return run_name;
    }
    // Versions before run_name: an aggregate is "<name>_<aggregate>".
    const std::string agg = string_field(e, "aggregate_name", source, where);
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
    for (const auto& [e, where] : g.iterations) {
        const bool errored = bool_field(*e, "error_occurred", source, where);
        bool skipped = false;
        if (const auto it = e->find("skipped"); it != e->end() && !it->is_null()) {
            // An enum (0 = not skipped) in current versions; a boolean is read too.
            if (it->is_boolean()) {
                skipped = it->get<bool>();
            } else if (it->is_number() && std::isfinite(it->get<double>())) {
                skipped = it->get<double>() != 0;
            } else {
                fail(source,
                     fmt::format("{}: 'skipped' is {}, expected a number", where, type_name(*it)));
            }
        }
        if (errored || skipped) {
            r.status = errored ? ResultStatus::failed : ResultStatus::skipped;
            r.message = text_field(*e, errored ? "error_message" : "skip_message", source, where);
            if (r.message.empty()) {
                r.message = errored ? "the benchmark reported an error" : "skipped";
            }
            r.samples.clear();
            r.metrics.clear();
            r.stats = SampleStats{};
            return r;
        }
        const std::string unit = string_field(*e, "time_unit", source, where);
        const double scale = seconds_per_unit(unit.empty() ? "ns" : unit, source, where);
        r.samples.push_back(number_field(*e, "real_time", source, where) * scale);
        cpu_seconds.push_back(number_field(*e, "cpu_time", source, where) * scale);
        iterations.push_back(number_field(*e, "iterations", source, where));
        for (const auto& [key, value] : e->items()) {
            if (kKnownFields.count(key) == 0 && value.is_number()) {
                check_name(key, "counter name", source, where);
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
    for (const auto& [e, where] : g.aggregates) {
        const std::string agg = string_field(*e, "aggregate_name", source, where);
        if (agg.empty()) {
            fail(source, fmt::format("{}: aggregate without aggregate_name", where));
        }
        check_name(agg, "aggregate_name", source, where);
        if (bool_field(*e, "error_occurred", source, where)) {
            r.status = ResultStatus::failed;
            r.message = text_field(*e, "error_message", source, where);
            r.metrics.clear();
            return r;
        }
        const bool percentage = string_field(*e, "aggregate_unit", source, where) == "percentage";
        const std::string unit = string_field(*e, "time_unit", source, where);
        const double scale =
            percentage ? 1.0 : seconds_per_unit(unit.empty() ? "ns" : unit, source, where);
        const Direction time_dir = (agg == "mean" || agg == "median" || agg == "min")
                                       ? Direction::lower_is_better
                                       : Direction::none;
        const std::string value_unit = percentage ? "fraction" : "s";
        r.metrics.push_back({fmt::format("real_time_seconds.{}", agg),
                             number_field(*e, "real_time", source, where) * scale, value_unit,
                             time_dir});
        r.metrics.push_back({fmt::format("cpu_time_seconds.{}", agg),
                             number_field(*e, "cpu_time", source, where) * scale, value_unit,
                             time_dir});
        for (const auto& [key, value] : e->items()) {
            if (kKnownFields.count(key) == 0 && value.is_number()) {
                check_name(key, "counter name", source, where);
                r.metrics.push_back(counter_metric(key, "." + agg, value.get<double>()));
            }
        }
    }
    return r;
}

HostInfo host_of(const json& ctx, const std::string& started_at, const std::string& source) {
    const std::string where = "context";
    HostInfo h;
    const std::string hostname = string_field(ctx, "host_name", source, where);
    if (hostname.size() > kMaxNameBytes) {
        check_name(hostname, "host_name", source, where);
    }
    h.identity.hostname = hostname.empty() ? "unknown" : hostname;
    // Google Benchmark reports no machine id: derive a stable one from the hostname.
    h.identity.machine_id =
        "gbench-" + sha256_hex("gbench-host:" + h.identity.hostname).substr(0, 32);
    h.cpu.isa_source = "unknown: imported from a Google Benchmark context";
    h.cpu.microarchitecture = "unknown";
    h.topology.source = "Google Benchmark context";
    const auto mhz = ctx.find("mhz_per_cpu");
    if (mhz != ctx.end() && mhz->is_number()) {
        h.cpu.max_mhz = number_field(ctx, "mhz_per_cpu", source, where);
        h.cpu.frequency_source = "Google Benchmark context mhz_per_cpu";
    } else {
        h.cpu.frequency_source = "unknown: not in the Google Benchmark context";
    }
    constexpr std::uint64_t kMaxCpus = 1u << 20;
    const auto cpus = static_cast<unsigned>(uint_field(ctx, "num_cpus", kMaxCpus, source, where));
    h.topology.pus = cpus;
    std::vector<std::string> keys = {"source=google-benchmark-context",
                                     "hostname=" + h.identity.hostname,
                                     fmt::format("num_cpus={}", cpus)};
    if (ctx.contains("caches") && ctx["caches"].is_array()) {
        std::size_t i = 0;
        for (const auto& c : ctx["caches"]) {
            const std::string at = fmt::format("context.caches[{}]", i++);
            if (!c.is_object()) {
                continue;
            }
            CacheLevel level;
            level.level = static_cast<int>(uint_field(c, "level", 16, source, at));
            std::string type = string_field(c, "type", source, at);
            if (type.size() > 64) {
                fail(source, fmt::format("{}: 'type' is {} bytes, longer than the limit of 64", at,
                                         type.size()));
            }
            std::transform(type.begin(), type.end(), type.begin(),
                           [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
            level.type = type;
            level.size_bytes = uint_field(c, "size", std::uint64_t{1} << 50, source, at);
            level.pus_per_instance =
                static_cast<unsigned>(uint_field(c, "num_sharing", kMaxCpus, source, at));
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

GbenchImport parse_document(const std::string& raw, const std::string& source_name) {
    // A UTF-8 byte order mark (editors on Windows write one) is not JSON but harmless.
    constexpr std::string_view kBom = "\xEF\xBB\xBF";
    const std::string_view body =
        std::string_view(raw).substr(raw.rfind(kBom, 0) == 0 ? kBom.size() : 0);
    json doc;
    try {
        doc = json::parse(body);
    } catch (const json::exception& e) {
        fail(source_name, fmt::format("malformed Google Benchmark JSON: {}", e.what()));
    }
    if (!doc.is_object() || !doc.contains("benchmarks") || !doc["benchmarks"].is_array()) {
        fail(source_name, "not Google Benchmark JSON: no \"benchmarks\" array");
    }
    const json ctx =
        doc.contains("context") && doc["context"].is_object() ? doc["context"] : json::object();
    GbenchImport out;
    const std::string date = string_field(ctx, "date", source_name, "context");
    out.run.started_at = date.empty() ? std::string() : to_utc_iso8601(date);
    const std::string executable = string_field(ctx, "executable", source_name, "context");
    const std::string exe = std::filesystem::path(executable).filename().string();
    out.host = host_of(ctx, out.run.started_at, source_name);
    out.run.uuid = uuid_from_hash(sha256_hex(raw));
    const std::string version = string_field(ctx, "library_version", source_name, "context");
    out.run.tool_version = version.empty() ? "google-benchmark" : "google-benchmark " + version;
    out.run.build_type = string_field(ctx, "library_build_type", source_name, "context");
    out.run.command_line = executable;
    out.run.suite = "gbench";
    out.run.tags = {"gbench"};
    out.run.environment["gbench.source_file"] = source_name;
    for (const char* key :
         {"date", "executable", "num_cpus", "mhz_per_cpu", "cpu_scaling_enabled", "load_avg",
          "library_build_type", "library_version", "json_schema_version"}) {
        const std::string value = text_field(ctx, key, source_name, "context");
        if (!value.empty()) {
            out.run.environment[std::string("gbench.") + key] = value;
        }
    }

    std::vector<Group> groups;
    std::map<std::string, std::size_t> index;
    std::size_t i = 0;
    for (const json& e : doc["benchmarks"]) {
        const std::size_t at = i++;
        if (!e.is_object() || !e.contains("name") || !e["name"].is_string()) {
            fail(source_name, fmt::format("benchmark #{} has no \"name\" string", at));
        }
        const std::string name = e["name"].get<std::string>();
        const std::string where = entry_label(at, name);
        check_name(name, "name", source_name, where);
        const std::string key = group_name(e, name, source_name, where);
        auto [it, added] = index.emplace(key, groups.size());
        if (added) {
            groups.push_back(Group{key, {}, {}});
        }
        Group& g = groups[it->second];
        const std::string run_type = string_field(e, "run_type", source_name, where);
        if (run_type == "aggregate") {
            g.aggregates.push_back({&e, where});
        } else if (run_type.empty() || run_type == "iteration") {
            g.iterations.push_back({&e, where});
        } else {
            fail(source_name, fmt::format("{}: unknown run_type '{}'", where, shown(run_type)));
        }
    }
    std::set<std::string> ids;
    for (const Group& g : groups) {
        Result r = result_of(g, exe, out.run.started_at, source_name);
        if (!ids.insert(r.bench_case.id()).second) {
            // Names differing only in how they were measured (repeats:3 vs repeats:5): the
            // full run name keeps them apart.
            r.bench_case.params["variant"] = g.run_name;
            if (!ids.insert(r.bench_case.id()).second) {
                fail(source_name, fmt::format("benchmark '{}' appears twice", shown(g.run_name)));
            }
        }
        out.results.push_back(std::move(r));
    }
    return out;
}

}  // namespace

GbenchImport parse_gbench_json(const std::string& text, const std::string& source_name) {
    try {
        return parse_document(text, source_name);
    } catch (const json::exception& e) {
        // Every field is checked before it is read; this is the net under that.
        fail(source_name, fmt::format("unexpected Google Benchmark JSON: {}", e.what()));
    }
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
