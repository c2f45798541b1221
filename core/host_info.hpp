#pragma once
/// HostInfo: everything the probe learns about a host, as plain data. It crosses every module
/// boundary (benches size and pin from it, the store fingerprints and keeps it, reports print it).
/// Fields the probe could not determine are std::nullopt or empty, with a reason where one is
/// known; they are never guessed.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace assay {

/// One cache level as hwloc reports it (e.g. L2 unified, 2 MiB, one per core).
struct CacheLevel {
    int level = 0;                    ///< 1, 2, 3, 4
    std::string type;                 ///< "data", "instruction" or "unified"
    std::uint64_t size_bytes = 0;     ///< size of one instance
    unsigned line_bytes = 0;          ///< 0 when unknown
    int associativity = 0;            ///< ways; 0 unknown, -1 fully associative
    unsigned instances = 0;           ///< how many of this cache the machine has
    unsigned pus_per_instance = 0;    ///< PUs sharing one instance
    unsigned cores_per_instance = 0;  ///< cores sharing one instance
    std::string name() const;         ///< "L1d", "L1i", "L2", "L3"
};

/// A physical core and the PUs (hardware threads) it carries, by OS index (what pinning uses).
struct CoreInfo {
    unsigned logical_index = 0;           ///< hwloc logical index among cores
    unsigned package = 0;                 ///< logical index of its package
    std::optional<unsigned> numa_node;    ///< OS index of the NUMA node holding it
    std::vector<unsigned> pu_os_indices;  ///< OS (Linux CPU) numbers of its PUs
};

struct NumaNodeInfo {
    unsigned os_index = 0;
    std::uint64_t local_memory_bytes = 0;  ///< as hwloc reports it (sysfs node meminfo)
    std::vector<unsigned>
        pu_os_indices;  ///< PUs whose memory is local here (empty for CPU-less nodes)
};

/// A PCI GPU or accelerator found in the topology, with its NUMA locality.
struct AcceleratorInfo {
    std::string pci_bus_id;  ///< "0000:17:00.0"
    std::uint16_t vendor_id = 0;
    std::uint16_t device_id = 0;
    std::uint32_t class_id = 0;           ///< PCI class (0x0302 = 3D controller)
    std::string vendor;                   ///< "NVIDIA Corporation" when hwloc knows it
    std::string model;                    ///< hwloc's PCIDevice info, or a GPU osdev's model
    std::vector<std::string> os_devices;  ///< e.g. {"cuda0", "nvml0", "card1"}
    std::vector<unsigned> numa_nodes;  ///< OS indices of the local NUMA node(s); empty if unknown
};

struct TopologyInfo {
    std::string source;         ///< "this host" or "xml:<path>"
    std::string hwloc_version;  ///< library version used
    unsigned packages = 0;
    unsigned cores = 0;
    unsigned pus = 0;
    unsigned max_pus_per_core = 0;  ///< 1 = no SMT visible, 2 = SMT2, ...
    std::vector<NumaNodeInfo> numa_nodes;
    std::vector<CoreInfo> core_list;  ///< in logical order
    std::vector<CacheLevel> caches;   ///< ordered by level, then data/instruction/unified
    /// Set when `caches` is empty: why the probe found none (an XML without cache objects; hwloc
    /// and sysfs both silent, as under qemu-user on a VM that exposes no cache information).
    std::string caches_missing_reason;
    std::vector<AcceleratorInfo> accelerators;
    std::uint64_t numa_memory_bytes = 0;           ///< sum of the NUMA nodes' local memory
    std::optional<std::uint64_t> os_memory_bytes;  ///< MemTotal (live host only)
    std::optional<std::uint64_t> os_available_memory_bytes;  ///< MemAvailable (live host only)
    std::string memory_note;  ///< set when NUMA and OS totals disagree, says how

    /// The last-level cache (largest level, unified or data); nullptr when none is known.
    const CacheLevel* last_level_cache() const;
    /// Sum of all last-level cache instances, 0 when unknown.
    std::uint64_t total_llc_bytes() const;
};

struct CpuInfo {
    std::string arch;                  ///< "x86_64", "aarch64", ...
    std::string vendor;                ///< "GenuineIntel", "AuthenticAMD", "ARM", ...
    std::string model_name;            ///< marketing string
    std::optional<unsigned> family;    ///< x86 family / Arm implementer
    std::optional<unsigned> model;     ///< x86 model / Arm part number
    std::optional<unsigned> stepping;  ///< x86 stepping / Arm revision
    std::string microarchitecture;     ///< "Zen 4", "Sapphire Rapids", "Neoverse V2"; "unknown"
    std::vector<std::string> isa_features;  ///< canonical lower-case names, sorted (see probes/isa)
    std::optional<unsigned> sve_vector_bits;
    std::string isa_source;  ///< "cpuid", "hwcap", or why none ("topology from XML")
    std::optional<double> base_mhz;
    std::optional<double> max_mhz;
    std::string frequency_source;  ///< where the MHz figures came from, or why unknown

    bool has(const std::string& feature) const;
};

/// An *estimate* of theoretical peak, never a measurement; the formula is kept with it.
struct PeakEstimate {
    std::string dtype;          ///< "fp64", "fp32", "bf16", "int8"
    double ops_per_second = 0;  ///< FLOP/s (or OP/s for int8)
    std::string formula;        ///< e.g. "2 cores x 3.7 GHz x 2 FMA x 8 lanes x 2"
    std::string unit_path;      ///< the instructions assumed, e.g. "AVX-512 FMA"
};

/// OS settings that change benchmark results. Empty string / nullopt = unknown.
struct OsInfo {
    std::string kernel;        ///< uname -r
    std::string os_release;    ///< PRETTY_NAME from /etc/os-release
    std::string cpu_governor;  ///< cpufreq scaling_governor of cpu0, or "unknown"
    std::string thp_enabled;   ///< the selected [mode] of transparent_hugepage/enabled
    std::string thp_defrag;
    std::optional<std::uint64_t> hugepages_total;
    std::optional<std::uint64_t> hugepage_size_bytes;
    std::string smt_control;  ///< /sys/devices/system/cpu/smt/control
    std::optional<int> perf_event_paranoid;
    std::optional<int> numa_balancing;
    bool hw_counters_usable = false;
    std::string hw_counters_reason;  ///< why (not) usable, one line
    std::string virtualization;      ///< "none", "KVM", "VMware", ...; "unknown"
    std::string container;           ///< "none", "docker", ...; "unknown"
};

struct GpuInfo {
    int index = 0;  ///< CUDA device ordinal
    std::string name;
    std::string uuid;
    std::string pci_bus_id;
    std::uint64_t memory_bytes = 0;
    int sm_count = 0;
    int cc_major = 0, cc_minor = 0;  ///< compute capability
    std::optional<double> sm_clock_mhz;
    std::optional<double> memory_clock_mhz;
    int memory_bus_width_bits = 0;
    std::optional<unsigned> numa_node;  ///< from the hwloc accelerator with the same bus id
    /// Dense peak estimates per dtype from SMs x clock x per-SM rates (probes/gpu_peaks); data
    /// for benches' "% of peak", never a measurement.
    std::vector<PeakEstimate> peaks;
};

struct GpuInventory {
    std::vector<GpuInfo> gpus;
    std::string driver_version;  ///< CUDA driver API version, e.g. "12.4"
    std::string runtime_version;
    std::string none_reason;  ///< set when gpus is empty: why
};

struct HostIdentity {
    std::string hostname;
    std::string machine_id;     ///< /etc/machine-id, or a fallback documented in probes
    std::string system_vendor;  ///< DMI sys_vendor
    std::string product_name;   ///< DMI product_name (cloud instance type on AWS)
    std::string bios_version;
};

struct HostInfo {
    HostIdentity identity;
    CpuInfo cpu;
    TopologyInfo topology;
    OsInfo os;
    GpuInventory gpu;
    std::vector<PeakEstimate> peaks;  ///< estimates per dtype, where derivable
    std::string fingerprint;          ///< sha256 hex over fingerprint_keys (see probes/fingerprint)
    std::vector<std::string> fingerprint_keys;  ///< the "key=value" lines that were hashed
    std::string probed_at;                      ///< UTC ISO-8601
};

/// HostInfo <-> JSON (schema "assay.host/1"). from_json throws InputError on malformed text.
std::string to_json(const HostInfo& host, int indent = 2);
HostInfo host_info_from_json(const std::string& text);

}  // namespace assay
