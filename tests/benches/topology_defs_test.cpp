#include "benches/cpu/topology_defs.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "benches/catalog_support.hpp"
#include "benches/cpu/core_to_core.hpp"
#include "benches/cpu/numa_plan.hpp"
#include "benches/cpu/pointer_chase.hpp"
#include "benches/cpu/stream_kernels.hpp"
#include "core/error.hpp"
#include "probes/probe.hpp"
#include "tests/benches/host_facilities.hpp"
#include "tests/benches/test_cpus.hpp"
#include "tests/benches/topology_xmls.hpp"
#include "tests/probes/topology_without_caches.hpp"

namespace {

constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;

using assay::test::topology_xmls;

assay::HostInfo xml_host(const std::filesystem::path& path) {
    assay::ProbeOptions options;
    options.topology_xml = path;
    options.query_gpus = false;
    return assay::probe_host(options);
}

std::uint64_t node_memory(const assay::TopologyInfo& topo, unsigned os_index) {
    for (const auto& node : topo.numa_nodes) {
        if (node.os_index == os_index) {
            return node.local_memory_bytes;
        }
    }
    return 0;
}

std::optional<double> context(const assay::BenchmarkDef& def, const std::string& name) {
    for (const auto& m : def.context) {
        if (m.name == name) {
            return m.value;
        }
    }
    return std::nullopt;
}

/// Runs the first planned pair inside this process's affinity mask; without one, tries a pair
/// outside it: it runs and verifies, or pinning is refused with the PU named.
void check_c2c_pair_or_refusal(const std::vector<assay::BenchmarkDef>& defs,
                               const std::function<bool(const std::string&)>& is_allowed,
                               std::size_t allowed_cpus) {
    const assay::BenchmarkDef* inside = nullptr;
    const assay::BenchmarkDef* outside = nullptr;
    for (const auto& def : defs) {
        REQUIRE(def.skip_reason.empty());
        const bool ours =
            is_allowed(def.bench_case.params.at("a")) && is_allowed(def.bench_case.params.at("b"));
        if (ours && inside == nullptr) {
            inside = &def;
        }
        if (!ours && outside == nullptr) {
            outside = &def;
        }
    }
    if (inside != nullptr) {
        INFO(inside->bench_case.id());
        auto kernel = inside->make();
        kernel->prepare();
        kernel->run();
        const assay::Verification v = kernel->verify();
        INFO(v.detail);
        CHECK(v.ok);
    } else {
        // No planned pair lies within this process's affinity (one allowed CPU, or a sampled
        // plan on a big host). Under a cgroup cpuset pinning is refused, naming the PU; an
        // affinity mask alone (taskset) does not stop it, and the pair runs.
        REQUIRE(outside != nullptr);
        INFO(outside->bench_case.id() << "; allowed CPUs: " << allowed_cpus);
        auto kernel = outside->make();
        std::string error;
        try {
            kernel->prepare();
        } catch (const assay::Error& e) {
            error = e.what();
        }
        INFO(error);
        if (error.empty()) {
            kernel->run();
            CHECK(kernel->verify().ok);
        } else {
            CHECK(assay::test::is_pin_refusal(error));
        }
    }
}

}  // namespace

TEST_CASE("add_numa_defs: one bandwidth pair per kernel and one latency case per cell", "[numa]") {
    for (const auto& path : topology_xmls()) {
        INFO(path.filename().string());
        const assay::HostInfo host = xml_host(path);
        const auto plan = assay::numa_matrix_plan(host.topology);
        REQUIRE_FALSE(plan.empty());
        assay::CatalogOptions options;
        options.max_working_set_bytes = 512 * kMiB;
        std::vector<assay::BenchmarkDef> defs;
        assay::add_numa_defs(host, options, defs);
        REQUIRE(defs.size() == 3 * plan.size());
        std::set<std::string> ids;
        for (const auto& def : defs) {
            INFO(def.bench_case.id());
            CHECK(ids.insert(def.full_name()).second);
            CHECK(def.suites == std::vector<std::string>{"full"});
            CHECK(def.aarch64 == "yes");
            CHECK(def.sampling.max_seconds == 5.0);
            REQUIRE(def.skip_reason.empty());
            CHECK(def.make != nullptr);
            const unsigned cpu =
                static_cast<unsigned>(std::stoul(def.bench_case.params.at("cpu_node")));
            const unsigned mem =
                static_cast<unsigned>(std::stoul(def.bench_case.params.at("mem_node")));
            CHECK(context(def, "cpu_node") == cpu);
            CHECK(context(def, "mem_node") == mem);
            const auto ws = context(def, "working_set_bytes");
            REQUIRE(ws.has_value());
            CHECK(*ws > 0);
            CHECK(*ws <= static_cast<double>(options.max_working_set_bytes));
            if (def.bench_case.benchmark == "mem.numa.bandwidth") {
                const std::string kernel = def.bench_case.params.at("kernel");
                CHECK((kernel == "sum" || kernel == "triad"));
                CHECK(def.bench_case.params.size() == 3);
                CHECK(context(def, "threads") ==
                      static_cast<double>(assay::numa_node_core_pus(host.topology, cpu).size()));
            } else {
                REQUIRE(def.bench_case.benchmark == "mem.numa.latency");
                CHECK(def.bench_case.params.size() == 2);
                CHECK(context(def, "threads") == 1.0);
            }
        }
    }
}

TEST_CASE("add_numa_defs on the 2-core KVM guest: a 1x1 matrix", "[numa]") {
    const assay::HostInfo host =
        xml_host(std::filesystem::path(ASSAY_TOPOLOGY_DIR) / "kvm-2core-spr-amx.xml");
    std::vector<assay::BenchmarkDef> defs;
    assay::add_numa_defs(host, {}, defs);
    std::vector<std::string> ids;
    for (const auto& def : defs) {
        ids.push_back(def.bench_case.id());
    }
    std::sort(ids.begin(), ids.end());
    CHECK(ids == std::vector<std::string>{"mem.numa.bandwidth/cpu_node=0,kernel=sum,mem_node=0",
                                          "mem.numa.bandwidth/cpu_node=0,kernel=triad,mem_node=0",
                                          "mem.numa.latency/cpu_node=0,mem_node=0"});
    for (const auto& def : defs) {
        if (def.bench_case.benchmark != "mem.numa.bandwidth") {
            continue;
        }
        // STREAM's rule: each array >= 4x the total LLC, unless the cap (here a quarter of the
        // node's memory: the XML has no OS memory figures) cuts it, which is then flagged.
        const double llc = static_cast<double>(host.topology.total_llc_bytes());
        REQUIRE(llc > 0);
        CHECK(context(def, "llc_bytes") == llc);
        const double node_quarter =
            static_cast<double>(host.topology.numa_nodes.at(0).local_memory_bytes) / 4;
        CHECK(*context(def, "working_set_bytes") <= node_quarter);
        if (*context(def, "array_bytes") < 4 * llc) {
            CHECK(context(def, "working_set_below_4x_llc") == 1.0);
            CHECK(*context(def, "working_set_bytes") > node_quarter - 3 * 2 * 64);
        } else {
            CHECK_FALSE(context(def, "working_set_below_4x_llc").has_value());
        }
        CHECK(context(def, "threads") == 2.0);
    }
}

TEST_CASE("add_numa_defs without cores or NUMA information skips with a reason", "[numa]") {
    std::vector<assay::BenchmarkDef> defs;
    assay::add_numa_defs(assay::HostInfo{}, {}, defs);
    REQUIRE(defs.size() == 3);
    for (const auto& def : defs) {
        CHECK(def.skip_reason == "no cores in the probed topology");
        CHECK(def.make == nullptr);
    }
    assay::HostInfo cores_only;
    cores_only.topology.core_list.push_back(assay::CoreInfo{0, 0, std::nullopt, {0}});
    defs.clear();
    assay::add_numa_defs(cores_only, {}, defs);
    REQUIRE(defs.size() == 3);
    for (const auto& def : defs) {
        CHECK(def.skip_reason == "no NUMA nodes in the probed topology");
        CHECK(def.make == nullptr);
    }
}

TEST_CASE("add_numa_defs: a tiny working-set cap skips instead of running nothing", "[numa]") {
    const assay::HostInfo host =
        xml_host(std::filesystem::path(ASSAY_TOPOLOGY_DIR) / "kvm-2core-spr-amx.xml");
    assay::CatalogOptions options;
    options.max_working_set_bytes = 256;  // one line per thread (2) for sum, not for triad's 3
    std::vector<assay::BenchmarkDef> defs;
    assay::add_numa_defs(host, options, defs);
    for (const auto& def : defs) {
        INFO(def.bench_case.id());
        if (def.bench_case.params.count("kernel") != 0 &&
            def.bench_case.params.at("kernel") == "triad") {
            CHECK_FALSE(def.skip_reason.empty());
            CHECK(def.make == nullptr);
        } else {
            CHECK(context(def, "working_set_below_4x_llc") == 1.0);
        }
    }
}

TEST_CASE("add_numa_defs on multi-node topologies: each cell's kernel binds its memory node",
          "[numa]") {
    std::size_t multi_node_files = 0;
    for (const auto& path : topology_xmls()) {
        const assay::HostInfo host = xml_host(path);
        const std::vector<unsigned> memory_nodes = assay::numa_memory_nodes(host.topology);
        if (memory_nodes.size() < 2) {
            continue;
        }
        ++multi_node_files;
        INFO(path.filename().string());
        std::vector<assay::BenchmarkDef> defs;
        assay::add_numa_defs(host, {}, defs);
        std::size_t remote = 0;
        for (const auto& def : defs) {
            INFO(def.bench_case.id());
            REQUIRE(def.skip_reason.empty());
            REQUIRE(def.make != nullptr);
            const auto cpu_node =
                static_cast<unsigned>(std::stoul(def.bench_case.params.at("cpu_node")));
            const auto mem_node =
                static_cast<unsigned>(std::stoul(def.bench_case.params.at("mem_node")));
            remote += cpu_node != mem_node ? 1 : 0;
            // The cell's memory budget is a quarter of its memory node (strict binding).
            const double node_quarter =
                static_cast<double>(node_memory(host.topology, mem_node)) / 4;
            CHECK(*context(def, "working_set_bytes") <= node_quarter);
            // Constructing a kernel pins and allocates nothing: inspect what it would do.
            const std::unique_ptr<assay::Kernel> kernel = def.make();
            if (def.bench_case.benchmark == "mem.numa.bandwidth") {
                const auto* stream = dynamic_cast<const assay::StreamKernel*>(kernel.get());
                REQUIRE(stream != nullptr);
                CHECK(stream->memory_node() == mem_node);
                CHECK(stream->pus() == assay::numa_node_core_pus(host.topology, cpu_node));
                CHECK(std::string(assay::stream_op_name(stream->op())) ==
                      def.bench_case.params.at("kernel"));
                CHECK(static_cast<double>(stream->elements() * sizeof(double)) ==
                      context(def, "array_bytes"));
            } else {
                CHECK(dynamic_cast<const assay::PointerChaseKernel*>(kernel.get()) != nullptr);
                CHECK(assay::numa_chaser_pu(host.topology, cpu_node).has_value());
            }
        }
        const std::size_t n_cpu = assay::numa_cpu_nodes(host.topology).size();
        CHECK(remote == 3 * n_cpu * (memory_nodes.size() - 1));
    }
    CHECK(multi_node_files >= 8);
}

TEST_CASE("add_numa_defs on a topology without caches: the LLC is assumed and flagged", "[numa]") {
    const std::filesystem::path xml =
        std::filesystem::path(ASSAY_TEST_TMP) / "benches" / "kvm-2core-no-caches.xml";
    std::filesystem::create_directories(xml.parent_path());
    REQUIRE(assay::test::write_topology_without_caches(
                std::filesystem::path(ASSAY_TOPOLOGY_DIR) / "kvm-2core-spr-amx.xml", xml) > 0);
    const assay::HostInfo host = xml_host(xml);
    REQUIRE(host.topology.caches.empty());
    CHECK_FALSE(host.topology.caches_missing_reason.empty());
    std::vector<assay::BenchmarkDef> defs;
    assay::add_numa_defs(host, {}, defs);
    REQUIRE(defs.size() == 3);
    for (const auto& def : defs) {
        INFO(def.bench_case.id());
        CHECK(def.skip_reason.empty());
        CHECK(context(def, "llc_bytes") == static_cast<double>(assay::catalog::kAssumedLlcBytes));
        CHECK(context(def, "llc_bytes_assumed") == 1.0);
    }
}

TEST_CASE("add_numa_defs on this host: every cell runs and verifies, or says why not", "[numa]") {
    const assay::HostInfo host = assay::test::live_host();
    assay::CatalogOptions options;
    options.max_working_set_bytes = 6 * kMiB;
    std::vector<assay::BenchmarkDef> defs;
    assay::add_numa_defs(host, options, defs);
    const auto plan = assay::numa_matrix_plan(host.topology);
    REQUIRE_FALSE(plan.empty());  // hwloc reports at least one node with this host's cores
    REQUIRE(defs.size() == 3 * plan.size());
    const std::vector<unsigned> allowed = assay::test::allowed_cpus(CPU_SETSIZE);
    std::size_t ran = 0;
    std::size_t refused = 0;
    std::size_t pin_refused = 0;
    for (const auto& def : defs) {
        INFO(def.bench_case.id());
        REQUIRE(def.skip_reason.empty());
        const auto cpu_node =
            static_cast<unsigned>(std::stoul(def.bench_case.params.at("cpu_node")));
        const auto mem_node =
            static_cast<unsigned>(std::stoul(def.bench_case.params.at("mem_node")));
        const auto pus = assay::numa_node_core_pus(host.topology, cpu_node);
        REQUIRE_FALSE(pus.empty());
        const bool in_affinity = std::all_of(pus.begin(), pus.end(), [&](unsigned pu) {
            return std::find(allowed.begin(), allowed.end(), pu) != allowed.end();
        });
        auto kernel = def.make();
        std::string error;
        try {
            kernel->prepare();
        } catch (const assay::Error& e) {
            error = e.what();
        }
        INFO(error);
        if (assay::test::is_pin_refusal(error)) {
            // A cgroup cpuset without the cell's cores: refused, naming a PU. (An affinity mask
            // alone, as from taskset, does not stop pinning: such cells run below.)
            CHECK_FALSE(in_affinity);
            ++pin_refused;
        } else if (!error.empty()) {
            // qemu-user and NUMA-less kernels (ENOSYS), seccomp-confined containers (EPERM).
            CHECK(assay::test::is_specific_binding_refusal(error, mem_node));
            ++refused;
        } else {
            kernel->run();
            const assay::Verification v = kernel->verify();
            INFO(v.detail);
            CHECK(v.ok);
            ++ran;
        }
    }
    CHECK(ran + refused + pin_refused == defs.size());
    // Binding works on a host or fails on all of its nodes: never a mix.
    CHECK((ran == 0 || refused == 0));
}

TEST_CASE("add_c2c_defs: one case per planned pair, bounded sampling, one relation", "[c2c]") {
    for (const auto& path : topology_xmls()) {
        INFO(path.filename().string());
        const assay::HostInfo host = xml_host(path);
        const auto plan = assay::c2c_pair_plan(host.topology);
        std::vector<assay::BenchmarkDef> defs;
        assay::add_c2c_defs(host, {}, defs);
        REQUIRE(defs.size() == plan.size());
        std::set<std::string> ids;
        for (std::size_t i = 0; i < defs.size(); ++i) {
            const auto& def = defs[i];
            INFO(def.bench_case.id());
            CHECK(ids.insert(def.full_name()).second);
            CHECK(def.bench_case.benchmark == "mem.c2c");
            CHECK(def.bench_case.params.at("a") == std::to_string(plan[i].pu_a));
            CHECK(def.bench_case.params.at("b") == std::to_string(plan[i].pu_b));
            CHECK(def.suites == std::vector<std::string>{"full"});
            CHECK(def.sampling.min_samples == std::size_t{5});
            CHECK(def.sampling.max_seconds == 1.0);
            CHECK(def.make != nullptr);
            std::size_t relations = 0;
            for (const auto& m : def.context) {
                if (m.name.rfind("relation.", 0) == 0) {
                    ++relations;
                    CHECK(m.name ==
                          "relation." + std::string(assay::core_relation_name(plan[i].relation)));
                    CHECK(m.value == 1.0);
                }
            }
            CHECK(relations == 1);
            CHECK(context(def, "round_trips") == static_cast<double>(assay::kC2cRoundTrips));
        }
    }
}

TEST_CASE("add_c2c_defs: a one-PU host gets a skipped case with the reason", "[c2c]") {
    assay::HostInfo host;
    host.topology.cores = 1;
    host.topology.pus = 1;
    host.topology.core_list.push_back(assay::CoreInfo{0, 0, 0u, {0}});
    std::vector<assay::BenchmarkDef> defs;
    assay::add_c2c_defs(host, {}, defs);
    REQUIRE(defs.size() == 1);
    CHECK(defs[0].skip_reason.find("two PUs") != std::string::npos);
    CHECK(defs[0].make == nullptr);
    defs.clear();
    assay::add_c2c_defs(assay::HostInfo{}, {}, defs);
    REQUIRE(defs.size() == 1);
    CHECK(defs[0].skip_reason == "no cores in the probed topology");
}

TEST_CASE("add_c2c_defs on this host: a planned pair runs and verifies", "[c2c]") {
    const assay::HostInfo host = assay::test::live_host();
    std::vector<assay::BenchmarkDef> defs;
    assay::add_c2c_defs(host, {}, defs);
    REQUIRE_FALSE(defs.empty());
    const std::vector<unsigned> allowed = assay::test::allowed_cpus(CPU_SETSIZE);
    auto is_allowed = [&](const std::string& pu) {
        return std::find(allowed.begin(), allowed.end(), std::stoul(pu)) != allowed.end();
    };
    if (host.topology.pus < 2) {
        // A one-PU host: the catalog's skipped case says why.
        REQUIRE(defs.size() == 1);
        CHECK(defs[0].skip_reason.find("two PUs") != std::string::npos);
        CHECK(defs[0].make == nullptr);
    } else {
        check_c2c_pair_or_refusal(defs, is_allowed, allowed.size());
    }
}
