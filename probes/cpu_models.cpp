// Microarchitecture tables: CPU identification -> core microarchitecture and typical products.
//
// Sources: Intel SDM vol. 4 table 2-1 ("CPUID signature values"), AMD family/model ranges from
// AMD's processor programming references, Linux arch/x86/include/asm/intel-family.h, and Arm's
// MIDR part numbers (Linux arch/arm64/include/asm/cputype.h). x86 rows are keyed by vendor,
// family and an inclusive model range (display family/model, i.e. with the extended fields
// applied); Arm rows by MIDR implementer (stored as CpuInfo::family) and part number
// (CpuInfo::model). "products" names cloud/server parts built on that core, for humans.
#include <array>
#include <string_view>

#include <fmt/format.h>

#include "probes/internal.hpp"

namespace assay::probes {
namespace {

struct X86Row {
    std::string_view vendor;
    unsigned family;
    unsigned model_first;
    unsigned model_last;
    std::string_view name;
    std::string_view products;
};

// clang-format off
constexpr std::array kX86Table = {
    // Intel server cores (family 6)
    X86Row{"GenuineIntel", 6, 0x1A, 0x1A, "Nehalem", "Xeon 5500"},
    X86Row{"GenuineIntel", 6, 0x2C, 0x2C, "Westmere", "Xeon 5600"},
    X86Row{"GenuineIntel", 6, 0x2E, 0x2E, "Nehalem-EX", "Xeon 7500"},
    X86Row{"GenuineIntel", 6, 0x2F, 0x2F, "Westmere-EX", "Xeon E7"},
    X86Row{"GenuineIntel", 6, 0x2D, 0x2D, "Sandy Bridge-EP", "Xeon E5 v1"},
    X86Row{"GenuineIntel", 6, 0x3E, 0x3E, "Ivy Bridge-EP", "Xeon E5 v2"},
    X86Row{"GenuineIntel", 6, 0x3F, 0x3F, "Haswell-EP", "Xeon E5 v3"},
    X86Row{"GenuineIntel", 6, 0x4F, 0x4F, "Broadwell-EP", "Xeon E5 v4"},
    X86Row{"GenuineIntel", 6, 0x56, 0x56, "Broadwell-DE", "Xeon D-1500"},
    X86Row{"GenuineIntel", 6, 0x57, 0x57, "Knights Landing", "Xeon Phi 7200"},
    X86Row{"GenuineIntel", 6, 0x85, 0x85, "Knights Mill", "Xeon Phi 7295"},
    // 0x55 covers Skylake-SP (stepping <= 4), Cascade Lake (5-7) and Cooper Lake (0xB).
    X86Row{"GenuineIntel", 6, 0x55, 0x55, "Skylake-SP/Cascade Lake", "Xeon Scalable 1st/2nd gen, AWS m5/c5"},
    X86Row{"GenuineIntel", 6, 0x6A, 0x6A, "Ice Lake-SP", "Xeon Scalable 3rd gen, AWS m6i/c6i"},
    X86Row{"GenuineIntel", 6, 0x6C, 0x6C, "Ice Lake-SP", "Xeon D-2700"},
    X86Row{"GenuineIntel", 6, 0x8F, 0x8F, "Sapphire Rapids", "Xeon Scalable 4th gen, AWS m7i/c7i"},
    X86Row{"GenuineIntel", 6, 0xCF, 0xCF, "Emerald Rapids", "Xeon Scalable 5th gen"},
    X86Row{"GenuineIntel", 6, 0xAD, 0xAE, "Granite Rapids", "Xeon 6 P-core, AWS m8i"},
    X86Row{"GenuineIntel", 6, 0xAF, 0xAF, "Sierra Forest", "Xeon 6 E-core"},
    X86Row{"GenuineIntel", 6, 0xDD, 0xDD, "Clearwater Forest", "Xeon 6+ E-core"},
    // Intel client cores (seen in developer machines and CI runners)
    X86Row{"GenuineIntel", 6, 0x5E, 0x5E, "Skylake", "Core 6th gen"},
    X86Row{"GenuineIntel", 6, 0x8E, 0x8E, "Kaby Lake/Coffee Lake (mobile)", "Core 7th-10th gen"},
    X86Row{"GenuineIntel", 6, 0x9E, 0x9E, "Kaby Lake/Coffee Lake", "Core 7th-9th gen"},
    X86Row{"GenuineIntel", 6, 0x7D, 0x7E, "Ice Lake (client)", "Core 10th gen"},
    X86Row{"GenuineIntel", 6, 0x8C, 0x8D, "Tiger Lake", "Core 11th gen"},
    X86Row{"GenuineIntel", 6, 0xA7, 0xA7, "Rocket Lake", "Core 11th gen desktop"},
    X86Row{"GenuineIntel", 6, 0x97, 0x9A, "Alder Lake", "Core 12th gen"},
    X86Row{"GenuineIntel", 6, 0xB7, 0xB7, "Raptor Lake", "Core 13th/14th gen"},
    X86Row{"GenuineIntel", 6, 0xBA, 0xBA, "Raptor Lake", "Core 13th/14th gen"},
    X86Row{"GenuineIntel", 6, 0xBF, 0xBF, "Raptor Lake", "Core 13th/14th gen"},
    // AMD
    X86Row{"AuthenticAMD", 0x0F, 0x00, 0xFF, "K8", "Opteron"},
    X86Row{"AuthenticAMD", 0x10, 0x00, 0xFF, "K10", "Opteron 2300-6100"},
    X86Row{"AuthenticAMD", 0x15, 0x00, 0x0F, "Bulldozer", "Opteron 6200"},
    X86Row{"AuthenticAMD", 0x15, 0x10, 0x1F, "Piledriver", "Opteron 6300"},
    X86Row{"AuthenticAMD", 0x15, 0x30, 0x3F, "Steamroller", ""},
    X86Row{"AuthenticAMD", 0x15, 0x60, 0x7F, "Excavator", ""},
    X86Row{"AuthenticAMD", 0x17, 0x00, 0x2F, "Zen/Zen+", "EPYC 7001 Naples"},
    X86Row{"AuthenticAMD", 0x17, 0x30, 0x7F, "Zen 2", "EPYC 7002 Rome, AWS m5a/c5a"},
    X86Row{"AuthenticAMD", 0x19, 0x00, 0x0F, "Zen 3", "EPYC 7003 Milan, AWS m6a/c6a"},
    X86Row{"AuthenticAMD", 0x19, 0x20, 0x5F, "Zen 3", "Ryzen 5000"},
    X86Row{"AuthenticAMD", 0x19, 0x10, 0x1F, "Zen 4", "EPYC 9004 Genoa, AWS m7a/c7a"},
    X86Row{"AuthenticAMD", 0x19, 0x60, 0xAF, "Zen 4", "Ryzen 7000, EPYC 9004 Bergamo/8004 Siena"},
    X86Row{"AuthenticAMD", 0x1A, 0x00, 0xFF, "Zen 5", "EPYC 9005 Turin, Ryzen 9000"},
    X86Row{"HygonGenuine", 0x18, 0x00, 0xFF, "Dhyana (Zen)", "Hygon C86"},
};

struct ArmRow {
    unsigned implementer;
    unsigned part;
    std::string_view name;
    std::string_view products;
};

// Arm rows are data, not code: (MIDR implementer, part) -> core and products. Part numbers from
// Linux arch/arm64/include/asm/cputype.h and the vendors' technical reference manuals; add a row
// when a new core ships.
constexpr std::array kArmTable = {
    // Arm Ltd (implementer 0x41)
    ArmRow{0x41, 0xd03, "Cortex-A53", ""},
    ArmRow{0x41, 0xd05, "Cortex-A55", ""},
    ArmRow{0x41, 0xd07, "Cortex-A57", ""},
    ArmRow{0x41, 0xd08, "Cortex-A72", "Graviton (1st gen, AWS a1)"},
    ArmRow{0x41, 0xd0b, "Cortex-A76", ""},
    ArmRow{0x41, 0xd0c, "Neoverse N1", "Graviton2, Ampere Altra"},
    ArmRow{0x41, 0xd0d, "Cortex-A77", ""},
    ArmRow{0x41, 0xd40, "Neoverse V1", "Graviton3"},
    ArmRow{0x41, 0xd41, "Cortex-A78", ""},
    ArmRow{0x41, 0xd44, "Cortex-X1", ""},
    ArmRow{0x41, 0xd46, "Cortex-A510", ""},
    ArmRow{0x41, 0xd47, "Cortex-A710", ""},
    ArmRow{0x41, 0xd48, "Cortex-X2", ""},
    ArmRow{0x41, 0xd49, "Neoverse N2", "Azure Cobalt 100, Alibaba Yitian 710"},
    ArmRow{0x41, 0xd4a, "Neoverse E1", ""},
    ArmRow{0x41, 0xd4b, "Cortex-A78C", ""},
    ArmRow{0x41, 0xd4d, "Cortex-A715", ""},
    ArmRow{0x41, 0xd4e, "Cortex-X3", ""},
    ArmRow{0x41, 0xd4f, "Neoverse V2", "Graviton4, NVIDIA Grace, Google Axion"},
    ArmRow{0x41, 0xd80, "Cortex-A520", ""},
    ArmRow{0x41, 0xd81, "Cortex-A720", ""},
    ArmRow{0x41, 0xd82, "Cortex-X4", ""},
    ArmRow{0x41, 0xd84, "Neoverse V3", "Graviton5 (expected)"},
    ArmRow{0x41, 0xd85, "Cortex-X925", "NVIDIA GB10 (DGX Spark)"},
    ArmRow{0x41, 0xd87, "Cortex-A725", "NVIDIA GB10 (DGX Spark)"},
    ArmRow{0x41, 0xd8e, "Neoverse N3", ""},
    // Broadcom / Cavium (ThunderX2 shipped under both implementer codes)
    ArmRow{0x42, 0x516, "Vulcan", "ThunderX2"},
    ArmRow{0x43, 0x0af, "ThunderX2", "Marvell ThunderX2"},
    // Fujitsu
    ArmRow{0x46, 0x001, "A64FX", "Fujitsu A64FX (Fugaku)"},
    // HiSilicon
    ArmRow{0x48, 0xd01, "TaiShan v110", "Kunpeng 920"},
    // NVIDIA
    ArmRow{0x4e, 0x003, "Denver 2", "NVIDIA Tegra X2"},
    ArmRow{0x4e, 0x004, "Carmel", "NVIDIA Xavier"},
    // Qualcomm
    ArmRow{0x51, 0x001, "Oryon", "Snapdragon X Elite"},
    ArmRow{0x51, 0x800, "Kryo 2xx Gold", ""},
    ArmRow{0x51, 0x801, "Kryo 2xx Silver", ""},
    ArmRow{0x51, 0x802, "Kryo 3xx Gold", ""},
    ArmRow{0x51, 0x803, "Kryo 3xx Silver", ""},
    ArmRow{0x51, 0x804, "Kryo 4xx Gold", ""},
    ArmRow{0x51, 0x805, "Kryo 4xx Silver", ""},
    ArmRow{0x51, 0xc00, "Falkor", "Centriq 2400"},
    // Apple (Linux on Apple silicon, e.g. Asahi)
    ArmRow{0x61, 0x022, "Icestorm (M1 efficiency)", "Apple M1"},
    ArmRow{0x61, 0x023, "Firestorm (M1 performance)", "Apple M1"},
    ArmRow{0x61, 0x032, "Blizzard (M2 efficiency)", "Apple M2"},
    ArmRow{0x61, 0x033, "Avalanche (M2 performance)", "Apple M2"},
    // Ampere
    ArmRow{0xc0, 0xac3, "AmpereOne", "AmpereOne A192"},
    ArmRow{0xc0, 0xac4, "AmpereOne AC04", "AmpereOne M"},
    ArmRow{0xc0, 0xac5, "AmpereOne AC05", ""},
};
// clang-format on

bool is_x86_vendor(const std::string& vendor) {
    return vendor == "GenuineIntel" || vendor == "AuthenticAMD" || vendor == "HygonGenuine";
}

}  // namespace

UarchMatch lookup_microarchitecture(const std::string& vendor, std::optional<unsigned> family,
                                    std::optional<unsigned> model) {
    UarchMatch match;
    if (family && model) {
        if (is_x86_vendor(vendor)) {
            for (const auto& row : kX86Table) {
                if (row.vendor == vendor && row.family == *family && *model >= row.model_first &&
                    *model <= row.model_last) {
                    return {std::string(row.name), std::string(row.products), true};
                }
            }
        } else {
            for (const auto& row : kArmTable) {
                if (row.implementer == *family && row.part == *model) {
                    return {std::string(row.name), std::string(row.products), true};
                }
            }
        }
    }
    const auto hex = [](std::optional<unsigned> v) {
        return v ? fmt::format("{:#x}", *v) : std::string("?");
    };
    if (!is_x86_vendor(vendor) && family && model) {
        // Arm: "family" is the MIDR implementer and "model" the part number.
        match.name = fmt::format("unknown (implementer {:#04x} part {:#05x})", *family, *model);
        return match;
    }
    match.name = fmt::format("unknown (vendor {} family {} model {})",
                             vendor.empty() ? "?" : vendor, hex(family), hex(model));
    return match;
}

Midr decode_midr(std::uint64_t midr) {
    Midr m;
    m.implementer = static_cast<unsigned>((midr >> 24) & 0xffU);
    m.variant = static_cast<unsigned>((midr >> 20) & 0xfU);
    m.architecture = static_cast<unsigned>((midr >> 16) & 0xfU);
    m.part = static_cast<unsigned>((midr >> 4) & 0xfffU);
    m.revision = static_cast<unsigned>(midr & 0xfU);
    return m;
}

std::string arm_implementer_name(unsigned implementer) {
    switch (implementer) {
        case 0x00:
            // Arm ARM: implementer 0 is reserved for software use (QEMU's "max" CPU uses it).
            return "software implementation (implementer 0x00)";
        case 0x41:
            return "ARM";
        case 0x42:
            return "Broadcom";
        case 0x43:
            return "Cavium";
        case 0x46:
            return "Fujitsu";
        case 0x48:
            return "HiSilicon";
        case 0x4e:
            return "NVIDIA";
        case 0x51:
            return "Qualcomm";
        case 0x61:
            return "Apple";
        case 0x6d:
            return "Microsoft";
        case 0x70:
            return "Phytium";
        case 0xc0:
            return "Ampere";
        default:
            return fmt::format("implementer {:#04x}", implementer);
    }
}

}  // namespace assay::probes
