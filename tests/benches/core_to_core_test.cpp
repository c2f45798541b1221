#include "benches/cpu/core_to_core.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "probes/probe.hpp"
#include "tests/benches/host_facilities.hpp"
#include "tests/benches/test_cpus.hpp"
#include "tests/benches/topology_xmls.hpp"

namespace {

using assay::test::topology_xmls;

assay::TopologyInfo xml_topology(const std::string& file) {
    assay::ProbeOptions options;
    options.topology_xml = std::filesystem::path(ASSAY_TOPOLOGY_DIR) / file;
    options.query_gpus = false;
    return assay::probe_host(options).topology;
}

assay::CacheLevel cache(int level, unsigned instances, unsigned cores_per_instance) {
    assay::CacheLevel c;
    c.level = level;
    c.type = "unified";
    c.size_bytes = std::uint64_t{1} << 20;
    c.instances = instances;
    c.cores_per_instance = cores_per_instance;
    return c;
}

/// 2 packages x 2 L3 x 2 L2 x 2 cores = 16 cores with SMT2 (PU c and c + 16 on core c).
/// l2_cores / l3_cores: cores per instance.
assay::TopologyInfo synthetic(unsigned l2_cores, unsigned l3_cores) {
    assay::TopologyInfo t;
    t.packages = 2;
    t.cores = 16;
    t.pus = 32;
    t.max_pus_per_core = 2;
    for (unsigned c = 0; c < 16; ++c) {
        assay::CoreInfo core;
        core.logical_index = c;
        core.package = c / 8;
        core.pu_os_indices = {c, c + 16};
        t.core_list.push_back(core);
    }
    t.caches = {cache(2, 16 / l2_cores, l2_cores), cache(3, 16 / l3_cores, l3_cores)};
    return t;
}

}  // namespace

TEST_CASE("core_relation: SMT, shared L2/L3, package, from the cache sharing", "[c2c]") {
    using assay::CoreRelation;
    const assay::TopologyInfo t = synthetic(2, 4);
    CHECK(assay::core_relation(t, 0, 16) == CoreRelation::smt);
    CHECK(assay::core_relation(t, 0, 1) == CoreRelation::same_l2);
    CHECK(assay::core_relation(t, 17, 0) == CoreRelation::same_l2);  // SMT sibling of core 1
    CHECK(assay::core_relation(t, 0, 2) == CoreRelation::same_l3);
    CHECK(assay::core_relation(t, 3, 2) == CoreRelation::same_l2);
    CHECK(assay::core_relation(t, 0, 4) == CoreRelation::same_package);
    CHECK(assay::core_relation(t, 7, 8) == CoreRelation::cross_package);
    CHECK(assay::core_relation(t, 0, 31) == CoreRelation::cross_package);
    CHECK_THROWS_AS(assay::core_relation(t, 0, 99), assay::UsageError);

    // Non-uniform L3 description (instances x cores/instance != cores): sharing unknown, so no
    // pair is claimed to share it.
    assay::TopologyInfo odd = synthetic(2, 4);
    odd.caches[1].instances = 3;
    CHECK(assay::core_relation(odd, 0, 2) == CoreRelation::same_package);
    CHECK(assay::core_relation(odd, 0, 1) == CoreRelation::same_l2);
}

TEST_CASE("c2c_pair_plan: all pairs on small hosts plus one SMT pair", "[c2c]") {
    const assay::TopologyInfo t = synthetic(2, 4);
    const auto plan = assay::c2c_pair_plan(t);
    REQUIRE(plan.size() == 16 * 15 / 2 + 1);
    std::set<std::pair<unsigned, unsigned>> seen;
    unsigned smt = 0;
    for (const auto& p : plan) {
        CHECK(p.pu_a != p.pu_b);
        CHECK(seen.insert({std::min(p.pu_a, p.pu_b), std::max(p.pu_a, p.pu_b)}).second);
        CHECK(p.relation == assay::core_relation(t, p.pu_a, p.pu_b));
        if (p.relation == assay::CoreRelation::smt) {
            ++smt;
            CHECK(p.pu_a == 0);
            CHECK(p.pu_b == 16);
        }
    }
    CHECK(smt == 1);

    assay::TopologyInfo one_core;
    one_core.core_list.push_back(assay::CoreInfo{0, 0, std::nullopt, {0}});
    CHECK(assay::c2c_pair_plan(one_core).empty());
    CHECK(assay::c2c_pair_plan(assay::TopologyInfo{}).empty());
}

TEST_CASE("c2c_pair_plan on every real topology: bounded, distinct, relations consistent",
          "[c2c]") {
    const auto files = topology_xmls();
    REQUIRE(files.size() >= 10);
    for (const auto& file : files) {
        INFO(file.filename().string());
        const assay::TopologyInfo t = xml_topology(file.filename().string());
        const auto plan = assay::c2c_pair_plan(t);
        const std::size_t n = t.core_list.size();
        const bool smt = t.max_pus_per_core > 1;
        if (n <= assay::kC2cAllPairsMaxCores) {
            CHECK(plan.size() == n * (n - 1) / 2 + (smt ? 1 : 0));
        } else {
            CHECK(plan.size() <= assay::kC2cMaxSampledPairs);
            CHECK(plan.size() >= assay::kC2cMaxSampledPairs / 2);
        }
        std::set<std::pair<unsigned, unsigned>> seen;
        std::set<assay::CoreRelation> relations;
        for (const auto& p : plan) {
            CHECK(p.pu_a != p.pu_b);
            CHECK(seen.insert({std::min(p.pu_a, p.pu_b), std::max(p.pu_a, p.pu_b)}).second);
            CHECK(p.relation == assay::core_relation(t, p.pu_a, p.pu_b));
            relations.insert(p.relation);
        }
        CHECK(relations.count(assay::CoreRelation::smt) == (smt ? 1u : 0u));
        CHECK(relations.count(assay::CoreRelation::cross_package) == (t.packages > 1 ? 1u : 0u));
        // Deterministic: the same cases on every run.
        const auto again = assay::c2c_pair_plan(t);
        REQUIRE(again.size() == plan.size());
        for (std::size_t i = 0; i < plan.size(); ++i) {
            CHECK(again[i].pu_a == plan[i].pu_a);
            CHECK(again[i].pu_b == plan[i].pu_b);
        }
    }
}

TEST_CASE("c2c relations on hand-checked topologies", "[c2c]") {
    using assay::CoreRelation;
    // The 2-core KVM guest: one package, private L2 per core, one shared L3.
    const assay::TopologyInfo kvm = xml_topology("kvm-2core-spr-amx.xml");
    const auto kvm_plan = assay::c2c_pair_plan(kvm);
    REQUIRE(kvm_plan.size() == 1);
    CHECK(kvm_plan[0].relation == CoreRelation::same_l3);

    // 64amd64-4s2n4ca2co: 4 packages x 2 NUMA nodes x 4 L2 (2 cores each, Bulldozer modules),
    // one L3 per NUMA node: cores 0/1 share an L2, 0/2 an L3, 0/8 only a package, 0/16 nothing.
    const assay::TopologyInfo amd = xml_topology("64amd64-4s2n4ca2co.xml");
    REQUIRE(amd.core_list.size() == 64);
    auto pu = [&](std::size_t core) { return amd.core_list[core].pu_os_indices.front(); };
    CHECK(assay::core_relation(amd, pu(0), pu(1)) == CoreRelation::same_l2);
    CHECK(assay::core_relation(amd, pu(0), pu(2)) == CoreRelation::same_l3);
    CHECK(assay::core_relation(amd, pu(0), pu(8)) == CoreRelation::same_package);
    CHECK(assay::core_relation(amd, pu(0), pu(16)) == CoreRelation::cross_package);
    const auto amd_plan = assay::c2c_pair_plan(amd);
    std::set<CoreRelation> classes;
    for (const auto& p : amd_plan) {
        classes.insert(p.relation);
    }
    CHECK(classes == std::set<CoreRelation>{CoreRelation::same_l2, CoreRelation::same_l3,
                                            CoreRelation::same_package,
                                            CoreRelation::cross_package});
}

TEST_CASE("CoreToCoreKernel rejects one PU for both threads and zero round trips", "[c2c]") {
    CHECK_THROWS_AS(assay::CoreToCoreKernel(1, 1, 100), assay::UsageError);
    CHECK_THROWS_AS(assay::CoreToCoreKernel(0, 1, 0), assay::UsageError);
    assay::CoreToCoreKernel k(0, 1, 10);
    CHECK_FALSE(k.verify().ok);  // nothing ran yet
    CHECK(k.work().operations == 20.0);
    CHECK(k.work().bytes_stream == 0.0);
}

TEST_CASE("CoreToCoreKernel ping-pongs between two PUs and verifies, and corruption fails",
          "[c2c]") {
    const std::vector<unsigned> cpus = assay::test::allowed_cpus(2);
    REQUIRE_FALSE(cpus.empty());
    if (cpus.size() < 2) {
        // One allowed CPU: the second thread has nowhere to run. Pinning it to a PU the process
        // cannot have is refused, naming the PU (the constructor refuses one PU for both).
        const unsigned other = assay::test::pu_missing_from_this_host();
        INFO("one allowed CPU (" << cpus.front() << "), pairing it with PU " << other);
        assay::CoreToCoreKernel k(cpus.front(), other, 10);
        CHECK_THROWS_WITH(k.prepare(), Catch::Contains("cannot pin a worker thread to PU " +
                                                       std::to_string(other)));
        return;
    }
    constexpr std::size_t kTrips = 2000;
    assay::CoreToCoreKernel k(cpus[0], cpus[1], kTrips);
    k.prepare();
    k.run();
    const assay::Verification first = k.verify();
    INFO(first.detail);
    CHECK(first.ok);
    CHECK(first.detail.find("4000") != std::string::npos);
    CHECK(k.work().operations == 2.0 * kTrips);
    CHECK_FALSE(k.implementation().empty());

    // A second sample starts from a fresh counter.
    k.run();
    CHECK(k.verify().ok);

    k.set_counter_for_test(2 * kTrips - 1);
    const assay::Verification corrupted = k.verify();
    INFO(corrupted.detail);
    CHECK_FALSE(corrupted.ok);
    CHECK(corrupted.detail.find("3999") != std::string::npos);

    // Reversed roles work too.
    assay::CoreToCoreKernel reversed(cpus[1], cpus[0], 500);
    reversed.prepare();
    reversed.run();
    CHECK(reversed.verify().ok);
}
