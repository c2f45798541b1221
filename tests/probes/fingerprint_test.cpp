// The hw_config fingerprint: stable for run-environment changes, sensitive to hardware ones.
#include <algorithm>

#include <catch2/catch.hpp>

#include "probes/fingerprint.hpp"
#include "probes/probe.hpp"
#include "test_support.hpp"

namespace {

assay::HostInfo sample_host() {
    assay::ProbeOptions options;
    options.topology_xml = assay::test::topology("power8gpudistances.xml");
    assay::HostInfo host = assay::probe_host(options);
    host.identity.hostname = "node-a";
    host.identity.machine_id = "abc123";
    host.identity.bios_version = "1.0";
    host.os.kernel = "6.1.0";
    host.os.cpu_governor = "performance";
    assay::GpuInfo gpu;
    gpu.name = "NVIDIA H100 80GB HBM3";
    gpu.memory_bytes = 85ULL << 30;
    gpu.cc_major = 9;
    host.gpu.gpus.push_back(gpu);
    host.gpu.driver_version = "12.4";
    assay::apply_fingerprint(host);
    return host;
}

std::string rehash(assay::HostInfo host) {
    assay::apply_fingerprint(host);
    return host.fingerprint;
}

}  // namespace

TEST_CASE("fingerprint is deterministic and ignores the run environment", "[probes][fingerprint]") {
    const assay::HostInfo host = sample_host();
    REQUIRE(host.fingerprint.size() == 64);
    CHECK(sample_host().fingerprint == host.fingerprint);

    assay::HostInfo changed = host;
    changed.identity.hostname = "node-b";
    changed.identity.machine_id = "zzz";
    changed.os.kernel = "6.8.0";
    changed.os.cpu_governor = "powersave";
    changed.os.thp_enabled = "never";
    changed.probed_at = "2030-01-01T00:00:00.000Z";
    CHECK(rehash(changed) == host.fingerprint);

    for (const auto& key : host.fingerprint_keys) {
        CHECK(key.find("node-a") == std::string::npos);
        CHECK(key.find("abc123") == std::string::npos);
    }
}

TEST_CASE("fingerprint changes with the hardware configuration", "[probes][fingerprint]") {
    const assay::HostInfo host = sample_host();
    {
        auto h = host;
        h.topology.cores += 1;
        CHECK(rehash(h) != host.fingerprint);
    }
    {
        auto h = host;
        REQUIRE_FALSE(h.topology.caches.empty());
        h.topology.caches.back().size_bytes *= 2;
        CHECK(rehash(h) != host.fingerprint);
    }
    {
        auto h = host;
        h.gpu.gpus.push_back(h.gpu.gpus.front());
        CHECK(rehash(h) != host.fingerprint);
    }
    {
        auto h = host;
        h.gpu.driver_version = "12.5";
        CHECK(rehash(h) != host.fingerprint);
    }
    {
        auto h = host;
        h.identity.bios_version = "1.1";
        CHECK(rehash(h) != host.fingerprint);
    }
    {
        auto h = host;
        h.cpu.isa_features.push_back("avx512f");
        CHECK(rehash(h) != host.fingerprint);
    }
}

TEST_CASE("fingerprint keys are the documented list", "[probes][fingerprint]") {
    const assay::HostInfo host = sample_host();
    const auto& keys = host.fingerprint_keys;
    auto has = [&keys](const std::string& line) {
        return std::find(keys.begin(), keys.end(), line) != keys.end();
    };
    CHECK(has("topology.packages=2"));
    CHECK(has("topology.cores=8"));
    CHECK(has("cache.L3=8388608x8 line=0"));
    CHECK(has("gpu.count=1"));
    CHECK(has("gpu.0=NVIDIA H100 80GB HBM3 85 9.0"));
    CHECK(has("gpu.driver=12.4"));
    CHECK(has("bios_version=1.0"));
    // Memory is rounded to GiB: a few MB of kernel reserve must not change it.
    auto h = host;
    h.topology.os_memory_bytes = (64ULL << 30) - (12ULL << 20);
    auto keys2 = assay::fingerprint_keys(h);
    CHECK(std::find(keys2.begin(), keys2.end(), "memory.gib=64") != keys2.end());
}
