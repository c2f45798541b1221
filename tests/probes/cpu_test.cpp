// Microarchitecture table, PCI accelerator filter and peak estimates (pure functions).
#include <catch2/catch.hpp>

#include "probes/internal.hpp"

using assay::probes::lookup_microarchitecture;

TEST_CASE("microarchitecture table", "[probes][cpu]") {
    CHECK(lookup_microarchitecture("GenuineIntel", 6, 0x8F).name == "Sapphire Rapids");
    CHECK(lookup_microarchitecture("GenuineIntel", 6, 0x55).name == "Skylake-SP/Cascade Lake");
    CHECK(lookup_microarchitecture("GenuineIntel", 6, 0x6C).name == "Ice Lake-SP");
    CHECK(lookup_microarchitecture("GenuineIntel", 6, 0xCF).name == "Emerald Rapids");
    CHECK(lookup_microarchitecture("GenuineIntel", 6, 0xAE).name == "Granite Rapids");
    CHECK(lookup_microarchitecture("GenuineIntel", 6, 0xAF).name == "Sierra Forest");
    CHECK(lookup_microarchitecture("AuthenticAMD", 0x17, 0x01).name == "Zen/Zen+");
    CHECK(lookup_microarchitecture("AuthenticAMD", 0x17, 0x31).name == "Zen 2");
    CHECK(lookup_microarchitecture("AuthenticAMD", 0x19, 0x01).name == "Zen 3");
    CHECK(lookup_microarchitecture("AuthenticAMD", 0x19, 0x21).name == "Zen 3");
    CHECK(lookup_microarchitecture("AuthenticAMD", 0x19, 0x11).name == "Zen 4");  // this VM
    CHECK(lookup_microarchitecture("AuthenticAMD", 0x19, 0xA0).name == "Zen 4");
    CHECK(lookup_microarchitecture("AuthenticAMD", 0x1A, 0x02).name == "Zen 5");
    const auto n1 = lookup_microarchitecture("ARM", 0x41, 0xd0c);
    CHECK(n1.name == "Neoverse N1");
    CHECK(n1.products == "Graviton2, Ampere Altra");
    CHECK(lookup_microarchitecture("ARM", 0x41, 0xd40).products == "Graviton3");
    CHECK(lookup_microarchitecture("ARM", 0x41, 0xd4f).products.find("NVIDIA Grace") !=
          std::string::npos);
    CHECK(lookup_microarchitecture("Ampere", 0xc0, 0xac3).name == "AmpereOne");
    const auto unknown = lookup_microarchitecture("GenuineIntel", 6, 0x01);
    CHECK_FALSE(unknown.known);
    CHECK(unknown.name == "unknown (vendor GenuineIntel family 0x6 model 0x1)");
    CHECK_FALSE(lookup_microarchitecture("AuthenticAMD", std::nullopt, 0x11).known);
    // Same part number under another vendor's family is not a match.
    CHECK_FALSE(lookup_microarchitecture("GenuineIntel", 0x19, 0x11).known);
}

TEST_CASE("PCI accelerator filter", "[probes][topology]") {
    using assay::probes::is_accelerator_pci;
    CHECK(is_accelerator_pci(0x0302, 0x10de, 0x2330));        // H100 SXM
    CHECK(is_accelerator_pci(0x0300, 0x10de, 0x2684));        // GeForce (VGA class)
    CHECK(is_accelerator_pci(0x0380, 0x1002, 0x740f));        // MI210
    CHECK(is_accelerator_pci(0x1200, 0x1d0f, 0x7064));        // AWS Inferentia
    CHECK(is_accelerator_pci(0x0b40, 0x8086, 0x225c));        // Xeon Phi
    CHECK_FALSE(is_accelerator_pci(0x0300, 0x1a03, 0x2000));  // ASPEED BMC
    CHECK_FALSE(is_accelerator_pci(0x0300, 0x102b, 0x0534));  // Matrox BMC
    CHECK_FALSE(is_accelerator_pci(0x0300, 0x1002, 0x515e));  // ATI ES1000 onboard
    CHECK_FALSE(is_accelerator_pci(0x0300, 0x8086, 0x0412));  // Intel iGPU
    CHECK_FALSE(is_accelerator_pci(0x0200, 0x10de, 0x1234));  // NVIDIA NIC
}

namespace {

assay::CpuInfo cpu_with(const std::string& uarch, std::vector<std::string> features,
                        std::optional<double> max_mhz) {
    assay::CpuInfo cpu;
    cpu.microarchitecture = uarch;
    cpu.isa_features = std::move(features);
    cpu.max_mhz = max_mhz;
    return cpu;
}

assay::TopologyInfo cores(unsigned n) {
    assay::TopologyInfo t;
    t.cores = n;
    return t;
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

}  // namespace

TEST_CASE("peak estimates follow the per-uarch table", "[probes][peak]") {
    using assay::probes::estimate_peaks;
    SECTION("Zen 4: AVX-512 on 256-bit datapaths") {
        const auto peaks = estimate_peaks(
            cpu_with("Zen 4", {"avx2", "avx512_bf16", "avx512_vnni", "avx512f", "fma"}, 3700.0),
            cores(2));
        const auto* fp64 = find(peaks, "fp64");
        REQUIRE(fp64 != nullptr);
        CHECK(fp64->ops_per_second == Approx(2 * 3.7e9 * 16));
        CHECK(fp64->formula.find("2 cores x 3.700 GHz") != std::string::npos);
        CHECK(fp64->unit_path.find("256") != std::string::npos);
        CHECK(find(peaks, "fp32")->ops_per_second == Approx(2 * 3.7e9 * 32));
        REQUIRE(find(peaks, "bf16") != nullptr);
        CHECK(find(peaks, "bf16")->ops_per_second == Approx(2 * 3.7e9 * 64));
        CHECK(find(peaks, "bf16")->unit_path.find("VDPBF16PS") != std::string::npos);
        CHECK(find(peaks, "int8")->ops_per_second == Approx(2 * 3.7e9 * 128));
        CHECK(find(peaks, "int8")->unit_path.find("VPDPBUSD") != std::string::npos);
    }
    SECTION("Sapphire Rapids with AMX") {
        const auto peaks = estimate_peaks(
            cpu_with("Sapphire Rapids",
                     {"amx_bf16", "amx_int8", "amx_tile", "avx512_bf16", "avx512f"}, 2000.0),
            cores(4));
        CHECK(find(peaks, "fp64")->ops_per_second == Approx(4 * 2e9 * 32));
        CHECK(find(peaks, "bf16")->ops_per_second == Approx(4 * 2e9 * 1024));
        CHECK(find(peaks, "bf16")->unit_path.find("AMX") != std::string::npos);
        CHECK(find(peaks, "int8")->ops_per_second == Approx(4 * 2e9 * 2048));
    }
    SECTION("Neoverse V2: 4 x 128-bit") {
        const auto peaks = estimate_peaks(
            cpu_with("Neoverse V2", {"asimd", "bf16", "dotprod", "sve", "sve2"}, 3100.0),
            cores(64));
        CHECK(find(peaks, "fp64")->ops_per_second == Approx(64 * 3.1e9 * 16));
        // BFMMLA: 4x the fp32 rate (4 pipes x 4 lanes x 2 x 4).
        CHECK(find(peaks, "bf16")->ops_per_second == Approx(64 * 3.1e9 * 128));
        CHECK(find(peaks, "int8")->ops_per_second == Approx(64 * 3.1e9 * 128));
    }
    SECTION("unknown uarch says assumed") {
        const auto peaks =
            estimate_peaks(cpu_with("unknown (x)", {"avx2", "fma"}, 3000.0), cores(1));
        REQUIRE(find(peaks, "fp64") != nullptr);
        CHECK(find(peaks, "fp64")->ops_per_second == Approx(3e9 * 16));
        CHECK(find(peaks, "fp64")->unit_path.find("assumed") != std::string::npos);
        CHECK(find(peaks, "bf16") == nullptr);
        CHECK(find(peaks, "int8") == nullptr);
    }
    SECTION("no clock, no estimate") {
        CHECK(estimate_peaks(cpu_with("Zen 4", {"avx512f"}, std::nullopt), cores(2)).empty());
    }
    SECTION("no vector ISA known, no estimate") {
        CHECK(estimate_peaks(cpu_with("unknown (x)", {}, 3000.0), cores(2)).empty());
    }
}
