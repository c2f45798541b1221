// Live CPU identification and ISA: cpuid + XGETBV on x86-64, hwcaps + MIDR on aarch64.
#include <algorithm>
#include <cstdint>
#include <regex>
#include <sstream>

#include <fmt/format.h>

#include "probes/fs.hpp"
#include "probes/internal.hpp"

#if defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#if defined(__aarch64__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#endif

namespace assay::probes {
namespace {

namespace fs = std::filesystem;

struct Frequencies {
    std::optional<double> base_mhz;
    std::optional<double> max_mhz;
    std::string source;
};

std::optional<double> sysfs_khz_as_mhz(const fs::path& root, std::string_view file) {
    auto value =
        read_line(under_root(root, fmt::format("/sys/devices/system/cpu/cpu0/cpufreq/{}", file)));
    if (!value) {
        return std::nullopt;
    }
    auto khz = parse_u64(*value);
    if (!khz || *khz == 0) {
        return std::nullopt;
    }
    return static_cast<double>(*khz) / 1000.0;
}

/// "Intel(R) Xeon(R) CPU E5-2680 0 @ 2.70GHz" -> 2700.
std::optional<double> brand_string_mhz(const std::string& brand) {
    static const std::regex kAtGhz(R"(@\s*([0-9]+(?:\.[0-9]+)?)\s*GHz)");
    std::smatch m;
    if (std::regex_search(brand, m, kAtGhz)) {
        return std::stod(m[1].str()) * 1000.0;
    }
    return std::nullopt;
}

#if defined(__x86_64__)

struct Regs {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
};

Regs cpuid(unsigned leaf, unsigned subleaf = 0) {
    Regs r;
    if (__get_cpuid_count(leaf, subleaf, &r.eax, &r.ebx, &r.ecx, &r.edx) == 0) {
        return {};
    }
    return r;
}

bool bit(unsigned reg, unsigned n) {
    return ((reg >> n) & 1U) != 0;
}

std::uint64_t read_xcr0() {
    unsigned lo = 0;
    unsigned hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (static_cast<std::uint64_t>(hi) << 32) | lo;
}

/// Linux keeps AMX tile data disabled per process until it is requested (kernel >= 5.16).
std::string amx_permission_note() {
    constexpr int kArchReqXcompPerm = 0x1023;
    constexpr unsigned long kXfeatureXtiledata = 18;
    if (syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0) {
        return "AMX tile data permission granted (arch_prctl ARCH_REQ_XCOMP_PERM)";
    }
    return "AMX listed by cpuid/XCR0 but arch_prctl(ARCH_REQ_XCOMP_PERM) was refused: AMX "
           "kernels will fail here";
}

void probe_x86(CpuInfo& cpu, Frequencies& freq) {
    const Regs leaf0 = cpuid(0);
    const unsigned max_leaf = leaf0.eax;
    char vendor[13] = {};
    std::copy_n(reinterpret_cast<const char*>(&leaf0.ebx), 4, vendor);
    std::copy_n(reinterpret_cast<const char*>(&leaf0.edx), 4, vendor + 4);
    std::copy_n(reinterpret_cast<const char*>(&leaf0.ecx), 4, vendor + 8);
    cpu.vendor = vendor;

    const Regs ext0 = cpuid(0x80000000U);
    if (ext0.eax >= 0x80000004U) {
        std::string brand;
        for (unsigned leaf = 0x80000002U; leaf <= 0x80000004U; ++leaf) {
            const Regs r = cpuid(leaf);
            for (unsigned reg : {r.eax, r.ebx, r.ecx, r.edx}) {
                for (int i = 0; i < 4; ++i) {
                    const char c = static_cast<char>((reg >> (8 * i)) & 0xffU);
                    if (c != '\0') {
                        brand.push_back(c);
                    }
                }
            }
        }
        cpu.model_name = trim(brand);
    }

    const Regs leaf1 = cpuid(1);
    const unsigned base_family = (leaf1.eax >> 8) & 0xfU;
    unsigned family = base_family;
    unsigned model = (leaf1.eax >> 4) & 0xfU;
    if (base_family == 0xf) {
        family += (leaf1.eax >> 20) & 0xffU;
    }
    if (base_family == 0x6 || base_family == 0xf) {
        model += ((leaf1.eax >> 16) & 0xfU) << 4;
    }
    cpu.family = family;
    cpu.model = model;
    cpu.stepping = leaf1.eax & 0xfU;

    const bool osxsave = bit(leaf1.ecx, 27);
    const std::uint64_t xcr0 = osxsave ? read_xcr0() : 0;
    const bool os_avx = (xcr0 & 0x6U) == 0x6U;
    const bool os_avx512 = os_avx && (xcr0 & 0xe0U) == 0xe0U;
    const bool os_amx = (xcr0 & 0x60000U) == 0x60000U;

    const Regs l7 = max_leaf >= 7 ? cpuid(7, 0) : Regs{};
    const Regs l7s1 = (max_leaf >= 7 && l7.eax >= 1) ? cpuid(7, 1) : Regs{};

    std::vector<std::string>& f = cpu.isa_features;
    auto add = [&f](bool present, const char* name) {
        if (present) {
            f.emplace_back(name);
        }
    };
    add(bit(leaf1.ecx, 20), "sse4_2");
    add(os_avx && bit(leaf1.ecx, 28), "avx");
    add(os_avx && bit(l7.ebx, 5), "avx2");
    add(os_avx && bit(leaf1.ecx, 12), "fma");
    add(os_avx && bit(leaf1.ecx, 29), "f16c");
    add(os_avx && bit(l7s1.eax, 4), "avx_vnni");
    add(os_avx512 && bit(l7.ebx, 16), "avx512f");
    add(os_avx512 && bit(l7.ebx, 17), "avx512dq");
    add(os_avx512 && bit(l7.ebx, 21), "avx512_ifma");
    add(os_avx512 && bit(l7.ebx, 28), "avx512cd");
    add(os_avx512 && bit(l7.ebx, 30), "avx512bw");
    add(os_avx512 && bit(l7.ebx, 31), "avx512vl");
    add(os_avx512 && bit(l7.ecx, 1), "avx512_vbmi");
    add(os_avx512 && bit(l7.ecx, 6), "avx512_vbmi2");
    add(os_avx512 && bit(l7.ecx, 11), "avx512_vnni");
    add(os_avx512 && bit(l7.ecx, 12), "avx512_bitalg");
    add(os_avx512 && bit(l7.ecx, 14), "avx512_vpopcntdq");
    add(os_avx512 && bit(l7s1.eax, 5), "avx512_bf16");
    add(os_avx512 && bit(l7.edx, 23), "avx512_fp16");
    const bool amx_tile = os_amx && bit(l7.edx, 24);
    add(amx_tile, "amx_tile");
    add(amx_tile && bit(l7.edx, 22), "amx_bf16");
    add(amx_tile && bit(l7.edx, 25), "amx_int8");
    add(amx_tile && bit(l7s1.eax, 21), "amx_fp16");

    cpu.isa_source = fmt::format("cpuid + XGETBV (XCR0={:#x})", xcr0);
    if (amx_tile) {
        cpu.isa_source += "; " + amx_permission_note();
    } else if (bit(l7.edx, 24) && !os_amx) {
        cpu.isa_source += "; AMX present in cpuid but not enabled by the OS in XCR0";
    }
    if (bit(l7.ebx, 16) && !os_avx512) {
        cpu.isa_source += "; AVX-512 present in cpuid but not enabled by the OS in XCR0";
    }

    if (!freq.base_mhz && !freq.max_mhz && max_leaf >= 0x16) {
        const Regs l16 = cpuid(0x16);
        if ((l16.eax & 0xffffU) != 0) {
            freq.base_mhz = static_cast<double>(l16.eax & 0xffffU);
        }
        if ((l16.ebx & 0xffffU) != 0) {
            freq.max_mhz = static_cast<double>(l16.ebx & 0xffffU);
        }
        if (freq.base_mhz || freq.max_mhz) {
            freq.source = "cpuid leaf 0x16";
        }
    }
}

#endif  // __x86_64__

#if defined(__aarch64__)

/// MIDR_EL1 of cpu0: sysfs first; else, when the kernel advertises HWCAP_CPUID (it then traps
/// and emulates EL0 reads of the ID registers, and so does qemu-user), the register itself;
/// else the /proc/cpuinfo fields of the first CPU. Returns the source, "" when none worked.
std::string arm_identification(const fs::path& root, unsigned long hwcap, CpuInfo& cpu,
                               std::optional<Midr>& midr_out) {
    if (auto midr_text = read_line(
            under_root(root, "/sys/devices/system/cpu/cpu0/regs/identification/midr_el1"))) {
        try {
            midr_out = decode_midr(std::stoull(*midr_text, nullptr, 16));
            return "sysfs midr_el1";
        } catch (const std::exception&) {
            // Fall through to the register.
        }
    }
    constexpr unsigned long kHwcapCpuid = 1UL << 11;  // Linux arm64 ABI bit number
    if ((hwcap & kHwcapCpuid) != 0) {
        std::uint64_t midr = 0;
        __asm__ volatile("mrs %0, MIDR_EL1" : "=r"(midr));
        midr_out = decode_midr(midr);
        return "mrs MIDR_EL1 (EL0 read emulated by the kernel or qemu-user)";
    }
    auto text = read_text(under_root(root, "/proc/cpuinfo"));
    if (!text) {
        return {};
    }
    std::istringstream in(*text);
    std::string line;
    auto number = [](const std::string& value) -> std::optional<unsigned> {
        try {
            return static_cast<unsigned>(std::stoul(value, nullptr, 0));
        } catch (const std::exception&) {
            return std::nullopt;
        }
    };
    while (std::getline(in, line)) {
        const auto colon = line.find(':');
        if (colon == std::string::npos) {
            if (cpu.family && cpu.model) {
                break;  // end of the first CPU's block
            }
            continue;
        }
        const std::string key = trim(line.substr(0, colon));
        const std::string value = trim(line.substr(colon + 1));
        if (key == "CPU implementer" && !cpu.family) {
            cpu.family = number(value);
        } else if (key == "CPU part" && !cpu.model) {
            cpu.model = number(value);
        } else if (key == "CPU revision" && !cpu.stepping) {
            cpu.stepping = number(value);
        }
    }
    return cpu.family && cpu.model ? "/proc/cpuinfo" : "";
}

void probe_aarch64(const fs::path& root, CpuInfo& cpu) {
    const unsigned long hwcap = getauxval(AT_HWCAP);
    const unsigned long hwcap2 = getauxval(AT_HWCAP2);
    std::optional<Midr> midr;
    const std::string id_source = arm_identification(root, hwcap, cpu, midr);
    if (midr) {
        cpu.family = midr->implementer;
        cpu.model = midr->part;
        cpu.stepping = midr->revision;
    }
    cpu.vendor = cpu.family ? arm_implementer_name(*cpu.family) : std::string();
    cpu.isa_features = decode_arm_hwcaps(hwcap, hwcap2);
    if (cpu.has("sve")) {
        const int vl = prctl(PR_SVE_GET_VL);
        if (vl > 0) {
            // The low bits hold the vector length in bytes; the high bits are flags.
            cpu.sve_vector_bits = static_cast<unsigned>(vl & PR_SVE_VL_LEN_MASK) * 8U;
        }
    }
    const UarchMatch uarch = lookup_microarchitecture(cpu.vendor, cpu.family, cpu.model);
    if (cpu.family && cpu.model) {
        // Arm has no brand string: name the core, its rNpM and the products built on it, or
        // say plainly that the part is not in the table (e.g. QEMU's "max" CPU).
        const std::string rev =
            midr ? fmt::format(" r{}p{}", midr->variant, midr->revision) : std::string();
        if (uarch.known) {
            cpu.model_name = cpu.vendor + " " + uarch.name + rev;
            if (!uarch.products.empty()) {
                cpu.model_name += " (" + uarch.products + ")";
            }
        } else {
            cpu.model_name = fmt::format(
                "unknown Arm core: implementer {:#04x} part {:#05x}{} (not in the core "
                "table)",
                *cpu.family, *cpu.model, rev);
        }
    }
    cpu.isa_source = fmt::format("getauxval(AT_HWCAP={:#x}, AT_HWCAP2={:#x}); MIDR from {}", hwcap,
                                 hwcap2, id_source.empty() ? "nowhere (unknown)" : id_source);
}

#endif  // __aarch64__

}  // namespace

std::vector<std::string> decode_arm_hwcaps(std::uint64_t hwcap, std::uint64_t hwcap2) {
    // Bit numbers of the Linux arm64 ABI (arch/arm64/include/uapi/asm/hwcap.h). Literals so the
    // decoder builds and is tested on any host; on aarch64 they are checked against the system
    // header where it defines them (older headers lack e.g. HWCAP2_SME2).
    constexpr std::uint64_t kAsimd = 1ULL << 1;
    constexpr std::uint64_t kAtomics = 1ULL << 8;
    constexpr std::uint64_t kFphp = 1ULL << 9;
    constexpr std::uint64_t kAsimdhp = 1ULL << 10;
    constexpr std::uint64_t kAsimddp = 1ULL << 20;
    constexpr std::uint64_t kSve = 1ULL << 22;
    constexpr std::uint64_t kSve2 = 1ULL << 1;      // HWCAP2
    constexpr std::uint64_t kSvei8mm = 1ULL << 9;   // HWCAP2
    constexpr std::uint64_t kSvebf16 = 1ULL << 12;  // HWCAP2
    constexpr std::uint64_t kI8mm = 1ULL << 13;     // HWCAP2
    constexpr std::uint64_t kBf16 = 1ULL << 14;     // HWCAP2
    constexpr std::uint64_t kSme = 1ULL << 23;      // HWCAP2
    constexpr std::uint64_t kSme2 = 1ULL << 37;     // HWCAP2
#if defined(__aarch64__)
#ifdef HWCAP_ASIMD
    static_assert(kAsimd == HWCAP_ASIMD && kAtomics == HWCAP_ATOMICS && kFphp == HWCAP_FPHP &&
                  kAsimdhp == HWCAP_ASIMDHP && kAsimddp == HWCAP_ASIMDDP && kSve == HWCAP_SVE);
#endif
#ifdef HWCAP2_BF16
    static_assert(kSve2 == HWCAP2_SVE2 && kSvei8mm == HWCAP2_SVEI8MM &&
                  kSvebf16 == HWCAP2_SVEBF16 && kI8mm == HWCAP2_I8MM && kBf16 == HWCAP2_BF16);
#endif
#ifdef HWCAP2_SME
    static_assert(kSme == HWCAP2_SME);
#endif
#ifdef HWCAP2_SME2
    static_assert(kSme2 == HWCAP2_SME2);
#endif
#endif
    std::vector<std::string> f;
    auto add = [&f](bool present, const char* name) {
        if (present) {
            f.emplace_back(name);
        }
    };
    add((hwcap & kAsimd) != 0, "asimd");
    add((hwcap & kFphp) != 0 && (hwcap & kAsimdhp) != 0, "fp16");
    add((hwcap & kAsimddp) != 0, "dotprod");
    add((hwcap & kAtomics) != 0, "lse");
    add((hwcap & kSve) != 0, "sve");
    add((hwcap2 & kSve2) != 0, "sve2");
    add((hwcap2 & kSvebf16) != 0, "svebf16");
    add((hwcap2 & kSvei8mm) != 0, "svei8mm");
    add((hwcap2 & kBf16) != 0, "bf16");
    add((hwcap2 & kI8mm) != 0, "i8mm");
    add((hwcap2 & kSme) != 0, "sme");
    add((hwcap2 & kSme2) != 0, "sme2");
    std::sort(f.begin(), f.end());
    return f;
}

std::optional<double> cpuinfo_mhz(const std::string& cpuinfo_text) {
    std::istringstream in(cpuinfo_text);
    std::string line;
    while (std::getline(in, line)) {
        const auto colon = line.find(':');
        if (colon == std::string::npos || trim(line.substr(0, colon)) != "cpu MHz") {
            continue;
        }
        const std::string value = trim(line.substr(colon + 1));
        try {
            std::size_t used = 0;
            const double mhz = std::stod(value, &used);
            if (used == value.size() && mhz > 0) {
                return mhz;
            }
        } catch (const std::exception&) {
            // Not a number: treated like an absent field.
        }
        return std::nullopt;
    }
    return std::nullopt;
}

std::optional<double> ec2_graviton_nominal_mhz(const std::string& dmi_sys_vendor,
                                               const std::string& microarchitecture) {
    if (dmi_sys_vendor != "Amazon EC2") {
        return std::nullopt;
    }
    // AWS's published clocks; Graviton cores run at a fixed frequency (no boost). Each core
    // maps to exactly one Graviton generation on EC2 (Neoverse N1 also ships in Ampere Altra,
    // which EC2 does not offer).
    if (microarchitecture == "Neoverse N1") {
        return 2500.0;  // Graviton2
    }
    if (microarchitecture == "Neoverse V1") {
        return 2600.0;  // Graviton3 (c7g/m7g/r7g)
    }
    if (microarchitecture == "Neoverse V2") {
        return 2800.0;  // Graviton4 (c8g/m8g/r8g)
    }
    return std::nullopt;
}

FrequencyFallback fallback_frequency(const std::filesystem::path& fs_root, const std::string& arch,
                                     const std::string& microarchitecture) {
    FrequencyFallback out;
    if (arch == "x86_64") {
        if (auto text = read_text(under_root(fs_root, "/proc/cpuinfo"))) {
            out.base_mhz = cpuinfo_mhz(*text);
            if (out.base_mhz) {
                out.source = "/proc/cpuinfo cpu MHz (nominal/TSC frequency; max boost unknown)";
            }
        }
    } else if (arch == "aarch64") {
        const std::string vendor =
            read_line(under_root(fs_root, "/sys/class/dmi/id/sys_vendor")).value_or("");
        out.base_mhz = ec2_graviton_nominal_mhz(vendor, microarchitecture);
        if (out.base_mhz) {
            out.source = fmt::format(
                "published AWS nominal clock for {} on Amazon EC2 (no cpufreq in sysfs)",
                microarchitecture);
        }
    }
    return out;
}

std::string compile_time_arch() {
#if defined(__x86_64__)
    return "x86_64";
#elif defined(__aarch64__)
    return "aarch64";
#elif defined(__powerpc64__)
    return "ppc64";
#elif defined(__riscv)
    return "riscv64";
#else
    return "unknown";
#endif
}

CpuInfo probe_cpu(const fs::path& fs_root) {
    CpuInfo cpu;
    cpu.arch = compile_time_arch();
    Frequencies freq;
    freq.base_mhz = sysfs_khz_as_mhz(fs_root, "base_frequency");
    freq.max_mhz = sysfs_khz_as_mhz(fs_root, "cpuinfo_max_freq");
    if (freq.base_mhz || freq.max_mhz) {
        freq.source = "sysfs cpufreq (base_frequency, cpuinfo_max_freq)";
    }
#if defined(__x86_64__)
    probe_x86(cpu, freq);
#elif defined(__aarch64__)
    probe_aarch64(fs_root, cpu);
#else
    cpu.isa_source = "not implemented for " + cpu.arch;
#endif
    std::sort(cpu.isa_features.begin(), cpu.isa_features.end());
    if (!freq.base_mhz && !freq.max_mhz) {
        freq.base_mhz = brand_string_mhz(cpu.model_name);
        if (freq.base_mhz) {
            freq.source = "brand string (base only)";
        }
    }
    const UarchMatch uarch = lookup_microarchitecture(cpu.vendor, cpu.family, cpu.model);
    cpu.microarchitecture = uarch.name;
    if (!freq.base_mhz && !freq.max_mhz) {
        FrequencyFallback fallback = fallback_frequency(fs_root, cpu.arch, cpu.microarchitecture);
        freq.base_mhz = fallback.base_mhz;
        freq.max_mhz = fallback.max_mhz;
        freq.source = fallback.source;
    }
    cpu.base_mhz = freq.base_mhz;
    cpu.max_mhz = freq.max_mhz;
#if defined(__x86_64__)
    constexpr const char* kNoFrequency =
        "unknown: no cpufreq in sysfs, cpuid leaf 0x16 empty and no cpu MHz in /proc/cpuinfo";
#else
    constexpr const char* kNoFrequency =
        "unknown: no cpufreq in sysfs and no published nominal clock for this core/platform";
#endif
    cpu.frequency_source = freq.source.empty() ? kNoFrequency : freq.source;

    if (cpu.model_name.empty() && uarch.known) {
        // Arm has no brand string: name the core (and the products built on it).
        cpu.model_name = cpu.vendor + " " + uarch.name;
        if (!uarch.products.empty()) {
            cpu.model_name += " (" + uarch.products + ")";
        }
    }
    return cpu;
}

}  // namespace assay::probes
