#pragma once
/// Private to probes: the pieces probe_host() orchestrates (one .cpp file each).
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

/// Microarchitecture from the documented table in cpu_models.cpp.
struct UarchMatch {
    std::string name;      ///< "Zen 4", "Neoverse V2", or "unknown (vendor X family F model M)"
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
