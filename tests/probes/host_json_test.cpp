// HostInfo <-> JSON round trip (schema assay.host/1).
#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "core/host_info.hpp"
#include "probes/probe.hpp"
#include "test_support.hpp"

TEST_CASE("HostInfo JSON round-trips exactly", "[probes][json]") {
    std::vector<assay::HostInfo> hosts;
    for (const char* file :
         {"power8gpudistances.xml", "kvm-2core-spr-amx.xml", "nvidiagpunumanodes.xml"}) {
        assay::ProbeOptions options;
        options.topology_xml = assay::test::topology(file);
        hosts.push_back(assay::probe_host(options));
    }
    hosts.push_back(assay::probe_host());
    // Exercise every optional and the GPU list, which the probes above may leave empty.
    assay::HostInfo synthetic = hosts.front();
    assay::GpuInfo gpu;
    gpu.index = 1;
    gpu.name = "NVIDIA H100 80GB HBM3";
    gpu.uuid = "GPU-01234567-89ab-cdef-0123-456789abcdef";
    gpu.pci_bus_id = "0000:17:00.0";
    gpu.memory_bytes = 85520809984ULL;
    gpu.sm_count = 132;
    gpu.cc_major = 9;
    gpu.sm_clock_mhz = 1980.0;
    gpu.memory_bus_width_bits = 5120;
    gpu.numa_node = 0;
    gpu.peaks.push_back({"bf16", 989.4e12, "132 SMs x 4096 x 1830 MHz", "tensor cores, dense"});
    synthetic.gpu.gpus.push_back(gpu);
    synthetic.cpu.sve_vector_bits = 128;
    synthetic.cpu.base_mhz = 2100.5;
    synthetic.os.numa_balancing = -1;
    synthetic.peaks.push_back({"fp64", 1.234567890123e12, "a x b", "AVX-512 FMA"});
    hosts.push_back(synthetic);

    for (const auto& host : hosts) {
        INFO(host.topology.source);
        const std::string text = assay::to_json(host);
        CHECK(text.find("\"schema\": \"assay.host/1\"") != std::string::npos);
        const assay::HostInfo back = assay::host_info_from_json(text);
        CHECK(assay::to_json(back) == text);
        CHECK(back.fingerprint == host.fingerprint);
        CHECK(back.topology.core_list.size() == host.topology.core_list.size());
        CHECK(back.gpu.gpus.size() == host.gpu.gpus.size());
        CHECK(back.cpu.sve_vector_bits == host.cpu.sve_vector_bits);
        CHECK(assay::to_json(back, -1) == assay::to_json(host, -1));
    }
    const auto back = assay::host_info_from_json(assay::to_json(synthetic));
    REQUIRE(back.gpu.gpus.size() == 1);
    CHECK(back.gpu.gpus[0].sm_clock_mhz == std::optional<double>(1980.0));
    CHECK_FALSE(back.gpu.gpus[0].memory_clock_mhz.has_value());
    CHECK(back.gpu.gpus[0].numa_node == std::optional<unsigned>(0));
    REQUIRE(back.gpu.gpus[0].peaks.size() == 1);
    CHECK(back.gpu.gpus[0].peaks[0].ops_per_second == 989.4e12);
    CHECK(back.gpu.gpus[0].peaks[0].dtype == "bf16");
    CHECK(back.os.numa_balancing == std::optional<int>(-1));
    CHECK(back.peaks.back().ops_per_second == synthetic.peaks.back().ops_per_second);
}

TEST_CASE("malformed host JSON throws InputError", "[probes][json]") {
    using assay::host_info_from_json;
    using assay::InputError;
    CHECK_THROWS_AS(host_info_from_json(""), InputError);
    CHECK_THROWS_AS(host_info_from_json("{not json"), InputError);
    CHECK_THROWS_AS(host_info_from_json("[1, 2]"), InputError);
    CHECK_THROWS_WITH(host_info_from_json(R"({"schema": "assay.host/9"})"),
                      Catch::StartsWith("invalid host JSON:") && Catch::Contains("assay.host/9"));
    CHECK_THROWS_AS(host_info_from_json(R"({"schema": "assay.host/1"})"), InputError);
    // Right schema, a field of the wrong type.
    assay::HostInfo host;
    std::string text = assay::to_json(host);
    const auto pos = text.find("\"cores\": 0");
    REQUIRE(pos != std::string::npos);
    text.replace(pos, 10, "\"cores\": \"many\"");
    CHECK_THROWS_AS(host_info_from_json(text), InputError);
}

TEST_CASE("caches_missing_reason round-trips, and hosts stored before it read as no reason",
          "[probes][json]") {
    assay::HostInfo host;
    host.topology.caches_missing_reason =
        "hwloc reported no caches and none of the 2 cpu<N> directories in "
        "/sys/devices/system/cpu has a cache/ directory";
    const std::string text = assay::to_json(host);
    const assay::HostInfo back = assay::host_info_from_json(text);
    CHECK(back.topology.caches_missing_reason == host.topology.caches_missing_reason);
    CHECK(assay::to_json(back) == text);

    // A record written before the field existed: the same JSON without the key.
    std::string old = text;
    const auto key = old.find("\"caches_missing_reason\"");
    REQUIRE(key != std::string::npos);
    const auto line_start = old.rfind('\n', key) + 1;
    old.erase(line_start, old.find('\n', key) + 1 - line_start);
    REQUIRE(old.find("caches_missing_reason") == std::string::npos);
    const assay::HostInfo stored = assay::host_info_from_json(old);
    CHECK(stored.topology.caches_missing_reason.empty());
    CHECK(stored.topology.caches.empty());
}
