// Topology via hwloc 2.x: counts, NUMA nodes, cores, caches and PCI accelerators.
#include <hwloc.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <tuple>

#include <fmt/format.h>

#include "core/error.hpp"
#include "probes/fs.hpp"
#include "probes/internal.hpp"

namespace assay::probes {
namespace {

struct TopologyDeleter {
    void operator()(hwloc_topology* topology) const { hwloc_topology_destroy(topology); }
};
using TopologyPtr = std::unique_ptr<hwloc_topology, TopologyDeleter>;

std::vector<unsigned> bitmap_indices(hwloc_const_bitmap_t bitmap) {
    std::vector<unsigned> out;
    if (bitmap == nullptr || hwloc_bitmap_iszero(bitmap)) {
        return out;
    }
    for (int i = hwloc_bitmap_first(bitmap); i >= 0; i = hwloc_bitmap_next(bitmap, i)) {
        out.push_back(static_cast<unsigned>(i));
    }
    return out;
}

std::string info(hwloc_obj_t obj, const char* name) {
    if (obj == nullptr) {
        return {};
    }
    const char* value = hwloc_obj_get_info_by_name(obj, name);
    return value != nullptr ? trim(value) : std::string();
}

std::optional<unsigned> info_number(hwloc_obj_t obj, const char* name) {
    auto value = parse_u64(info(obj, name));
    if (!value || *value > 0xffffffffULL) {
        return std::nullopt;
    }
    return static_cast<unsigned>(*value);
}

std::string version_string(unsigned v) {
    return fmt::format("{}.{}.{}", v >> 16, (v >> 8) & 0xffU, v & 0xffU);
}

int cache_type_rank(const std::string& type) {
    if (type == "data") {
        return 0;
    }
    return type == "instruction" ? 1 : 2;
}

std::string cache_type_name(hwloc_obj_cache_type_e type) {
    switch (type) {
        case HWLOC_OBJ_CACHE_DATA:
            return "data";
        case HWLOC_OBJ_CACHE_INSTRUCTION:
            return "instruction";
        case HWLOC_OBJ_CACHE_UNIFIED:
            break;
    }
    return "unified";
}

unsigned count_inside(hwloc_topology_t topo, hwloc_const_cpuset_t set, hwloc_obj_type_t type) {
    const int n = hwloc_get_nbobjs_inside_cpuset_by_type(topo, set, type);
    return n > 0 ? static_cast<unsigned>(n) : 0U;
}

unsigned count_type(hwloc_topology_t topo, hwloc_obj_type_t type) {
    const int n = hwloc_get_nbobjs_by_type(topo, type);
    return n > 0 ? static_cast<unsigned>(n) : 0U;
}

void fill_caches(hwloc_topology_t topo, TopologyInfo& out) {
    // One entry per (level, type). Heterogeneous machines (e.g. GB10's two core clusters with
    // 512 KiB and 2 MiB L2) get the largest instance's size: benches size DRAM working sets as a
    // multiple of the cache, so over- rather than under-estimating is the safe side.
    std::map<std::pair<int, std::string>, CacheLevel> levels;
    constexpr hwloc_obj_type_t kCacheTypes[] = {
        HWLOC_OBJ_L1CACHE, HWLOC_OBJ_L2CACHE,  HWLOC_OBJ_L3CACHE,  HWLOC_OBJ_L4CACHE,
        HWLOC_OBJ_L5CACHE, HWLOC_OBJ_L1ICACHE, HWLOC_OBJ_L2ICACHE, HWLOC_OBJ_L3ICACHE};
    for (hwloc_obj_type_t type : kCacheTypes) {
        for (hwloc_obj_t obj = hwloc_get_next_obj_by_type(topo, type, nullptr); obj != nullptr;
             obj = hwloc_get_next_obj_by_type(topo, type, obj)) {
            const auto& attr = obj->attr->cache;
            const std::string kind = cache_type_name(attr.type);
            auto& level = levels[{static_cast<int>(attr.depth), kind}];
            level.level = static_cast<int>(attr.depth);
            level.type = kind;
            ++level.instances;
            if (attr.size >= level.size_bytes) {
                level.size_bytes = attr.size;
                level.line_bytes = attr.linesize;
                level.associativity = attr.associativity;
                level.pus_per_instance =
                    obj->cpuset != nullptr
                        ? static_cast<unsigned>(std::max(0, hwloc_bitmap_weight(obj->cpuset)))
                        : 0U;
                level.cores_per_instance =
                    obj->cpuset != nullptr ? count_inside(topo, obj->cpuset, HWLOC_OBJ_CORE) : 0U;
            }
        }
    }
    for (auto& [key, level] : levels) {
        out.caches.push_back(level);
    }
    std::sort(out.caches.begin(), out.caches.end(), [](const CacheLevel& a, const CacheLevel& b) {
        return std::make_tuple(a.level, cache_type_rank(a.type)) <
               std::make_tuple(b.level, cache_type_rank(b.type));
    });
}

void fill_numa_and_cores(hwloc_topology_t topo, TopologyInfo& out) {
    std::vector<hwloc_obj_t> nodes;
    for (hwloc_obj_t node = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE, nullptr);
         node != nullptr; node = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE, node)) {
        nodes.push_back(node);
        NumaNodeInfo info_out;
        info_out.os_index = node->os_index;
        info_out.local_memory_bytes = node->attr->numanode.local_memory;
        info_out.pu_os_indices = bitmap_indices(node->cpuset);
        out.numa_memory_bytes += info_out.local_memory_bytes;
        out.numa_nodes.push_back(std::move(info_out));
    }
    for (hwloc_obj_t core = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_CORE, nullptr);
         core != nullptr; core = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_CORE, core)) {
        CoreInfo c;
        c.logical_index = core->logical_index;
        if (hwloc_obj_t pkg = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_PACKAGE, core)) {
            c.package = pkg->logical_index;
        }
        // The first node (in logical order) whose CPUs include this core: the DRAM node when a
        // package also has CPU-less-looking HBM/CXL nodes listed after it.
        for (hwloc_obj_t node : nodes) {
            if (node->cpuset != nullptr && core->cpuset != nullptr &&
                !hwloc_bitmap_iszero(node->cpuset) &&
                hwloc_bitmap_isincluded(core->cpuset, node->cpuset)) {
                c.numa_node = node->os_index;
                break;
            }
        }
        for (hwloc_obj_t pu = hwloc_get_next_obj_inside_cpuset_by_type(topo, core->cpuset,
                                                                       HWLOC_OBJ_PU, nullptr);
             pu != nullptr;
             pu = hwloc_get_next_obj_inside_cpuset_by_type(topo, core->cpuset, HWLOC_OBJ_PU, pu)) {
            c.pu_os_indices.push_back(pu->os_index);
        }
        out.max_pus_per_core =
            std::max(out.max_pus_per_core, static_cast<unsigned>(c.pu_os_indices.size()));
        out.core_list.push_back(std::move(c));
    }
}

void fill_accelerators(hwloc_topology_t topo, TopologyInfo& out) {
    const unsigned numa_count = count_type(topo, HWLOC_OBJ_NUMANODE);
    for (hwloc_obj_t dev = hwloc_get_next_pcidev(topo, nullptr); dev != nullptr;
         dev = hwloc_get_next_pcidev(topo, dev)) {
        const auto& pci = dev->attr->pcidev;
        if (!is_accelerator_pci(pci.class_id, pci.vendor_id, pci.device_id)) {
            continue;
        }
        AcceleratorInfo acc;
        acc.pci_bus_id =
            fmt::format("{:04x}:{:02x}:{:02x}.{:x}", pci.domain, pci.bus, pci.dev, pci.func);
        acc.vendor_id = pci.vendor_id;
        acc.device_id = pci.device_id;
        acc.class_id = pci.class_id;
        acc.vendor = info(dev, "PCIVendor");
        acc.model = info(dev, "PCIDevice");
        for (hwloc_obj_t child = dev->io_first_child; child != nullptr;
             child = child->next_sibling) {
            if (child->type != HWLOC_OBJ_OS_DEVICE) {
                continue;
            }
            if (child->name != nullptr) {
                acc.os_devices.emplace_back(child->name);
            }
            if (acc.model.empty()) {
                acc.model = info(child, "GPUModel");
            }
            if (acc.vendor.empty()) {
                acc.vendor = info(child, "GPUVendor");
            }
        }
        hwloc_obj_t anchor = hwloc_get_non_io_ancestor_obj(topo, dev);
        // A device hanging off the Machine object on a multi-node host has no known locality.
        if (anchor != nullptr && (anchor->parent != nullptr || numa_count <= 1)) {
            acc.numa_nodes = bitmap_indices(anchor->nodeset);
        }
        out.accelerators.push_back(std::move(acc));
    }
}

void check_readable(const std::filesystem::path& path) {
    std::error_code ec;
    const bool is_dir = std::filesystem::is_directory(path, ec);
    std::ifstream in(path, std::ios::binary);
    if (!in || is_dir) {
        const int err = errno;
        std::string reason = is_dir ? "is a directory"
                             : std::filesystem::exists(path, ec)
                                 ? std::strerror(err != 0 ? err : EACCES)
                                 : "no such file";
        throw InputError(fmt::format("cannot load topology XML '{}': {}", path.string(), reason));
    }
    char first = 0;
    if (!in.get(first)) {
        throw InputError(
            fmt::format("cannot load topology XML '{}': file is empty", path.string()));
    }
}

/// XML files exported on an x86 machine from another machine's sysfs snapshot carry the
/// *exporting* host's cpuid identity (CPUVendor/CPUFamilyNumber/... of an x86 CPU) on Packages
/// of a POWER or Arm topology. When the XML's Architecture is not x86, such x86 identity is
/// dropped rather than reported as that machine's CPU; a non-x86 CPUModel (e.g. "POWER9") is kept.
void drop_foreign_x86_info(hwloc_obj_t pkg, TopologyProbe& result) {
    const std::string& arch = result.architecture;
    const bool x86_arch = arch.empty() || arch == "x86_64" || arch == "i686" || arch == "i386";
    const bool x86_vendor = result.cpu_vendor == "GenuineIntel" ||
                            result.cpu_vendor == "AuthenticAMD" ||
                            result.cpu_vendor == "HygonGenuine";
    if (x86_arch || !x86_vendor || pkg == nullptr) {
        return;
    }
    result.cpu_vendor.clear();
    result.cpu_family.reset();
    result.cpu_model.reset();
    result.cpu_stepping.reset();
    result.cpu_model_name.clear();
    // The exporter overwrote CPUModel on some Packages only (nvidiagpunumanodes.xml: package 0
    // says "Intel(R) Xeon(R) Processor", package 8 "POWER9"): look at every Package.
    for (hwloc_obj_t p = pkg; p != nullptr && result.cpu_model_name.empty(); p = p->next_cousin) {
        for (unsigned i = 0; i < p->infos_count; ++i) {
            const std::string name = p->infos[i].name != nullptr ? p->infos[i].name : "";
            const std::string value = p->infos[i].value != nullptr ? trim(p->infos[i].value) : "";
            if (name == "CPUModel" && value.find("Intel(R)") == std::string::npos &&
                value.find("AMD ") == std::string::npos) {
                result.cpu_model_name = value;
                break;
            }
        }
    }
}

/// "0-3,8,10-11" -> {0,1,2,3,8,10,11}; malformed pieces are skipped.
std::vector<unsigned> parse_cpu_list(const std::string& text) {
    std::vector<unsigned> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t comma = text.find(',', pos);
        if (comma == std::string::npos) {
            comma = text.size();
        }
        const std::string piece = trim(text.substr(pos, comma - pos));
        pos = comma + 1;
        const auto dash = piece.find('-');
        const auto first = parse_u64(piece.substr(0, dash));
        const auto last = dash == std::string::npos ? first : parse_u64(piece.substr(dash + 1));
        // Bound the range: a corrupt file must not make us allocate gigabytes.
        if (!first || !last || *last < *first || *last > 65535) {
            continue;
        }
        for (std::uint64_t cpu = *first; cpu <= *last; ++cpu) {
            out.push_back(static_cast<unsigned>(cpu));
        }
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

/// sysfs cache "size": "48K", "2048K", "32M", or plain bytes.
std::optional<std::uint64_t> parse_cache_size(const std::string& text) {
    std::string t = trim(text);
    std::uint64_t scale = 1;
    if (!t.empty() && (t.back() == 'K' || t.back() == 'M' || t.back() == 'G')) {
        scale = t.back() == 'K' ? 1024ULL : t.back() == 'M' ? 1048576ULL : 1073741824ULL;
        t.pop_back();
    }
    auto value = parse_u64(t);
    if (!value || *value == 0) {
        return std::nullopt;
    }
    return *value * scale;
}

}  // namespace

std::vector<CacheLevel> caches_from_sysfs(const std::filesystem::path& fs_root,
                                          const std::vector<CoreInfo>& cores) {
    namespace fs = std::filesystem;
    // (level, type) -> shared_cpu_list text -> (PUs, attributes of that instance)
    struct Instance {
        std::vector<unsigned> pus;
        CacheLevel attrs;
    };
    std::map<std::pair<int, std::string>, std::map<std::string, Instance>> found;
    const fs::path cpu_dir = under_root(fs_root, "/sys/devices/system/cpu");
    std::error_code ec;
    fs::directory_iterator cpus(cpu_dir, ec);
    if (ec) {
        return {};
    }
    for (const auto& cpu_entry : cpus) {
        const std::string cpu_name = cpu_entry.path().filename().string();
        if (cpu_name.size() < 4 || cpu_name.rfind("cpu", 0) != 0 ||
            !parse_u64(cpu_name.substr(3))) {
            continue;
        }
        std::error_code cache_ec;
        fs::directory_iterator indices(cpu_entry.path() / "cache", cache_ec);
        if (cache_ec) {
            continue;
        }
        for (const auto& index_entry : indices) {
            const fs::path dir = index_entry.path();
            if (dir.filename().string().rfind("index", 0) != 0) {
                continue;
            }
            const auto level = parse_int(read_line(dir / "level").value_or(""));
            const std::string sys_type = read_line(dir / "type").value_or("");
            const auto size = parse_cache_size(read_line(dir / "size").value_or(""));
            const std::string shared = read_line(dir / "shared_cpu_list").value_or("");
            if (!level || *level <= 0 || !size || shared.empty()) {
                continue;
            }
            const std::string type = sys_type == "Data"          ? "data"
                                     : sys_type == "Instruction" ? "instruction"
                                                                 : "unified";
            Instance& inst = found[{*level, type}][shared];
            if (!inst.pus.empty()) {
                continue;  // this instance was already read through another CPU
            }
            inst.pus = parse_cpu_list(shared);
            inst.attrs.level = *level;
            inst.attrs.type = type;
            inst.attrs.size_bytes = *size;
            const auto line = parse_u64(read_line(dir / "coherency_line_size").value_or(""));
            inst.attrs.line_bytes = line && *line < 65536 ? static_cast<unsigned>(*line) : 0U;
            // 0 ways in sysfs means fully associative on some kernels; unknown when absent.
            const auto ways = parse_int(read_line(dir / "ways_of_associativity").value_or(""));
            inst.attrs.associativity = !ways ? 0 : (*ways == 0 ? -1 : *ways);
        }
    }
    std::vector<CacheLevel> out;
    for (const auto& [key, instances] : found) {
        CacheLevel level;
        level.level = key.first;
        level.type = key.second;
        // Like the hwloc path: the largest instance's attributes (heterogeneous clusters).
        for (const auto& [text, inst] : instances) {
            ++level.instances;
            if (inst.attrs.size_bytes < level.size_bytes) {
                continue;
            }
            level.size_bytes = inst.attrs.size_bytes;
            level.line_bytes = inst.attrs.line_bytes;
            level.associativity = inst.attrs.associativity;
            level.pus_per_instance = static_cast<unsigned>(inst.pus.size());
            level.cores_per_instance = 0;
            for (const CoreInfo& core : cores) {
                const bool inside = std::any_of(
                    core.pu_os_indices.begin(), core.pu_os_indices.end(), [&inst](unsigned pu) {
                        return std::binary_search(inst.pus.begin(), inst.pus.end(), pu);
                    });
                level.cores_per_instance += inside ? 1U : 0U;
            }
        }
        out.push_back(std::move(level));
    }
    std::sort(out.begin(), out.end(), [](const CacheLevel& a, const CacheLevel& b) {
        return std::make_tuple(a.level, cache_type_rank(a.type)) <
               std::make_tuple(b.level, cache_type_rank(b.type));
    });
    return out;
}

std::string sysfs_caches_missing_reason(const std::filesystem::path& fs_root) {
    namespace fs = std::filesystem;
    const fs::path cpu_dir = under_root(fs_root, "/sys/devices/system/cpu");
    std::error_code ec;
    fs::directory_iterator cpus(cpu_dir, ec);
    if (ec) {
        return fmt::format("{} cannot be read ({})", cpu_dir.string(), ec.message());
    }
    unsigned cpu_count = 0;
    unsigned cache_dirs = 0;
    unsigned indices = 0;
    for (const auto& cpu_entry : cpus) {
        const std::string cpu_name = cpu_entry.path().filename().string();
        if (cpu_name.size() < 4 || cpu_name.rfind("cpu", 0) != 0 ||
            !parse_u64(cpu_name.substr(3))) {
            continue;
        }
        ++cpu_count;
        std::error_code cache_ec;
        fs::directory_iterator entries(cpu_entry.path() / "cache", cache_ec);
        if (cache_ec) {
            continue;
        }
        ++cache_dirs;
        for (const auto& index_entry : entries) {
            indices += index_entry.path().filename().string().rfind("index", 0) == 0 ? 1U : 0U;
        }
    }
    if (cpu_count == 0) {
        return fmt::format("{} lists no cpu<N> directories", cpu_dir.string());
    }
    if (cache_dirs == 0) {
        return fmt::format(
            "none of the {} cpu<N> directories in {} has a cache/ directory (the kernel or "
            "hypervisor exposes no cache information)",
            cpu_count, cpu_dir.string());
    }
    if (indices == 0) {
        return fmt::format("the cpu<N>/cache/ directories in {} hold no index<N> entries",
                           cpu_dir.string());
    }
    return fmt::format(
        "none of the {} cpu<N>/cache/index<N> entries in {} has a level, a size and a "
        "shared_cpu_list",
        indices, cpu_dir.string());
}

bool is_accelerator_pci(std::uint32_t class_id, std::uint16_t vendor_id, std::uint16_t device_id) {
    constexpr std::uint16_t kNvidia = 0x10de;
    constexpr std::uint16_t kAmd = 0x1002;
    switch (class_id) {
        case 0x0302:  // 3D controller (datacenter NVIDIA/AMD GPUs)
        case 0x1200:  // processing accelerator (Gaudi, Inferentia, ...)
        case 0x0b40:  // co-processor (Xeon Phi)
            return true;
        case 0x0300:  // VGA-compatible display
        case 0x0380:  // other display
            if (vendor_id == kNvidia) {
                return true;
            }
            if (vendor_id == kAmd) {
                // ATI ES1000 (0x515e, 0x5159): onboard server/BMC graphics, not a compute GPU.
                return device_id != 0x515e && device_id != 0x5159;
            }
            // Vendor 0: hwloc could not read the ids (seen in sysfs snapshots of POWER9 hosts
            // whose display-class devices are the V100s). BMC chips (ASPEED 0x1a03, Matrox
            // 0x102b) always have readable ids and are excluded by falling through.
            return vendor_id == 0;
        default:
            return false;
    }
}

TopologyProbe probe_topology(const ProbeOptions& options) {
    hwloc_topology_t raw = nullptr;
    if (hwloc_topology_init(&raw) != 0) {
        throw Error(fmt::format("hwloc_topology_init failed: {}", std::strerror(errno)));
    }
    TopologyPtr topo(raw);
    hwloc_topology_set_io_types_filter(raw, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
    // hwloc drops instruction caches by default; keep them so L1i is reported.
    hwloc_topology_set_icache_types_filter(raw, HWLOC_TYPE_FILTER_KEEP_ALL);

    TopologyProbe result;
    TopologyInfo& out = result.topology;
    if (options.topology_xml) {
        const auto& path = *options.topology_xml;
        check_readable(path);
        if (hwloc_topology_set_xml(raw, path.c_str()) != 0) {
            throw InputError(fmt::format("cannot load topology XML '{}': {}", path.string(),
                                         std::strerror(errno)));
        }
        out.source = "xml:" + path.string();
    } else {
        out.source = "this host";
        // PCI devices still come from the Linux sysfs backend (linuxio); the libpciaccess-based
        // "pci" component only adds vendor/device names and leaks on every load (seen under
        // LeakSanitizer), so it is left out: accelerators keep their numeric ids.
        hwloc_topology_set_components(raw, HWLOC_TOPOLOGY_COMPONENTS_FLAG_BLACKLIST, "pci");
    }
    if (hwloc_topology_load(raw) != 0) {
        const int err = errno;
        if (options.topology_xml) {
            throw InputError(
                fmt::format("cannot load topology XML '{}': not a valid hwloc XML "
                            "topology ({})",
                            options.topology_xml->string(), std::strerror(err)));
        }
        throw Error(
            fmt::format("hwloc could not load this host's topology: {}", std::strerror(err)));
    }
    out.hwloc_version = version_string(hwloc_get_api_version());
    out.packages = count_type(raw, HWLOC_OBJ_PACKAGE);
    out.cores = count_type(raw, HWLOC_OBJ_CORE);
    out.pus = count_type(raw, HWLOC_OBJ_PU);
    fill_numa_and_cores(raw, out);
    fill_caches(raw, out);
    fill_accelerators(raw, out);

    hwloc_obj_t root = hwloc_get_root_obj(raw);
    hwloc_obj_t pkg = hwloc_get_next_obj_by_type(raw, HWLOC_OBJ_PACKAGE, nullptr);
    result.cpu_vendor = info(pkg, "CPUVendor");
    result.cpu_model_name = info(pkg, "CPUModel");
    result.cpu_family = info_number(pkg, "CPUFamilyNumber");
    result.cpu_model = info_number(pkg, "CPUModelNumber");
    result.cpu_stepping = info_number(pkg, "CPUStepping");
    result.architecture = info(root, "Architecture");
    result.hostname = info(root, "HostName");
    result.dmi_sys_vendor = info(root, "DMISysVendor");
    result.dmi_product_name = info(root, "DMIProductName");
    result.dmi_bios_version = info(root, "DMIBIOSVersion");
    drop_foreign_x86_info(pkg, result);

    if (options.topology_xml && out.caches.empty()) {
        out.caches_missing_reason = "the topology XML has no cache objects";
    } else if (out.caches.empty()) {
        // Some cloud VMs (and qemu-user) expose no caches to hwloc while sysfs still lists them.
        out.caches = caches_from_sysfs(options.fs_root, out.core_list);
        if (!out.caches.empty()) {
            out.source += "; caches from sysfs cpu*/cache/index* (hwloc reported none)";
        } else {
            // qemu-user on a VM whose sysfs has no cache directories: no cpuid to fall back on.
            out.caches_missing_reason =
                "hwloc reported no caches and " + sysfs_caches_missing_reason(options.fs_root);
        }
    }
    if (!options.topology_xml) {
        if (auto meminfo = read_text(under_root(options.fs_root, "/proc/meminfo"))) {
            out.os_memory_bytes = meminfo_value(*meminfo, "MemTotal");
            out.os_available_memory_bytes = meminfo_value(*meminfo, "MemAvailable");
        }
        if (out.os_memory_bytes && out.numa_memory_bytes > 0) {
            const double numa = static_cast<double>(out.numa_memory_bytes);
            const double os = static_cast<double>(*out.os_memory_bytes);
            if (std::fabs(numa - os) > 0.05 * std::max(numa, os)) {
                out.memory_note = fmt::format(
                    "NUMA nodes report {:.1f} GiB in total but /proc/meminfo MemTotal is {:.1f} "
                    "GiB; working sets are sized from the OS figure",
                    numa / 1073741824.0, os / 1073741824.0);
            }
        }
    }
    return result;
}

}  // namespace assay::probes
