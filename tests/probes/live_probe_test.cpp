// Smoke test of probe_host() on the machine running the tests.
#include <algorithm>
#include <cstdlib>
#include <string>

#include <catch2/catch.hpp>

#include "probes/probe.hpp"

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
    CHECK_FALSE(host.topology.caches.empty());
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
