// aarch64 support as pure functions (MIDR, hwcaps, Arm peaks) plus the sysfs fallbacks for
// caches and frequency, through fake fs_root trees. Runs on any build host.
#include <fstream>

#include <catch2/catch.hpp>

#include "probes/fs.hpp"
#include "probes/internal.hpp"
#include "probes/probe.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
using namespace assay::probes;

void write_file(const fs::path& root, const std::string& abs_path, const std::string& text) {
    const fs::path path = under_root(root, abs_path);
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
}

const assay::PeakEstimate* find(const std::vector<assay::PeakEstimate>& peaks,
                                const std::string& dtype) {
    for (const auto& p : peaks) {
        if (p.dtype == dtype) {
            return &p;
        }
    }
    return nullptr;
}

assay::CpuInfo arm_cpu(const std::string& uarch, std::vector<std::string> features,
                       double base_mhz) {
    assay::CpuInfo cpu;
    cpu.arch = "aarch64";
    cpu.microarchitecture = uarch;
    cpu.isa_features = std::move(features);
    cpu.base_mhz = base_mhz;
    return cpu;
}

assay::TopologyInfo cores(unsigned n) {
    assay::TopologyInfo t;
    t.cores = n;
    return t;
}

void write_cache(const fs::path& root, unsigned cpu, unsigned index, int level,
                 const std::string& type, const std::string& size, const std::string& shared) {
    const std::string dir = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/cache/index" +
                            std::to_string(index) + "/";
    write_file(root, dir + "level", std::to_string(level) + "\n");
    write_file(root, dir + "type", type + "\n");
    write_file(root, dir + "size", size + "\n");
    write_file(root, dir + "coherency_line_size", "64\n");
    write_file(root, dir + "ways_of_associativity", level == 3 ? "16\n" : "4\n");
    write_file(root, dir + "shared_cpu_list", shared + "\n");
}

}  // namespace

TEST_CASE("MIDR_EL1 decoding", "[probes][arm]") {
    // Graviton3 (Neoverse V1 r1p1) as /sys/.../midr_el1 shows it.
    const Midr v1 = decode_midr(0x00000000411fd401ULL);
    CHECK(v1.implementer == 0x41);
    CHECK(v1.variant == 1);
    CHECK(v1.architecture == 0xf);
    CHECK(v1.part == 0xd40);
    CHECK(v1.revision == 1);
    // Ampere Altra (Neoverse N1 r3p1).
    const Midr n1 = decode_midr(0x413fd0c1ULL);
    CHECK(n1.implementer == 0x41);
    CHECK(n1.variant == 3);
    CHECK(n1.part == 0xd0c);
    // QEMU "max": implementer 0 (reserved for software use), part 'Q'.
    const Midr qemu = decode_midr(0x000f0510ULL);
    CHECK(qemu.implementer == 0);
    CHECK(qemu.part == 0x051);
    CHECK(qemu.revision == 0);
    CHECK(arm_implementer_name(0x41) == "ARM");
    CHECK(arm_implementer_name(0xc0) == "Ampere");
    CHECK(arm_implementer_name(0x4e) == "NVIDIA");
    CHECK(arm_implementer_name(0x00).find("software") != std::string::npos);
    CHECK(arm_implementer_name(0x99) == "implementer 0x99");
}

TEST_CASE("Arm core table maps (implementer, part) to cores and products", "[probes][arm]") {
    CHECK(lookup_microarchitecture("ARM", 0x41, 0xd0c).products == "Graviton2, Ampere Altra");
    CHECK(lookup_microarchitecture("ARM", 0x41, 0xd40).name == "Neoverse V1");
    CHECK(lookup_microarchitecture("ARM", 0x41, 0xd49).products.find("Cobalt 100") !=
          std::string::npos);
    const auto v2 = lookup_microarchitecture("ARM", 0x41, 0xd4f);
    CHECK(v2.name == "Neoverse V2");
    CHECK(v2.products.find("Graviton4") != std::string::npos);
    CHECK(v2.products.find("Grace") != std::string::npos);
    CHECK(lookup_microarchitecture("ARM", 0x41, 0xd84).name == "Neoverse V3");
    CHECK(lookup_microarchitecture("ARM", 0x41, 0xd8e).name == "Neoverse N3");
    CHECK(lookup_microarchitecture("ARM", 0x41, 0xd4a).name == "Neoverse E1");
    CHECK(lookup_microarchitecture("ARM", 0x41, 0xd08).products.find("Graviton") !=
          std::string::npos);
    CHECK(lookup_microarchitecture("ARM", 0x41, 0xd87).products.find("GB10") != std::string::npos);
    CHECK(lookup_microarchitecture("Ampere", 0xc0, 0xac4).name == "AmpereOne AC04");
    CHECK(lookup_microarchitecture("Fujitsu", 0x46, 0x001).name == "A64FX");
    CHECK(lookup_microarchitecture("HiSilicon", 0x48, 0xd01).products == "Kunpeng 920");
    // The part number alone is not enough: 0xd40 under Ampere is no Neoverse V1.
    CHECK_FALSE(lookup_microarchitecture("Ampere", 0xc0, 0xd40).known);
    const auto qemu =
        lookup_microarchitecture("software implementation (implementer 0x00)", 0x0, 0x51);
    CHECK_FALSE(qemu.known);
    CHECK(qemu.name == "unknown (implementer 0x00 part 0x051)");
}

TEST_CASE("HWCAP/HWCAP2 decoding uses the Linux arm64 bit numbers", "[probes][arm]") {
    CHECK(decode_arm_hwcaps(0, 0).empty());
    // Graviton2 (Neoverse N1): fp asimd ... atomics fphp asimdhp cpuid asimddp, no SVE.
    const std::uint64_t n1 = (1ULL << 0) | (1ULL << 1) | (1ULL << 8) | (1ULL << 9) | (1ULL << 10) |
                             (1ULL << 11) | (1ULL << 20);
    CHECK(decode_arm_hwcaps(n1, 0) == std::vector<std::string>{"asimd", "dotprod", "fp16", "lse"});
    // FPHP without ASIMDHP is not "fp16".
    CHECK(decode_arm_hwcaps((1ULL << 1) | (1ULL << 9), 0) == std::vector<std::string>{"asimd"});
    // Neoverse V2-like: + sve; hwcap2 sve2, svei8mm, svebf16, i8mm, bf16.
    const std::uint64_t v2 = n1 | (1ULL << 22);
    const std::uint64_t v2_2 =
        (1ULL << 1) | (1ULL << 9) | (1ULL << 12) | (1ULL << 13) | (1ULL << 14);
    CHECK(decode_arm_hwcaps(v2, v2_2) == std::vector<std::string>{"asimd", "bf16", "dotprod",
                                                                  "fp16", "i8mm", "lse", "sve",
                                                                  "sve2", "svebf16", "svei8mm"});
    // SME (bit 23) and SME2 (bit 37, beyond 32 bits).
    CHECK(decode_arm_hwcaps(0, (1ULL << 23) | (1ULL << 37)) ==
          std::vector<std::string>{"sme", "sme2"});
    CHECK(decode_arm_hwcaps(0, 1ULL << 37) == std::vector<std::string>{"sme2"});
}

TEST_CASE("Arm peak estimates per core type", "[probes][arm][peak]") {
    SECTION("Neoverse N1 (Graviton2): 2 x 128-bit NEON, no bf16") {
        const auto peaks = estimate_peaks(
            arm_cpu("Neoverse N1", {"asimd", "dotprod", "fp16", "lse"}, 2500.0), cores(64));
        REQUIRE(find(peaks, "fp64") != nullptr);
        CHECK(find(peaks, "fp64")->ops_per_second == Approx(64 * 2.5e9 * 8));
        CHECK(find(peaks, "fp32")->ops_per_second == Approx(64 * 2.5e9 * 16));
        CHECK(find(peaks, "fp64")->unit_path.find("NEON FMLA, 2 x 128-bit") != std::string::npos);
        CHECK(find(peaks, "fp64")->formula.find("estimate: 64 cores x 2.500 GHz (base clock)") !=
              std::string::npos);
        CHECK(find(peaks, "bf16") == nullptr);
        REQUIRE(find(peaks, "int8") != nullptr);
        CHECK(find(peaks, "int8")->ops_per_second == Approx(64 * 2.5e9 * 64));
        CHECK(find(peaks, "int8")->unit_path.find("SDOT") != std::string::npos);
    }
    SECTION("Neoverse V1 (Graviton3): 2 x 256-bit SVE, BFMMLA") {
        const auto peaks = estimate_peaks(
            arm_cpu("Neoverse V1", {"asimd", "bf16", "dotprod", "i8mm", "sve"}, 2600.0), cores(64));
        CHECK(find(peaks, "fp64")->ops_per_second == Approx(64 * 2.6e9 * 16));
        CHECK(find(peaks, "fp32")->ops_per_second == Approx(64 * 2.6e9 * 32));
        REQUIRE(find(peaks, "bf16") != nullptr);
        // BFMMLA: 4x the fp32 FLOP rate.
        CHECK(find(peaks, "bf16")->ops_per_second == Approx(64 * 2.6e9 * 128));
        CHECK(find(peaks, "bf16")->unit_path.find("BFMMLA") != std::string::npos);
        CHECK(find(peaks, "int8")->ops_per_second == Approx(64 * 2.6e9 * 128));
    }
    SECTION("Neoverse V2 (Graviton4): 4 x 128-bit SVE2") {
        const auto peaks = estimate_peaks(
            arm_cpu("Neoverse V2", {"asimd", "bf16", "dotprod", "i8mm", "sve", "sve2"}, 2800.0),
            cores(96));
        CHECK(find(peaks, "fp64")->ops_per_second == Approx(96 * 2.8e9 * 16));
        CHECK(find(peaks, "fp64")->unit_path.find("4 x 128-bit") != std::string::npos);
        CHECK(find(peaks, "bf16")->ops_per_second == Approx(96 * 2.8e9 * 128));
        CHECK(find(peaks, "int8")->ops_per_second == Approx(96 * 2.8e9 * 128));
    }
    SECTION("unknown Arm core without a clock: no estimate") {
        assay::CpuInfo cpu = arm_cpu("unknown (implementer 0x00 part 0x051)", {"asimd", "sve"}, 1);
        cpu.base_mhz.reset();
        CHECK(estimate_peaks(cpu, cores(2)).empty());
    }
}

TEST_CASE("/proc/cpuinfo cpu MHz fallback (x86 VMs)", "[probes][fs][freq]") {
    CHECK(cpuinfo_mhz("processor\t: 0\ncpu MHz\t\t: 2595.124\ncache size\t: 1024 KB\n") ==
          Approx(2595.124));
    CHECK_FALSE(cpuinfo_mhz("processor\t: 0\nBogoMIPS\t: 50.00\n").has_value());
    CHECK_FALSE(cpuinfo_mhz("cpu MHz\t\t: fast\n").has_value());
    CHECK_FALSE(cpuinfo_mhz("cpu MHz\t\t: 0.000\n").has_value());

    const fs::path root = assay::test::scratch_dir("cpuinfo_mhz");
    write_file(root, "/proc/cpuinfo",
               "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu MHz\t\t: 2595.124\n\n"
               "processor\t: 1\ncpu MHz\t\t: 1800.000\n");
    const FrequencyFallback x86 = fallback_frequency(root, "x86_64", "Zen 4");
    REQUIRE(x86.base_mhz.has_value());
    CHECK(*x86.base_mhz == Approx(2595.124));
    CHECK_FALSE(x86.max_mhz.has_value());
    CHECK(x86.source == "/proc/cpuinfo cpu MHz (nominal/TSC frequency; max boost unknown)");
    // aarch64 never trusts cpu MHz (qemu-user shows the x86 host's /proc/cpuinfo).
    CHECK_FALSE(fallback_frequency(root, "aarch64", "Neoverse V2").base_mhz.has_value());

    const fs::path empty = assay::test::scratch_dir("cpuinfo_none");
    const FrequencyFallback none = fallback_frequency(empty, "x86_64", "Zen 4");
    CHECK_FALSE(none.base_mhz.has_value());
    CHECK(none.source.empty());

    // And through the probe: frequency feeds a "base clock" peak estimate.
    assay::CpuInfo cpu;
    cpu.microarchitecture = "Zen 4";
    cpu.isa_features = {"avx2", "avx512f", "fma"};
    cpu.base_mhz = x86.base_mhz;
    const auto peaks = estimate_peaks(cpu, cores(2));
    REQUIRE(find(peaks, "fp64") != nullptr);
    CHECK(find(peaks, "fp64")->formula.find("(base clock)") != std::string::npos);
}

TEST_CASE("Graviton nominal clock on EC2 when cpufreq is absent", "[probes][fs][freq]") {
    CHECK(ec2_graviton_nominal_mhz("Amazon EC2", "Neoverse N1") == Approx(2500.0));
    CHECK(ec2_graviton_nominal_mhz("Amazon EC2", "Neoverse V1") == Approx(2600.0));
    CHECK(ec2_graviton_nominal_mhz("Amazon EC2", "Neoverse V2") == Approx(2800.0));
    CHECK_FALSE(ec2_graviton_nominal_mhz("Amazon EC2", "Neoverse N2").has_value());
    CHECK_FALSE(ec2_graviton_nominal_mhz("Ampere", "Neoverse N1").has_value());  // Altra
    CHECK_FALSE(ec2_graviton_nominal_mhz("", "Neoverse V2").has_value());        // Grace

    const fs::path root = assay::test::scratch_dir("ec2_graviton");
    write_file(root, "/sys/class/dmi/id/sys_vendor", "Amazon EC2\n");
    const FrequencyFallback g3 = fallback_frequency(root, "aarch64", "Neoverse V1");
    REQUIRE(g3.base_mhz.has_value());
    CHECK(*g3.base_mhz == Approx(2600.0));
    CHECK(g3.source.find("published AWS nominal clock") != std::string::npos);
    CHECK_FALSE(fallback_frequency(root, "aarch64", "unknown (implementer 0x00 part 0x051)")
                    .base_mhz.has_value());
}

TEST_CASE("caches from sysfs when hwloc reports none", "[probes][fs][topology]") {
    const fs::path root = assay::test::scratch_dir("sysfs_caches");
    // 4 CPUs, 2 cores with SMT2 (cpu0+1, cpu2+3): private L1d/L1i/L2 per core, one shared L3.
    for (unsigned cpu = 0; cpu < 4; ++cpu) {
        const std::string core_pair = cpu < 2 ? "0-1" : "2-3";
        write_cache(root, cpu, 0, 1, "Data", "48K", core_pair);
        write_cache(root, cpu, 1, 1, "Instruction", "32K", core_pair);
        write_cache(root, cpu, 2, 2, "Unified", "2048K", core_pair);
        write_cache(root, cpu, 3, 3, "Unified", "32M", "0-3");
    }
    write_file(root, "/sys/devices/system/cpu/cpufreq/policy0/scaling_governor", "x\n");
    std::vector<assay::CoreInfo> core_list(2);
    core_list[0].pu_os_indices = {0, 1};
    core_list[1].pu_os_indices = {2, 3};

    const auto caches = caches_from_sysfs(root, core_list);
    REQUIRE(caches.size() == 4);
    CHECK(caches[0].name() == "L1d");
    CHECK(caches[0].size_bytes == 48 * 1024);
    CHECK(caches[0].instances == 2);
    CHECK(caches[0].pus_per_instance == 2);
    CHECK(caches[0].cores_per_instance == 1);
    CHECK(caches[0].line_bytes == 64);
    CHECK(caches[0].associativity == 4);
    CHECK(caches[1].name() == "L1i");
    CHECK(caches[1].size_bytes == 32 * 1024);
    CHECK(caches[2].name() == "L2");
    CHECK(caches[2].size_bytes == 2048 * 1024);
    CHECK(caches[2].instances == 2);
    CHECK(caches[3].name() == "L3");
    CHECK(caches[3].size_bytes == 32ULL * 1024 * 1024);
    CHECK(caches[3].instances == 1);
    CHECK(caches[3].pus_per_instance == 4);
    CHECK(caches[3].cores_per_instance == 2);
    CHECK(caches[3].associativity == 16);

    assay::TopologyInfo t;
    t.caches = caches;
    CHECK(t.total_llc_bytes() == 32ULL * 1024 * 1024);

    // No cache directories at all: nothing, not a crash.
    CHECK(caches_from_sysfs(assay::test::scratch_dir("sysfs_no_caches"), core_list).empty());
    // Broken entries (no size) are skipped.
    const fs::path broken = assay::test::scratch_dir("sysfs_broken_caches");
    write_cache(broken, 0, 0, 1, "Data", "", "0");
    write_cache(broken, 0, 1, 2, "Unified", "1024K", "0");
    const auto partial = caches_from_sysfs(broken, core_list);
    REQUIRE(partial.size() == 1);
    CHECK(partial[0].name() == "L2");
}

TEST_CASE("Arm topology XMLs summarise cores, NUMA and caches", "[probes][topology][arm]") {
    auto probe_xml = [](const std::string& name) {
        assay::ProbeOptions options;
        options.topology_xml = assay::test::topology(name);
        return assay::probe_host(options);
    };
    auto cache = [](const assay::HostInfo& h, const std::string& name) -> const assay::CacheLevel* {
        for (const auto& c : h.topology.caches) {
            if (c.name() == name) {
                return &c;
            }
        }
        return nullptr;
    };
    const assay::HostInfo arm = probe_xml("128arm-2pa2n8cluster4co.xml");
    CHECK(arm.topology.cores == 128);
    CHECK(arm.topology.numa_nodes.size() == 4);
    for (const auto& node : arm.topology.numa_nodes) {
        CHECK(node.pu_os_indices.size() == 32);
    }
    REQUIRE(cache(arm, "L1d") != nullptr);
    CHECK(cache(arm, "L1d")->size_bytes == 65536);
    CHECK(cache(arm, "L1d")->instances == 128);
    REQUIRE(cache(arm, "L1i") != nullptr);
    CHECK(cache(arm, "L1i")->instances == 128);
    REQUIRE(arm.topology.last_level_cache() != nullptr);
    CHECK(arm.topology.total_llc_bytes() == 4ULL * 33554432);
    CHECK(arm.peaks.empty());  // no ISA, no clock from an XML: no estimate

    const assay::HostInfo gb10 = probe_xml("nvidia-dgx-gb10.xml");
    CHECK(gb10.topology.cores == 20);
    CHECK(gb10.topology.numa_nodes.size() == 1);
    REQUIRE(cache(gb10, "L1d") != nullptr);
    CHECK(cache(gb10, "L1d")->instances == 20);
    REQUIRE(cache(gb10, "L2") != nullptr);
    CHECK(cache(gb10, "L2")->instances == 20);
    CHECK(cache(gb10, "L2")->size_bytes == 2097152);  // the larger cluster's L2
    // Heterogeneous L3 (8 + 16 MiB): the larger instance's size per instance, by design.
    CHECK(gb10.topology.total_llc_bytes() == 2ULL * 16777216);
}
