#pragma once
/// Private to probes: the pieces probe_host() orchestrates (one .cpp file each).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/host_info.hpp"
#include "probes/probe.hpp"

namespace assay::probes {

/// What the topology step learns, beyond TopologyInfo: the CPU and DMI facts hwloc stores as
/// info attributes (used for XML input, where they describe the XML's machine, not this host).
struct TopologyProbe {
    TopologyInfo topology;
    std::string cpu_vendor;                ///< Package "CPUVendor"
    std::string cpu_model_name;            ///< Package "CPUModel"
    std::optional<unsigned> cpu_family;    ///< Package "CPUFamilyNumber"
    std::optional<unsigned> cpu_model;     ///< Package "CPUModelNumber"
    std::optional<unsigned> cpu_stepping;  ///< Package "CPUStepping"
    std::string architecture;              ///< root "Architecture" info
    std::string hostname;                  ///< root "HostName" info
    std::string dmi_sys_vendor;            ///< root "DMISysVendor" info
    std::string dmi_product_name;          ///< root "DMIProductName" info
    std::string dmi_bios_version;          ///< root "DMIBIOSVersion" info
};

/// Loads the live topology or options.topology_xml; throws InputError for a bad XML. For the
/// live host also reads MemTotal/MemAvailable from <fs_root>/proc/meminfo.
TopologyProbe probe_topology(const ProbeOptions& options);

/// True for a PCI device that is a GPU or compute accelerator (BMC graphics excluded).
bool is_accelerator_pci(std::uint32_t class_id, std::uint16_t vendor_id, std::uint16_t device_id);

/// The live CPU: ISA (cpuid / hwcaps), identification, frequencies (sysfs under fs_root).
CpuInfo probe_cpu(const std::filesystem::path& fs_root);

/// The compile-time architecture name ("x86_64", "aarch64", ...).
std::string compile_time_arch();

/// MIDR_EL1 (Arm "Main ID Register") split into its fields (Arm ARM D23.2, MIDR_EL1).
struct Midr {
    unsigned implementer = 0;   ///< bits 31:24 (0x41 Arm Ltd, 0xc0 Ampere, 0 = software/emulator)
    unsigned variant = 0;       ///< bits 23:20, the "r" of rNpM
    unsigned architecture = 0;  ///< bits 19:16 (0xf: see the ID registers)
    unsigned part = 0;          ///< bits 15:4, primary part number
    unsigned revision = 0;      ///< bits 3:0, the "p" of rNpM
};

/// Pure: the fields of a MIDR_EL1 value (upper 32 bits are RES0 and ignored).
Midr decode_midr(std::uint64_t midr);

/// Pure: the name of a MIDR implementer code ("ARM", "Ampere", "NVIDIA", ...); unlisted codes
/// become "implementer 0x..".
std::string arm_implementer_name(unsigned implementer);

/// Pure: Arm ISA features from AT_HWCAP and AT_HWCAP2 values, canonical names, sorted:
/// asimd, fp16 (FPHP and ASIMDHP), dotprod, lse, sve, sve2, svebf16, svei8mm, bf16, i8mm, sme,
/// sme2. Bit numbers are the Linux arm64 ABI's (arch/arm64/include/uapi/asm/hwcap.h), so this
/// decodes on any build host.
std::vector<std::string> decode_arm_hwcaps(std::uint64_t hwcap, std::uint64_t hwcap2);

/// A clock figure and where it came from.
struct FrequencyFallback {
    std::optional<double> base_mhz;
    std::optional<double> max_mhz;
    std::string source;  ///< empty when nothing was found
};

/// Pure: the first "cpu MHz" value of a /proc/cpuinfo text; nullopt when absent or not > 0.
std::optional<double> cpuinfo_mhz(const std::string& cpuinfo_text);

/// Pure: the published nominal clock of the one AWS Graviton generation built on this core, for
/// DMI sys_vendor "Amazon EC2" (Neoverse N1 -> Graviton2 2.5 GHz, V1 -> Graviton3 2.6 GHz,
/// V2 -> Graviton4 2.8 GHz); nullopt for anything else.
std::optional<double> ec2_graviton_nominal_mhz(const std::string& dmi_sys_vendor,
                                               const std::string& microarchitecture);

/// Frequency when cpufreq (and on x86 cpuid leaf 0x16 and the brand string) gave nothing, read
/// under fs_root for the given architecture: "x86_64" -> /proc/cpuinfo "cpu MHz" as base only
/// (in a VM it is the TSC/nominal clock); "aarch64" -> ec2_graviton_nominal_mhz() with DMI
/// sys_vendor. Empty source when nothing applies.
FrequencyFallback fallback_frequency(const std::filesystem::path& fs_root, const std::string& arch,
                                     const std::string& microarchitecture);

/// Caches from <fs_root>/sys/devices/system/cpu/cpu*/cache/index*/ (level, type, size,
/// coherency_line_size, ways_of_associativity, shared_cpu_list), for hosts where hwloc reports
/// none. One entry per (level, type) like the hwloc path; instances = distinct shared_cpu_list
/// values; cores_per_instance counts the entries of `cores` whose PUs lie in the shared list.
/// Empty when the tree has no cache directories.
std::vector<CacheLevel> caches_from_sysfs(const std::filesystem::path& fs_root,
                                          const std::vector<CoreInfo>& cores);

/// Why caches_from_sysfs(fs_root, ...) found nothing, as one line naming what is missing: the
/// cpu directory unreadable, no cpu<N> directories, no cache/ directories (the usual VM case), no
/// index<N> entries, or entries without level, size or shared_cpu_list. Meaningful only when
/// caches_from_sysfs() is empty.
std::string sysfs_caches_missing_reason(const std::filesystem::path& fs_root);

/// Microarchitecture from the documented table in cpu_models.cpp.
struct UarchMatch {
    std::string name;      ///< "Zen 4", "Neoverse V2", "unknown (vendor X family F model M)"
                           ///< or on Arm "unknown (implementer 0xII part 0xPPP)"
    std::string products;  ///< "Graviton4, NVIDIA Grace"; may be empty
    bool known = false;
};
UarchMatch lookup_microarchitecture(const std::string& vendor, std::optional<unsigned> family,
                                    std::optional<unsigned> model);

/// Peak estimates per dtype from cores x clock x per-core throughput (peak.cpp's table).
std::vector<PeakEstimate> estimate_peaks(const CpuInfo& cpu, const TopologyInfo& topology);

/// OS settings read under fs_root (virtualization via cpuid on x86).
OsInfo probe_os(const std::filesystem::path& fs_root);

/// Tries perf_event_open(cycles) on this process; fills hw_counters_usable/_reason.
void probe_hw_counters(OsInfo& os);

/// hostname, machine id and DMI strings (under fs_root).
HostIdentity probe_identity(const std::filesystem::path& fs_root);

}  // namespace assay::probes
