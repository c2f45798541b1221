#include "core/series.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace assay;

namespace {

HostInfo sample_host() {
    HostInfo h;
    h.identity.hostname = "node-a";
    h.identity.machine_id = "abc";
    h.identity.product_name = "m7a.large";
    h.identity.bios_version = "1.0";
    h.cpu.arch = "x86_64";
    h.cpu.vendor = "AuthenticAMD";
    h.cpu.model_name = "AMD EPYC 9R14";
    h.cpu.family = 25;
    h.cpu.model = 17;
    h.cpu.stepping = 1;
    h.topology.packages = 1;
    h.topology.cores = 2;
    h.topology.max_pus_per_core = 1;
    h.topology.numa_nodes.resize(1);
    h.topology.os_memory_bytes = 24ULL * 1000 * 1000 * 1000;  // ~22.4 GiB
    h.os.kernel = "6.1";
    h.gpu.driver_version = "12.4";
    return h;
}

RunInfo sample_run() {
    RunInfo r;
    r.tool_version = "0.1.3";
    r.git_sha = "deadbeef";
    r.compiler = "GNU 12.2.0";
    r.build_type = "Release";
    r.environment = {{"hwloc", "2.9.0"},
                     {"openblas", "0.3.21"},
                     {"kernel", "6.1"},
                     {"cuda_runtime", "12.4"},
                     {"cuda_driver", "12.4"}};
    return r;
}

}  // namespace

TEST_CASE("series: host class ignores hostname, BIOS, kernel, driver and stepping", "[series]") {
    const HostInfo a = sample_host();
    HostInfo b = a;
    b.identity.hostname = "node-b";
    b.identity.machine_id = "xyz";
    b.identity.bios_version = "2.0";
    b.os.kernel = "6.8";
    b.gpu.driver_version = "13.0";
    b.cpu.stepping = 2;
    b.topology.os_memory_bytes = 23ULL * 1000 * 1000 * 1000;  // kernel reserves a bit more
    CHECK(host_class_of(a) == host_class_of(b));
    CHECK(host_class_of(a).size() == 16);
}

TEST_CASE("series: host class changes with the hardware that matters", "[series]") {
    const HostInfo a = sample_host();
    const std::string base = host_class_of(a);
    HostInfo b = a;
    b.cpu.model_name = "AMD EPYC 9654";
    CHECK(host_class_of(b) != base);
    b = a;
    b.topology.cores = 4;
    CHECK(host_class_of(b) != base);
    b = a;
    b.topology.os_memory_bytes = 64ULL << 30;
    CHECK(host_class_of(b) != base);
    b = a;
    b.identity.product_name = "m7a.xlarge";
    CHECK(host_class_of(b) != base);
    b = a;
    b.gpu.gpus.resize(2);
    b.gpu.gpus[0].name = b.gpu.gpus[1].name = "NVIDIA H100 80GB HBM3";
    CHECK(host_class_of(b) != base);
    const auto keys = host_class_keys(b);
    CHECK(std::find(keys.begin(), keys.end(), "gpus=2 x NVIDIA H100 80GB HBM3") != keys.end());
}

TEST_CASE("series: unknown host facts are written as unknown", "[series]") {
    const auto keys = host_class_keys(HostInfo{});
    CHECK(std::find(keys.begin(), keys.end(), "cpu_family=unknown") != keys.end());
    CHECK(std::find(keys.begin(), keys.end(), "memory_class_gib=unknown") != keys.end());
    CHECK(std::find(keys.begin(), keys.end(), "gpus=none") != keys.end());
}

TEST_CASE("series: memory class rounds up to 4 GiB steps", "[series]") {
    CHECK(memory_class_gib(0) == 0);
    CHECK(memory_class_gib(1) == 1);
    CHECK(memory_class_gib(3ULL << 30) == 3);
    CHECK(memory_class_gib((4ULL << 30) + 1) == 8);
    CHECK(memory_class_gib(23ULL * 1000 * 1000 * 1000) == 24);
    CHECK(memory_class_gib(62ULL << 30) == 64);
}

TEST_CASE("series: build class ignores git sha and patch versions, not libraries", "[series]") {
    const RunInfo a = sample_run();
    RunInfo b = a;
    b.git_sha = "cafef00d";
    b.tool_version = "0.1.4";
    b.environment["kernel"] = "6.8";
    b.environment["cuda_driver"] = "13.0";
    b.environment["hwloc"] = "2.10.0";
    CHECK(build_class_of(a) == build_class_of(b));
    b = a;
    b.environment["openblas"] = "0.3.26";
    CHECK(build_class_of(a) != build_class_of(b));
    b = a;
    b.compiler = "GNU 13.1.0";
    CHECK(build_class_of(a) != build_class_of(b));
    b = a;
    b.tool_version = "0.2.0";
    CHECK(build_class_of(a) != build_class_of(b));
    const auto keys = build_class_keys(a);
    CHECK(std::find(keys.begin(), keys.end(), "tool_major=0.1") != keys.end());
    CHECK(std::find(keys.begin(), keys.end(), "openblas=0.3.21") != keys.end());
}

TEST_CASE("series: key string joins the five parts", "[series]") {
    const SeriesKey k{"stream.triad/dtype=f64",
                      "cpu",
                      "bandwidth_stream_gb_per_s.median",
                      "h",
                      "b",
                      "cpu.native"};
    CHECK(k.to_string() ==
          "stream.triad/dtype=f64|cpu|bandwidth_stream_gb_per_s.median|h|b|cpu.native");
    SeriesKey l = k;
    l.device = "cuda:0";
    CHECK(k < l);
}
