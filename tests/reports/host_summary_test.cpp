#include "reports/host_summary.hpp"

#include <catch2/catch.hpp>

using namespace assay;

TEST_CASE("format_bytes picks binary units", "[host_summary]") {
    CHECK(format_bytes(0) == "0 B");
    CHECK(format_bytes(48 * 1024) == "48 KiB");
    CHECK(format_bytes(32ull << 20) == "32 MiB");
    CHECK(format_bytes(3ull << 29) == "1.5 GiB");
}

TEST_CASE("host summary states the facts users look for first", "[host_summary]") {
    HostInfo h;
    h.identity.hostname = "box";
    h.fingerprint = "abcdef0123456789abcdef";
    h.cpu.arch = "x86_64";
    h.cpu.vendor = "AuthenticAMD";
    h.cpu.model_name = "AMD EPYC";
    h.cpu.isa_features = {"avx2", "avx512_bf16", "avx512f"};
    h.topology.packages = 1;
    h.topology.cores = 2;
    h.topology.pus = 2;
    h.topology.max_pus_per_core = 1;
    h.topology.numa_nodes = {{0, 4ull << 30, {0, 1}}};
    h.topology.caches = {{3, "unified", 32ull << 20, 64, 16, 1, 2, 2}};
    h.os.hw_counters_usable = false;
    h.os.hw_counters_reason = "no hardware PMU exposed";
    h.gpu.none_reason = "none detected: no CUDA device";
    const std::string s = render_host_summary(h);
    CHECK_THAT(s, Catch::Contains("AVX-512"));
    CHECK_THAT(s, Catch::Contains("bf16: yes"));
    CHECK_THAT(s, Catch::Contains("AMX                    no"));
    CHECK_THAT(s, Catch::Contains("unavailable: no hardware PMU exposed"));
    CHECK_THAT(s, Catch::Contains("CPUs 0-1"));
    CHECK_THAT(s, Catch::Contains("32 MiB x 1"));
    CHECK_THAT(s, Catch::Contains("none detected: no CUDA device"));
}
