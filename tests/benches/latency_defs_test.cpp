#include "benches/cpu/latency_defs.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "probes/probe.hpp"

namespace {

constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;

std::vector<std::filesystem::path> topology_files() {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(ASSAY_TOPOLOGY_DIR)) {
        if (entry.path().extension() == ".xml") {
            files.push_back(entry.path());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

const assay::Metric* context(const assay::BenchmarkDef& def, const std::string& name) {
    for (const assay::Metric& m : def.context) {
        if (m.name == name) {
            return &m;
        }
    }
    return nullptr;
}

/// The def's single level.<X> label, "" when it has none or several.
std::string level_of(const assay::BenchmarkDef& def) {
    std::string level;
    int found = 0;
    for (const assay::Metric& m : def.context) {
        if (m.name.rfind("level.", 0) == 0) {
            level = m.name.substr(6);
            ++found;
        }
    }
    return found == 1 ? level : std::string();
}

int level_rank(const std::string& level) {
    static const std::map<std::string, int> ranks = {
        {"L1d", 1}, {"L2", 2}, {"L3", 3}, {"L4", 4}, {"DRAM", 5}};
    const auto it = ranks.find(level);
    return it == ranks.end() ? 0 : it->second;
}

std::uint64_t param_u64(const assay::BenchmarkDef& def, const std::string& key) {
    return std::stoull(def.bench_case.params.at(key));
}

std::uint64_t cap_of(const assay::HostInfo& host) {
    if (host.topology.os_available_memory_bytes.has_value() &&
        *host.topology.os_available_memory_bytes != 0) {
        return *host.topology.os_available_memory_bytes / 4;
    }
    return host.topology.numa_memory_bytes / 4;
}

}  // namespace

TEST_CASE("latency_points_bytes: 4 KiB to >= 4x LLC in sqrt(2) steps", "[latency]") {
    const auto points = assay::latency_points_bytes(32 * kMiB);
    REQUIRE(points.front() == 4096);
    REQUIRE(points[1] == 5824);  // 4096 * sqrt(2) = 5792.6 -> 91 lines of 64 B
    REQUIRE(points.back() == 128 * kMiB);
    REQUIRE(points[points.size() - 2] < 128 * kMiB);
    for (std::size_t i = 1; i < points.size(); ++i) {
        REQUIRE(points[i] > points[i - 1]);
        REQUIRE(points[i] % 64 == 0);
    }
}

TEST_CASE("loaded_latency_stream_counts: geometric, ending at all other cores", "[latency]") {
    using V = std::vector<unsigned>;
    REQUIRE(assay::loaded_latency_stream_counts(0) == V{0});
    REQUIRE(assay::loaded_latency_stream_counts(1) == V{0, 1});
    REQUIRE(assay::loaded_latency_stream_counts(2) == V{0, 1, 2});
    REQUIRE(assay::loaded_latency_stream_counts(7) == V{0, 1, 2, 4, 7});
    REQUIRE(assay::loaded_latency_stream_counts(8) == V{0, 1, 2, 4, 8});
}

TEST_CASE("add_latency_defs on every real topology", "[latency]") {
    const auto files = topology_files();
    REQUIRE(files.size() >= 5);
    for (const auto& file : files) {
        CAPTURE(file.filename().string());
        assay::ProbeOptions options;
        options.topology_xml = file;
        options.query_gpus = false;
        const assay::HostInfo host = assay::probe_host(options);
        std::vector<assay::BenchmarkDef> defs;
        assay::add_latency_defs(host, {}, defs);

        const std::uint64_t llc =
            host.topology.total_llc_bytes() == 0 ? 64 * kMiB : host.topology.total_llc_bytes();
        const std::uint64_t cap = cap_of(host);
        std::set<std::string> names;
        std::map<std::string, std::vector<const assay::BenchmarkDef*>> chase_by_pages;
        std::vector<unsigned> stream_counts;
        int quick = 0;
        for (const auto& def : defs) {
            CAPTURE(def.full_name());
            REQUIRE(names.insert(def.full_name()).second);
            REQUIRE(def.aarch64 == "yes");
            REQUIRE(def.device == "cpu");
            REQUIRE(std::find(def.suites.begin(), def.suites.end(), "full") != def.suites.end());
            if (std::find(def.suites.begin(), def.suites.end(), "quick") != def.suites.end()) {
                ++quick;
            }
            if (host.topology.cores == 0) {
                REQUIRE(!def.skip_reason.empty());
                continue;
            }
            REQUIRE(def.skip_reason.empty());
            REQUIRE(def.make);
            if (def.bench_case.benchmark == "mem.latency") {
                REQUIRE(def.bench_case.params.size() == 2);
                chase_by_pages[def.bench_case.params.at("pages")].push_back(&def);
                REQUIRE(context(def, "working_set_bytes")->value ==
                        static_cast<double>(param_u64(def, "bytes")));
                REQUIRE(context(def, "loads")->value > 0);
            } else {
                REQUIRE(def.bench_case.benchmark == "mem.loaded_latency");
                const auto streams = static_cast<unsigned>(param_u64(def, "streams"));
                stream_counts.push_back(streams);
                REQUIRE(context(def, "streamer_threads")->value == streams);
                REQUIRE(context(def, "chase_bytes")->value >=
                        static_cast<double>(std::min(4 * llc, cap / 2)));
                if (streams > 0) {
                    REQUIRE(context(def, "stream_bytes_per_thread")->value > 0);
                }
            }
        }
        if (host.topology.cores == 0) {
            continue;
        }
        REQUIRE(quick == 1);
        REQUIRE(chase_by_pages.size() == 2);
        for (const auto& [pages, chase] : chase_by_pages) {
            CAPTURE(pages);
            REQUIRE((pages == "thp" || pages == "small"));
            REQUIRE(param_u64(*chase.front(), "bytes") == 4096);
            bool has_l1d = false;
            for (const assay::CacheLevel& c : host.topology.caches) {
                has_l1d = has_l1d || (c.name() == "L1d" && c.size_bytes >= 4096);
            }
            // Some XMLs (POWER8) carry no L1d size: the smallest known level labels 4 KiB.
            REQUIRE(level_rank(level_of(*chase.front())) > 0);
            if (has_l1d) {
                REQUIRE(level_of(*chase.front()) == "L1d");
            }
            for (std::size_t i = 1; i < chase.size(); ++i) {
                REQUIRE(param_u64(*chase[i], "bytes") > param_u64(*chase[i - 1], "bytes"));
                REQUIRE(level_rank(level_of(*chase[i])) >= level_rank(level_of(*chase[i - 1])));
                REQUIRE(level_rank(level_of(*chase[i])) > 0);
            }
            const std::uint64_t last = param_u64(*chase.back(), "bytes");
            REQUIRE(last <= cap);
            if (last < 4 * llc) {
                // Capped: the next sweep point would exceed the cap.
                const auto points = assay::latency_points_bytes(llc);
                const auto next = std::upper_bound(points.begin(), points.end(), last);
                REQUIRE(next != points.end());
                REQUIRE(*next > cap);
            } else {
                REQUIRE(level_of(*chase.back()) == "DRAM");
            }
        }
        const auto& thp = chase_by_pages.at("thp");
        REQUIRE(std::find(thp.back()->suites.begin(), thp.back()->suites.end(), "quick") !=
                thp.back()->suites.end());

        REQUIRE(!stream_counts.empty());
        REQUIRE(stream_counts.front() == 0);
        REQUIRE(stream_counts.back() == host.topology.cores - 1);
        for (std::size_t i = 1; i < stream_counts.size(); ++i) {
            REQUIRE(stream_counts[i] > stream_counts[i - 1]);
            REQUIRE(stream_counts[i] < host.topology.cores);
        }
    }
}

TEST_CASE("add_latency_defs respects the working-set cap", "[latency]") {
    assay::ProbeOptions options;
    options.topology_xml = std::string(ASSAY_TOPOLOGY_DIR) + "/192em64t-24n8c2t.xml";
    options.query_gpus = false;
    const assay::HostInfo host = assay::probe_host(options);
    REQUIRE(host.topology.cores > 8);
    const std::uint64_t cap = 8 * kMiB;
    std::vector<assay::BenchmarkDef> defs;
    assay::add_latency_defs(host, {cap}, defs);
    std::size_t loaded = 0;
    for (const auto& def : defs) {
        CAPTURE(def.full_name());
        REQUIRE(context(def, "working_set_bytes")->value <= static_cast<double>(cap));
        if (def.bench_case.benchmark == "mem.loaded_latency") {
            ++loaded;
            REQUIRE(context(def, "working_set_below_4x_llc") != nullptr);
        }
    }
    REQUIRE(loaded >= 4);
}

TEST_CASE("add_latency_defs skips with a reason without cores", "[latency]") {
    assay::HostInfo host;
    host.topology.numa_memory_bytes = 1024 * kMiB;
    std::vector<assay::BenchmarkDef> defs;
    assay::add_latency_defs(host, {}, defs);
    REQUIRE(!defs.empty());
    bool saw_loaded = false;
    for (const auto& def : defs) {
        REQUIRE(def.skip_reason == "no cores in the probed topology");
        REQUIRE_FALSE(def.make);
        saw_loaded = saw_loaded || def.bench_case.benchmark == "mem.loaded_latency";
    }
    REQUIRE(saw_loaded);
}
