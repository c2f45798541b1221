#include "benches/cpu/topology_defs.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "benches/cpu/core_to_core.hpp"
#include "benches/cpu/numa_plan.hpp"
#include "core/error.hpp"
#include "probes/probe.hpp"
#include "tests/benches/test_cpus.hpp"
#include "tests/benches/topology_xmls.hpp"

namespace {

constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;

using assay::test::topology_xmls;

assay::HostInfo xml_host(const std::filesystem::path& path) {
    assay::ProbeOptions options;
    options.topology_xml = path;
    options.query_gpus = false;
    return assay::probe_host(options);
}

std::optional<double> context(const assay::BenchmarkDef& def, const std::string& name) {
    for (const auto& m : def.context) {
        if (m.name == name) {
            return m.value;
        }
    }
    return std::nullopt;
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

TEST_CASE("add_numa_defs on this host: the cells run and verify", "[numa]") {
    assay::ProbeOptions probe;
    probe.query_gpus = false;
    const assay::HostInfo host = assay::probe_host(probe);
    assay::CatalogOptions options;
    options.max_working_set_bytes = 6 * kMiB;
    std::vector<assay::BenchmarkDef> defs;
    assay::add_numa_defs(host, options, defs);
    const std::vector<unsigned> allowed = assay::test::allowed_cpus(1024);
    std::size_t ran = 0;
    for (const auto& def : defs) {
        INFO(def.bench_case.id());
        if (!def.skip_reason.empty()) {
            continue;
        }
        const auto pus = assay::numa_node_core_pus(
            host.topology, static_cast<unsigned>(std::stoul(def.bench_case.params.at("cpu_node"))));
        const bool runnable = std::all_of(pus.begin(), pus.end(), [&](unsigned pu) {
            return std::find(allowed.begin(), allowed.end(), pu) != allowed.end();
        });
        if (!runnable) {
            continue;  // a restricted cpuset: the cell's cores are not ours to pin
        }
        auto kernel = def.make();
        try {
            kernel->prepare();
        } catch (const assay::Error& e) {
            // qemu-user and NUMA-less kernels (ENOSYS), seccomp-confined containers (EPERM).
            const std::string what = e.what();
            if (what.find("Function not implemented") != std::string::npos ||
                what.find("Operation not permitted") != std::string::npos) {
                WARN("memory binding unsupported here, cell not run: " << what);
                continue;
            }
            throw;
        }
        kernel->run();
        const assay::Verification v = kernel->verify();
        INFO(v.detail);
        CHECK(v.ok);
        ++ran;
    }
    if (ran == 0) {
        WARN("no NUMA cell runnable within this process's cpuset");
    }
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
    assay::ProbeOptions probe;
    probe.query_gpus = false;
    const assay::HostInfo host = assay::probe_host(probe);
    std::vector<assay::BenchmarkDef> defs;
    assay::add_c2c_defs(host, {}, defs);
    const std::vector<unsigned> allowed = assay::test::allowed_cpus(1024);
    auto is_allowed = [&](const std::string& pu) {
        return std::find(allowed.begin(), allowed.end(), std::stoul(pu)) != allowed.end();
    };
    for (const auto& def : defs) {
        if (!def.skip_reason.empty() || !is_allowed(def.bench_case.params.at("a")) ||
            !is_allowed(def.bench_case.params.at("b"))) {
            continue;
        }
        INFO(def.bench_case.id());
        auto kernel = def.make();
        kernel->prepare();
        kernel->run();
        const assay::Verification v = kernel->verify();
        INFO(v.detail);
        CHECK(v.ok);
        return;  // one pair is enough for a unit test
    }
    WARN("no core-to-core pair of this host is within this process's cpuset");
}
