#include "benches/cpu/numa_plan.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "probes/probe.hpp"

namespace {

assay::TopologyInfo xml_topology(const std::filesystem::path& path) {
    assay::ProbeOptions options;
    options.topology_xml = path;
    options.query_gpus = false;
    return assay::probe_host(options).topology;
}

struct Expected {
    std::vector<unsigned> nodes;  ///< OS indices, all with cores and memory
    std::size_t cores_per_node;
};

/// Counted by hand (hwloc-calc --number-of core per node) for every file in the directory.
const std::map<std::string, Expected>& expected_shapes() {
    static const std::map<std::string, Expected> shapes = {
        {"128arm-2pa2n8cluster4co.xml", {{0, 1, 2, 3}, 32}},
        {"16amd64-4distances.xml", {{0, 1, 2, 3, 4, 5, 6, 7}, 2}},
        {"192em64t-24n8c2t.xml",
         {{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23},
          8}},
        {"32em64t-2n8c+dax+nvme+mic+dimms.xml", {{0, 1}, 8}},
        {"40intel64-2g2n4c+pcilocality.xml", {{0, 1, 2, 3}, 10}},
        {"64amd64-4s2n4ca2co.xml", {{0, 1, 2, 3, 4, 5, 6, 7}, 8}},
        {"96em64t-4n4d3ca2co-pci.xml", {{0, 1, 2, 3}, 24}},
        {"96em64t-4no4pa3ca2co.xml", {{0, 1, 2, 3}, 24}},
        {"kvm-2core-spr-amx.xml", {{0}, 2}},
        {"nvidia-dgx-gb10.xml", {{0}, 20}},
        {"nvidiagpunumanodes.xml", {{0, 8}, 4}},
        {"power8gpudistances.xml", {{0, 1}, 4}},
    };
    return shapes;
}

const assay::NumaNodeInfo* node_of(const assay::TopologyInfo& t, unsigned os_index) {
    for (const auto& n : t.numa_nodes) {
        if (n.os_index == os_index) {
            return &n;
        }
    }
    return nullptr;
}

}  // namespace

TEST_CASE("numa_matrix_plan on every real topology: N x N pairs of local cores", "[numa]") {
    std::size_t files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(ASSAY_TOPOLOGY_DIR)) {
        if (entry.path().extension() != ".xml") {
            continue;
        }
        const std::string name = entry.path().filename().string();
        INFO(name);
        const auto it = expected_shapes().find(name);
        REQUIRE(it != expected_shapes().end());  // a new file needs its shape counted here
        const Expected& want = it->second;
        ++files;

        const assay::TopologyInfo t = xml_topology(entry.path());
        CHECK(assay::numa_cpu_nodes(t) == want.nodes);
        CHECK(assay::numa_memory_nodes(t) == want.nodes);
        const std::vector<assay::NumaPair> plan = assay::numa_matrix_plan(t);
        REQUIRE(plan.size() == want.nodes.size() * want.nodes.size());

        // Ordered by cpu node, then memory node; every (i, j) exactly once.
        std::set<std::pair<unsigned, unsigned>> cells;
        for (std::size_t k = 0; k < plan.size(); ++k) {
            const auto& pair = plan[k];
            CHECK(pair.cpu_node == want.nodes[k / want.nodes.size()]);
            CHECK(pair.memory_node == want.nodes[k % want.nodes.size()]);
            CHECK(cells.insert({pair.cpu_node, pair.memory_node}).second);

            // The PUs are the first PUs of cores really local to the cpu node.
            REQUIRE(pair.cpu_pus.size() == want.cores_per_node);
            const assay::NumaNodeInfo* node = node_of(t, pair.cpu_node);
            REQUIRE(node != nullptr);
            for (const unsigned pu : pair.cpu_pus) {
                CHECK(std::count(node->pu_os_indices.begin(), node->pu_os_indices.end(), pu) == 1);
                const auto core =
                    std::find_if(t.core_list.begin(), t.core_list.end(), [&](const auto& c) {
                        return !c.pu_os_indices.empty() && c.pu_os_indices.front() == pu;
                    });
                REQUIRE(core != t.core_list.end());
                if (core->numa_node.has_value()) {
                    CHECK(*core->numa_node == pair.cpu_node);
                }
            }
            CHECK(assay::numa_chaser_pu(t, pair.cpu_node) == pair.cpu_pus.front());
        }

        // No PU on two nodes, and the nodes' cores together are all the cores.
        std::set<unsigned> all_pus;
        std::size_t pu_count = 0;
        for (const auto& n : t.numa_nodes) {
            all_pus.insert(n.pu_os_indices.begin(), n.pu_os_indices.end());
            pu_count += n.pu_os_indices.size();
        }
        CHECK(all_pus.size() == pu_count);
        std::set<unsigned> node_cores;
        for (const unsigned n : want.nodes) {
            for (const unsigned pu : assay::numa_node_core_pus(t, n)) {
                CHECK(node_cores.insert(pu).second);
            }
        }
        CHECK(node_cores.size() == t.core_list.size());
    }
    CHECK(files == expected_shapes().size());
}

TEST_CASE("numa_matrix_plan: memory-only nodes are targets, never sources", "[numa]") {
    assay::TopologyInfo t;
    for (unsigned c = 0; c < 4; ++c) {
        assay::CoreInfo core;
        core.logical_index = c;
        core.numa_node = c / 2;
        core.pu_os_indices = {c, c + 4};  // SMT siblings numbered after the cores
        t.core_list.push_back(core);
    }
    constexpr std::uint64_t kGiB = std::uint64_t{1} << 30;
    t.numa_nodes = {
        {0, 16 * kGiB, {0, 1, 4, 5}},
        {1, 16 * kGiB, {2, 3, 6, 7}},
        {4, 8 * kGiB, {}},  // HBM/CXL-like: memory, no CPUs
        {5, 0, {}},         // neither: no pair at all
    };
    CHECK(assay::numa_cpu_nodes(t) == std::vector<unsigned>{0, 1});
    CHECK(assay::numa_memory_nodes(t) == std::vector<unsigned>{0, 1, 4});
    const auto plan = assay::numa_matrix_plan(t);
    REQUIRE(plan.size() == 6);
    for (const auto& pair : plan) {
        CHECK(pair.cpu_node != 4);
        CHECK(pair.memory_node != 5);
        const std::vector<unsigned> want =
            pair.cpu_node == 0 ? std::vector<unsigned>{0, 1} : std::vector<unsigned>{2, 3};
        CHECK(pair.cpu_pus == want);
    }
    CHECK(plan[2].cpu_node == 0);
    CHECK(plan[2].memory_node == 4);
    CHECK_FALSE(assay::numa_chaser_pu(t, 4).has_value());
    CHECK(assay::numa_chaser_pu(t, 1) == 2u);
    CHECK(assay::numa_node_core_pus(t, 42).empty());

    // A CPU node without memory (memory all on other nodes) is a source only.
    t.numa_nodes[1].local_memory_bytes = 0;
    CHECK(assay::numa_matrix_plan(t).size() == 2 * 2);

    CHECK(assay::numa_matrix_plan(assay::TopologyInfo{}).empty());
}
