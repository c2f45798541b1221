// Smoke test of probe_host() on the machine running the tests, and the reason the probe records
// when it finds no caches (which the live test accepts only with that reason, off x86-64).
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "core/host_info.hpp"
#include "probes/fs.hpp"
#include "probes/internal.hpp"
#include "probes/probe.hpp"
#include "test_support.hpp"
#include "topology_without_caches.hpp"

TEST_CASE("live probe describes this machine", "[probes][live]") {
    assay::ProbeOptions options;
    options.query_gpus = true;  // with CUDA: "no device" here is data, never an exception
    const assay::HostInfo host = assay::probe_host(options);
#if defined(__x86_64__)
    CHECK(host.cpu.arch == "x86_64");
    CHECK(host.cpu.has("avx2") == static_cast<bool>(__builtin_cpu_supports("avx2")));
    CHECK(host.cpu.has("avx512f") == static_cast<bool>(__builtin_cpu_supports("avx512f")));
    CHECK_FALSE(host.cpu.vendor.empty());
    CHECK(host.cpu.family.has_value());
#elif defined(__aarch64__)
    CHECK(host.cpu.arch == "aarch64");
    CHECK(host.cpu.has("asimd"));
    // scripts/qemu-aarch64.sh sets ASSAY_SVE_BITS and starts qemu with that vector length.
    if (const char* bits = std::getenv("ASSAY_SVE_BITS")) {
        CHECK(host.cpu.has("sve"));
        REQUIRE(host.cpu.sve_vector_bits.has_value());
        CHECK(*host.cpu.sve_vector_bits == static_cast<unsigned>(std::stoul(bits)));
    }
    CHECK(host.cpu.family.has_value());  // MIDR implementer: sysfs or the emulated register
    CHECK(host.cpu.model.has_value());
    CHECK_FALSE(host.cpu.vendor.empty());
    CHECK_FALSE(host.cpu.model_name.empty());
#endif
    CHECK(std::is_sorted(host.cpu.isa_features.begin(), host.cpu.isa_features.end()));
    // "this host", plus a note when the caches came from the sysfs fallback.
    CHECK(host.topology.source.rfind("this host", 0) == 0);
    CHECK(host.topology.cores >= 1);
    CHECK(host.topology.pus >= host.topology.cores);
#if defined(__x86_64__)
    // hwloc reads the caches from cpuid on x86-64 (sysfs too): none here would be a probe bug.
    CHECK_FALSE(host.topology.caches.empty());
#endif
    // Elsewhere (qemu-user aarch64 on a VM without sysfs cache entries) caches may be missing,
    // but only with the probe saying why; found caches carry no such reason.
    if (host.topology.caches.empty()) {
        INFO("no caches: " << host.topology.caches_missing_reason);
        CHECK_THAT(host.topology.caches_missing_reason,
                   Catch::StartsWith("hwloc reported no caches and "));
        CHECK(host.topology.caches_missing_reason.size() >
              std::string("hwloc reported no caches and ").size());
        CHECK(host.topology.total_llc_bytes() == 0);
    } else {
        CHECK(host.topology.caches_missing_reason.empty());
        CHECK(host.topology.total_llc_bytes() > 0);
    }
    CHECK(host.topology.os_memory_bytes.has_value());
    CHECK_FALSE(host.cpu.microarchitecture.empty());
    CHECK_FALSE(host.cpu.frequency_source.empty());
    CHECK_FALSE(host.os.hw_counters_reason.empty());
    CHECK_FALSE(host.os.virtualization.empty());
    CHECK_FALSE(host.identity.hostname.empty());
    CHECK_FALSE(host.identity.machine_id.empty());
    CHECK(host.fingerprint.size() == 64);
    CHECK_FALSE(host.fingerprint_keys.empty());
    CHECK_FALSE(host.probed_at.empty());
    if (host.gpu.gpus.empty()) {
        CHECK_FALSE(host.gpu.none_reason.empty());
    }
    for (const auto& gpu : host.gpu.gpus) {
        CHECK(gpu.uuid.rfind("GPU-", 0) == 0);
        CHECK(gpu.uuid.size() == 40);
        CHECK(gpu.memory_bytes > 0);
        CHECK(gpu.sm_count > 0);
    }
}

TEST_CASE("a topology XML without caches: empty caches with the reason", "[probes][topology]") {
    const std::filesystem::path dir = assay::test::scratch_dir("xml_without_caches");
    const std::filesystem::path xml = dir / "kvm-2core-no-caches.xml";
    // kvm-2core-spr-amx.xml: one L3, and an L2, L1d and L1i per core.
    REQUIRE(assay::test::write_topology_without_caches(
                assay::test::topology("kvm-2core-spr-amx.xml"), xml) == 7);
    assay::ProbeOptions options;
    options.topology_xml = xml;
    options.query_gpus = false;
    const assay::HostInfo host = assay::probe_host(options);
    CHECK(host.topology.caches.empty());
    CHECK(host.topology.caches_missing_reason == "the topology XML has no cache objects");
    CHECK(host.topology.last_level_cache() == nullptr);
    CHECK(host.topology.total_llc_bytes() == 0);
    // The rest of the topology is untouched.
    CHECK(host.topology.cores == 2);
    CHECK(host.topology.pus == 2);
    REQUIRE(host.topology.numa_nodes.size() == 1);
    CHECK(host.topology.numa_nodes[0].local_memory_bytes == 7476555776ULL);
    // The reason survives the HostInfo JSON round trip (the store keeps hosts as JSON).
    const assay::HostInfo back = assay::host_info_from_json(assay::to_json(host));
    CHECK(back.topology.caches_missing_reason == host.topology.caches_missing_reason);

    // The same XML with its caches: no reason.
    options.topology_xml = assay::test::topology("kvm-2core-spr-amx.xml");
    const assay::HostInfo full = assay::probe_host(options);
    CHECK(full.topology.caches.size() == 4);
    CHECK(full.topology.caches_missing_reason.empty());
}

TEST_CASE("sysfs without usable cache entries: the reason names what is missing",
          "[probes][fs][topology]") {
    namespace fs = std::filesystem;
    using assay::probes::caches_from_sysfs;
    using assay::probes::sysfs_caches_missing_reason;
    const std::string cpu_dir = "/sys/devices/system/cpu";
    const std::vector<assay::CoreInfo> cores = {{0, 0, 0U, {0}}, {1, 0, 0U, {1}}};

    SECTION("no cpu directory at all") {
        const fs::path root = assay::test::scratch_dir("sysfs_reason_empty");
        CHECK(caches_from_sysfs(root, cores).empty());
        const std::string why = sysfs_caches_missing_reason(root);
        CHECK_THAT(why, Catch::StartsWith(assay::probes::under_root(root, cpu_dir).string() +
                                          " cannot be read ("));
    }
    SECTION("cpu directory without cpu<N> entries") {
        const fs::path root = assay::test::scratch_dir("sysfs_reason_no_cpus");
        fs::create_directories(assay::probes::under_root(root, cpu_dir + "/cpufreq"));
        CHECK(caches_from_sysfs(root, cores).empty());
        CHECK_THAT(sysfs_caches_missing_reason(root),
                   Catch::EndsWith(" lists no cpu<N> directories"));
    }
    SECTION("cpu<N> directories without cache/ (the VM seen under qemu-user)") {
        const fs::path root = assay::test::scratch_dir("sysfs_reason_no_cache_dirs");
        for (const char* cpu : {"/cpu0", "/cpu1"}) {
            fs::create_directories(assay::probes::under_root(root, cpu_dir + cpu + "/topology"));
        }
        CHECK(caches_from_sysfs(root, cores).empty());
        CHECK_THAT(sysfs_caches_missing_reason(root),
                   Catch::StartsWith("none of the 2 cpu<N> directories in ") &&
                       Catch::Contains("has a cache/ directory"));
    }
    SECTION("cache/ directories without index<N>") {
        const fs::path root = assay::test::scratch_dir("sysfs_reason_no_indices");
        fs::create_directories(assay::probes::under_root(root, cpu_dir + "/cpu0/cache"));
        CHECK(caches_from_sysfs(root, cores).empty());
        CHECK_THAT(sysfs_caches_missing_reason(root), Catch::Contains("hold no index<N> entries"));
    }
    SECTION("index<N> entries without a size") {
        const fs::path root = assay::test::scratch_dir("sysfs_reason_incomplete");
        const fs::path index = assay::probes::under_root(root, cpu_dir + "/cpu0/cache/index0");
        fs::create_directories(index);
        std::ofstream(index / "level") << "1\n";
        std::ofstream(index / "type") << "Data\n";
        std::ofstream(index / "shared_cpu_list") << "0\n";
        CHECK(caches_from_sysfs(root, cores).empty());
        CHECK_THAT(sysfs_caches_missing_reason(root),
                   Catch::StartsWith("none of the 1 cpu<N>/cache/index<N> entries in ") &&
                       Catch::EndsWith("has a level, a size and a shared_cpu_list"));
    }
}
