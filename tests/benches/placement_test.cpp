#include "benches/cpu/placement.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "benches/catalog.hpp"
#include "probes/probe.hpp"

namespace {

constexpr std::uint64_t kKiB = 1024;
constexpr std::uint64_t kMiB = kKiB * 1024;

assay::TopologyInfo load(const std::string& file) {
    assay::ProbeOptions options;
    options.topology_xml = std::string(ASSAY_TOPOLOGY_DIR) + "/" + file;
    options.query_gpus = false;
    return assay::probe_host(options).topology;
}

const assay::Placement* find(const std::vector<assay::Placement>& ps, const std::string& label) {
    for (const auto& p : ps) {
        if (p.label == label) {
            return &p;
        }
    }
    return nullptr;
}

std::vector<std::string> labels(const std::vector<assay::Placement>& ps) {
    std::vector<std::string> out;
    for (const auto& p : ps) {
        out.push_back(p.label);
    }
    return out;
}

bool distinct(const std::vector<unsigned>& pus) {
    return std::set<unsigned>(pus.begin(), pus.end()).size() == pus.size();
}

}  // namespace

TEST_CASE("placements on a 24-package, 24-node SMT2 Xeon", "[benches][placement]") {
    const auto topo = load("192em64t-24n8c2t.xml");
    const auto ps = assay::cpu_placements(topo);
    CHECK(labels(ps) ==
          std::vector<std::string>{"one_core", "numa0_cores", "all_cores", "all_pus", "socket0"});
    CHECK(find(ps, "one_core")->pus == std::vector<unsigned>{0});
    CHECK(find(ps, "numa0_cores")->pus.size() == 8);
    CHECK(find(ps, "all_cores")->pus.size() == 192);
    CHECK(find(ps, "all_pus")->pus.size() == 384);
    CHECK(find(ps, "socket0")->pus.size() == 8);
    for (const auto& p : ps) {
        INFO(p.label);
        CHECK(distinct(p.pus));
    }
    // One thread per core: no two all_cores PUs are SMT siblings of one core.
    for (const auto& core : topo.core_list) {
        const auto& all = find(ps, "all_cores")->pus;
        const auto n = std::count_if(all.begin(), all.end(), [&](unsigned pu) {
            return std::find(core.pu_os_indices.begin(), core.pu_os_indices.end(), pu) !=
                   core.pu_os_indices.end();
        });
        CHECK(n == 1);
    }
}

TEST_CASE("placements on a 4-socket, 8-node AMD without SMT", "[benches][placement]") {
    const auto topo = load("64amd64-4s2n4ca2co.xml");
    const auto ps = assay::cpu_placements(topo);
    // No SMT: all_pus would duplicate all_cores and is left out.
    CHECK(labels(ps) ==
          std::vector<std::string>{"one_core", "numa0_cores", "all_cores", "socket0"});
    CHECK(find(ps, "numa0_cores")->pus.size() == 8);
    CHECK(find(ps, "all_cores")->pus.size() == 64);
    CHECK(find(ps, "socket0")->pus.size() == 16);
    // numa0 cores all sit in the first NUMA node that has PUs.
    const auto& node_pus = topo.numa_nodes.front().pu_os_indices;
    for (unsigned pu : find(ps, "numa0_cores")->pus) {
        CHECK(std::find(node_pus.begin(), node_pus.end(), pu) != node_pus.end());
    }
}

TEST_CASE("placements on a 2-core KVM guest are one_core and all_cores", "[benches][placement]") {
    const auto topo = load("kvm-2core-spr-amx.xml");
    const auto ps = assay::cpu_placements(topo);
    CHECK(labels(ps) == std::vector<std::string>{"one_core", "all_cores"});
    CHECK(find(ps, "all_cores")->pus == std::vector<unsigned>{0, 1});
    // The individual functions still answer on one node / one package.
    CHECK(assay::numa0_cores_pus(topo) == std::vector<unsigned>{0, 1});
    CHECK(assay::socket0_pus(topo) == std::vector<unsigned>{0, 1});
}

TEST_CASE("placements of an empty topology are empty", "[benches][placement]") {
    const assay::TopologyInfo topo;
    const auto ps = assay::cpu_placements(topo);
    CHECK(labels(ps) == std::vector<std::string>{"one_core", "all_cores"});
    for (const auto& p : ps) {
        CHECK(p.pus.empty());
    }
    CHECK(assay::numa0_cores_pus(topo).empty());
}

TEST_CASE("cache_level_label on the KVM XML (48 KiB L1d, 2 MiB L2, 480 MiB L3 for 2 cores)",
          "[benches][placement][sweep]") {
    const auto topo = load("kvm-2core-spr-amx.xml");
    CHECK(assay::cache_level_label(topo, 4 * kKiB) == "L1d");
    CHECK(assay::cache_level_label(topo, 48 * kKiB) == "L1d");
    CHECK(assay::cache_level_label(topo, 48 * kKiB + 1) == "L2");
    CHECK(assay::cache_level_label(topo, 2 * kMiB) == "L2");
    CHECK(assay::cache_level_label(topo, 2 * kMiB + 1) == "L3");
    // Both cores busy: each thread's share of the L3 is half of it.
    CHECK(assay::cache_level_label(topo, 240 * kMiB) == "L3");
    CHECK(assay::cache_level_label(topo, 240 * kMiB + 1) == "DRAM");
    // One thread alone has the whole L3.
    CHECK(assay::cache_level_label(topo, 480 * kMiB, 1) == "L3");
    CHECK(assay::cache_level_label(topo, 480 * kMiB + 1, 1) == "DRAM");
}

TEST_CASE("cache_level_label without cache information is DRAM", "[benches][placement][sweep]") {
    const assay::TopologyInfo topo;
    CHECK(assay::cache_level_label(topo, 64) == "DRAM");
}

TEST_CASE("cache_level_label on this host is monotonic from L1d to DRAM",
          "[benches][placement][sweep]") {
    assay::ProbeOptions options;
    options.query_gpus = false;
    const auto topo = assay::probe_host(options).topology;
    CHECK(assay::cache_level_label(topo, std::uint64_t{1} << 50) == "DRAM");
    const bool has_l1d = std::any_of(topo.caches.begin(), topo.caches.end(), [](const auto& c) {
        return c.level == 1 && c.type != "instruction" && c.size_bytes >= 4 * kKiB;
    });
    if (has_l1d) {
        CHECK(assay::cache_level_label(topo, 4 * kKiB) == "L1d");
    }
    // Labels only ever move outwards as the working set grows.
    const std::vector<std::string> order = {"L1d", "L1", "L2", "L3", "L4", "DRAM"};
    std::size_t last = 0;
    for (std::uint64_t bytes = 4 * kKiB; bytes <= (std::uint64_t{1} << 34); bytes *= 2) {
        const auto label = assay::cache_level_label(topo, bytes);
        const auto pos =
            static_cast<std::size_t>(std::find(order.begin(), order.end(), label) - order.begin());
        INFO(bytes << " -> " << label);
        REQUIRE(pos < order.size());
        CHECK(pos >= last);
        last = pos;
    }
}

TEST_CASE("the catalog of a 192-core SMT host uses every placement, with unique names",
          "[benches][placement][catalog]") {
    assay::ProbeOptions options;
    options.topology_xml = std::string(ASSAY_TOPOLOGY_DIR) + "/192em64t-24n8c2t.xml";
    options.query_gpus = false;
    const auto defs = assay::build_catalog(assay::probe_host(options));
    std::set<std::string> names;
    std::set<std::string> placements;
    for (const auto& d : defs) {
        INFO(d.full_name());
        CHECK(names.insert(d.full_name()).second);
        if (d.bench_case.benchmark == "stream.copy") {
            placements.insert(d.bench_case.params.at("placement"));
            CHECK(d.skip_reason.empty());
        }
        if (d.bench_case.benchmark == "mem.sweep" && d.bench_case.params.at("bytes") == "4096" &&
            d.bench_case.params.at("placement") == "all_cores") {
            // 4 KiB cannot give each of 192 threads a cache line: skipped, with the reason.
            CHECK_FALSE(d.skip_reason.empty());
            CHECK_FALSE(d.make);
        }
    }
    CHECK(placements ==
          std::set<std::string>{"one_core", "numa0_cores", "all_cores", "all_pus", "socket0"});
}
