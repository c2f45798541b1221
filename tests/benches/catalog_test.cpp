#include "benches/catalog.hpp"

#include "benches/cpu/stream_triad.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <optional>
#include <set>
#include <string>

namespace {

constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;
constexpr std::uint64_t kGiB = kMiB << 10;

assay::HostInfo two_core_host() {
    assay::HostInfo h;
    h.topology.packages = 1;
    h.topology.cores = 2;
    h.topology.pus = 4;
    for (unsigned c = 0; c < 2; ++c) {
        assay::CoreInfo core;
        core.logical_index = c;
        core.pu_os_indices = {c, c + 2};  // SMT siblings numbered after all cores
        h.topology.core_list.push_back(core);
    }
    assay::CacheLevel l2;
    l2.level = 2;
    l2.type = "unified";
    l2.size_bytes = 1 * kMiB;
    l2.instances = 2;
    assay::CacheLevel l3;
    l3.level = 3;
    l3.type = "unified";
    l3.size_bytes = 32 * kMiB;
    l3.instances = 1;
    h.topology.caches = {l2, l3};
    h.topology.numa_memory_bytes = 16 * kGiB;
    h.topology.os_available_memory_bytes = 8 * kGiB;
    return h;
}

const assay::BenchmarkDef* find(const std::vector<assay::BenchmarkDef>& defs,
                                const std::string& placement) {
    for (const auto& d : defs) {
        if (d.bench_case.params.at("placement") == placement) {
            return &d;
        }
    }
    return nullptr;
}

double context(const assay::BenchmarkDef& d, const std::string& name, double missing = -1) {
    for (const auto& m : d.context) {
        if (m.name == name) {
            return m.value;
        }
    }
    return missing;
}

}  // namespace

TEST_CASE("catalog sizes stream.triad at >= 4x LLC with one thread per core",
          "[benches][catalog]") {
    const auto defs = assay::build_catalog(two_core_host());
    const auto* all = find(defs, "all_cores");
    const auto* one = find(defs, "one_core");
    REQUIRE(all != nullptr);
    REQUIRE(one != nullptr);

    CHECK(all->full_name() ==
          "stream.triad/dtype=f64,placement=all_cores,size=dram@cpu:cpu.native");
    CHECK(all->suites == std::vector<std::string>{"quick", "full"});
    CHECK(one->suites == std::vector<std::string>{"full"});
    CHECK(all->aarch64 == "yes");
    CHECK(all->skip_reason.empty());
    REQUIRE(all->make);

    CHECK(context(*all, "threads") == 2);
    CHECK(context(*one, "threads") == 1);
    const double array_bytes = context(*all, "array_bytes");
    CHECK(array_bytes >= 4.0 * 32 * kMiB);
    CHECK(std::fmod(array_bytes, 2 * 64) == 0);
    CHECK(context(*all, "working_set_bytes") == 3 * array_bytes);
    CHECK(context(*all, "llc_bytes") == 32.0 * kMiB);
    CHECK(context(*all, "working_set_below_4x_llc", 0) == 0);
    CHECK(context(*all, "llc_bytes_assumed", 0) == 0);
    for (const auto& m : all->context) {
        CHECK(m.direction == assay::Direction::none);
    }
}

TEST_CASE("catalog places the all_cores kernel on the first PU of each core",
          "[benches][catalog]") {
    // make() builds a kernel without pinning or allocating (that happens in prepare()).
    const auto defs = assay::build_catalog(two_core_host());
    const auto* all = find(defs, "all_cores");
    const auto* one = find(defs, "one_core");
    REQUIRE(all != nullptr);
    REQUIRE(one != nullptr);
    auto k_all = all->make();
    auto k_one = one->make();
    const auto* triad_all = dynamic_cast<const assay::StreamTriadKernel*>(k_all.get());
    const auto* triad_one = dynamic_cast<const assay::StreamTriadKernel*>(k_one.get());
    REQUIRE(triad_all != nullptr);
    REQUIRE(triad_one != nullptr);
    CHECK(triad_all->pus() == std::vector<unsigned>{0, 1});
    CHECK(triad_one->pus() == std::vector<unsigned>{0});
    CHECK(static_cast<double>(triad_all->elements()) * 8 == context(*all, "array_bytes"));
    CHECK(k_all->work().bytes_stream == 3 * context(*all, "array_bytes"));
}

TEST_CASE("catalog skips with a reason when the topology has no cores", "[benches][catalog]") {
    assay::HostInfo h = two_core_host();
    h.topology.core_list.clear();
    const auto defs = assay::build_catalog(h);
    REQUIRE(!defs.empty());
    for (const auto& d : defs) {
        if (d.device != "cpu") {
            continue;  // GPU entries have their own reasons (no GPU in this host)
        }
        CHECK(d.skip_reason == "no cores in the probed topology");
        CHECK_FALSE(d.make);
    }
}

TEST_CASE("a tiny working-set cap shrinks the arrays and says so", "[benches][catalog]") {
    const std::uint64_t cap = 3 * kMiB;
    const auto defs = assay::build_catalog(two_core_host(), {.max_working_set_bytes = cap});
    const auto* all = find(defs, "all_cores");
    REQUIRE(all != nullptr);
    const double array_bytes = context(*all, "array_bytes");
    CHECK(array_bytes > 0);
    CHECK(3 * array_bytes <= static_cast<double>(cap));
    CHECK(std::fmod(array_bytes, 2 * 64) == 0);
    CHECK(context(*all, "working_set_below_4x_llc") == 1);
}

TEST_CASE("available memory caps the working set when no explicit cap", "[benches][catalog]") {
    assay::HostInfo h = two_core_host();
    h.topology.os_available_memory_bytes = 600 * kMiB;  // cap = 150 MiB in all
    const auto defs = assay::build_catalog(h);
    const auto* all = find(defs, "all_cores");
    REQUIRE(all != nullptr);
    CHECK(context(*all, "working_set_bytes") <= 150.0 * kMiB);
    CHECK(context(*all, "working_set_below_4x_llc") == 1);

    h.topology.os_available_memory_bytes.reset();  // falls back to NUMA memory (16 GiB / 4)
    const auto defs2 = assay::build_catalog(h);
    CHECK(context(*find(defs2, "all_cores"), "working_set_below_4x_llc", 0) == 0);
}

TEST_CASE("an unknown LLC assumes 64 MiB and records the assumption", "[benches][catalog]") {
    assay::HostInfo h = two_core_host();
    h.topology.caches.clear();
    const auto defs = assay::build_catalog(h);
    const auto* all = find(defs, "all_cores");
    REQUIRE(all != nullptr);
    CHECK(context(*all, "llc_bytes_assumed") == 1);
    CHECK(context(*all, "llc_bytes") == 64.0 * kMiB);
    CHECK(context(*all, "array_bytes") >= 4.0 * 64 * kMiB);
}

// Graviton is the AI CPU that matters most: every benchmark must say how it runs on aarch64,
// either "yes" (an Arm implementation exists) or an explicit, recorded "n/a on aarch64: <reason>".
TEST_CASE("every catalog entry has an aarch64 implementation or a recorded n/a",
          "[catalog][aarch64]") {
    auto host = two_core_host();
    const auto defs = assay::build_catalog(host);
    REQUIRE_FALSE(defs.empty());
    for (const auto& d : defs) {
        INFO(d.full_name() << " aarch64='" << d.aarch64 << "'");
        const bool yes = d.aarch64 == "yes";
        const std::string na_prefix = "n/a on aarch64: ";
        const bool na = d.aarch64.rfind(na_prefix, 0) == 0 && d.aarch64.size() > na_prefix.size();
        CHECK((yes || na));
    }
}

TEST_CASE("catalog entries have unique names and belong to a suite", "[catalog]") {
    const auto defs = assay::build_catalog(two_core_host());
    std::set<std::string> names;
    for (const auto& d : defs) {
        INFO(d.full_name());
        CHECK(names.insert(d.full_name()).second);
        CHECK_FALSE(d.suites.empty());
        CHECK((d.skip_reason.empty() == static_cast<bool>(d.make)));
    }
}

TEST_CASE("a host without GPUs gets one skipped CUDA entry that says why", "[catalog][cuda]") {
    assay::HostInfo h = two_core_host();
    h.gpu.none_reason = "none detected: no NVIDIA driver";
    const auto defs = assay::build_catalog(h);
    int cuda = 0;
    for (const auto& d : defs) {
        if (d.device.rfind("cuda:", 0) != 0)
            continue;
        ++cuda;
        CHECK_FALSE(d.make);
        CHECK_FALSE(d.skip_reason.empty());
    }
    CHECK(cuda == 1);
}
