// The fs_root seam: OS facts, meminfo and identity read from a fake /proc + /sys tree.
#include <fstream>

#include <catch2/catch.hpp>

#include "probes/fs.hpp"
#include "probes/probe.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;

void write_file(const fs::path& root, const std::string& abs_path, const std::string& text) {
    const fs::path path = assay::probes::under_root(root, abs_path);
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
}

constexpr const char* kMeminfo =
    "MemTotal:       25165824 kB\n"
    "MemFree:        20000000 kB\n"
    "MemAvailable:   23068672 kB\n"
    "HugePages_Total:      16\n"
    "HugePages_Free:       16\n"
    "Hugepagesize:       2048 kB\n";

}  // namespace

TEST_CASE("meminfo, choice and key=value parsing", "[probes][fs]") {
    using namespace assay::probes;
    CHECK(meminfo_value(kMeminfo, "MemTotal") == std::optional<std::uint64_t>(25165824ULL * 1024));
    CHECK(meminfo_value(kMeminfo, "HugePages_Total") == std::optional<std::uint64_t>(16));
    CHECK(meminfo_value(kMeminfo, "Hugepagesize") == std::optional<std::uint64_t>(2097152));
    CHECK_FALSE(meminfo_value(kMeminfo, "MemShared").has_value());
    CHECK_FALSE(meminfo_value(kMeminfo, "Mem").has_value());  // no prefix matches
    CHECK_FALSE(meminfo_value("MemTotal: lots kB\n", "MemTotal").has_value());

    CHECK(selected_choice("always [madvise] never\n") == "madvise");
    CHECK(selected_choice("[always] defer defer+madvise madvise never") == "always");
    CHECK(selected_choice("performance\n") == "performance");
    CHECK(selected_choice("") == "");

    const std::string os_release =
        "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 "
        "(bookworm)\"\nID=debian\n";
    CHECK(key_value(os_release, "PRETTY_NAME") == "Debian GNU/Linux 12 (bookworm)");
    CHECK(key_value(os_release, "ID") == "debian");
    CHECK(key_value(os_release, "VERSION_ID") == "");

    CHECK(parse_int(" -1\n") == std::optional<int>(-1));
    CHECK_FALSE(parse_int("2x").has_value());
    CHECK(parse_u64("3000000\n") == std::optional<std::uint64_t>(3000000));
    CHECK(trim("  abc \n") == "abc");
}

TEST_CASE("OS facts come from fs_root, missing files are unknown", "[probes][fs]") {
    const fs::path root = assay::test::scratch_dir("fake_root");
    write_file(root, "/proc/sys/kernel/osrelease", "6.1.0-99-test\n");
    write_file(root, "/etc/os-release", "PRETTY_NAME=\"Fake Linux 1.0\"\n");
    write_file(root, "/sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never\n");
    // defrag, governor, smt control, numa_balancing deliberately missing.
    write_file(root, "/proc/meminfo", kMeminfo);
    write_file(root, "/proc/sys/kernel/perf_event_paranoid", "2\n");
    write_file(root, "/proc/1/cgroup", "0::/\n");
    write_file(root, "/etc/machine-id", "0123456789abcdef0123456789abcdef\n");
    write_file(root, "/sys/class/dmi/id/product_name", "m7i.large\n");
    write_file(root, "/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "3700000\n");

    assay::ProbeOptions options;
    options.fs_root = root;
    options.query_gpus = false;
    assay::HostInfo host;
    REQUIRE_NOTHROW(host = assay::probe_host(options));

    CHECK(host.os.kernel == "6.1.0-99-test");
    CHECK(host.os.os_release == "Fake Linux 1.0");
    CHECK(host.os.thp_enabled == "madvise");
    CHECK(host.os.thp_defrag == "unknown");
    CHECK(host.os.cpu_governor == "unknown");
    CHECK(host.os.smt_control == "unknown");
    CHECK(host.os.hugepages_total == std::optional<std::uint64_t>(16));
    CHECK(host.os.hugepage_size_bytes == std::optional<std::uint64_t>(2 * 1024 * 1024));
    CHECK(host.os.perf_event_paranoid == std::optional<int>(2));
    CHECK_FALSE(host.os.numa_balancing.has_value());
    CHECK(host.os.container == "none");
    CHECK_FALSE(host.os.hw_counters_reason.empty());

    CHECK(host.identity.machine_id == "0123456789abcdef0123456789abcdef");
    CHECK(host.identity.product_name == "m7i.large");
    CHECK(host.identity.system_vendor.empty());
    CHECK(host.identity.bios_version.empty());

    CHECK(host.topology.os_memory_bytes == std::optional<std::uint64_t>(25165824ULL * 1024));
    CHECK(host.topology.os_available_memory_bytes ==
          std::optional<std::uint64_t>(23068672ULL * 1024));
    CHECK(host.cpu.max_mhz == std::optional<double>(3700.0));
    CHECK(host.cpu.frequency_source.find("sysfs") != std::string::npos);
    // Peaks need cores x clock x a known vector unit; with a clock they are derivable on x86-64
    // and aarch64 hosts with at least AVX2+FMA / NEON.
    for (const auto& peak : host.peaks) {
        CHECK(peak.ops_per_second > 0);
        CHECK(peak.formula.find("3.700 GHz") != std::string::npos);
    }
}

TEST_CASE("an empty fs_root gives unknowns, not errors", "[probes][fs]") {
    const fs::path root = assay::test::scratch_dir("empty_root");
    assay::ProbeOptions options;
    options.fs_root = root;
    options.query_gpus = false;
    assay::HostInfo host;
    REQUIRE_NOTHROW(host = assay::probe_host(options));
    CHECK(host.os.kernel == "unknown");
    CHECK(host.os.os_release == "unknown");
    CHECK(host.os.thp_enabled == "unknown");
    CHECK_FALSE(host.os.hugepages_total.has_value());
    CHECK_FALSE(host.os.perf_event_paranoid.has_value());
    CHECK(host.os.container == "unknown");
    CHECK_FALSE(host.topology.os_memory_bytes.has_value());
    CHECK(host.topology.memory_note.empty());
    CHECK(host.identity.machine_id == "hostname:" + host.identity.hostname);
    CHECK(host.topology.cores >= 1);  // topology is still the live one
}

TEST_CASE("memory_note reports a NUMA/OS memory disagreement", "[probes][fs]") {
    const fs::path root = assay::test::scratch_dir("memory_note");
    // Far more than any test machine's NUMA total: the two figures must disagree.
    write_file(root, "/proc/meminfo", "MemTotal:  4294967296 kB\nMemAvailable: 4000000000 kB\n");
    assay::ProbeOptions options;
    options.fs_root = root;
    options.query_gpus = false;
    const auto host = assay::probe_host(options);
    CHECK_THAT(host.topology.memory_note,
               Catch::Contains("4096.0 GiB") && Catch::Contains("OS figure"));

    // Matching figures: no note.
    write_file(root, "/proc/meminfo",
               "MemTotal: " + std::to_string(host.topology.numa_memory_bytes / 1024) + " kB\n");
    CHECK(assay::probe_host(options).topology.memory_note.empty());
}

TEST_CASE("container markers are detected under fs_root", "[probes][fs]") {
    const fs::path root = assay::test::scratch_dir("container");
    assay::ProbeOptions options;
    options.fs_root = root;
    options.query_gpus = false;
    write_file(root, "/proc/1/cgroup", "0::/kubepods/besteffort/pod1234\n");
    CHECK(assay::probe_host(options).os.container == "kubernetes");
    write_file(root, "/run/.containerenv", "");
    CHECK(assay::probe_host(options).os.container == "podman");
    write_file(root, "/.dockerenv", "");
    CHECK(assay::probe_host(options).os.container == "docker");
}
