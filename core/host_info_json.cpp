// HostInfo <-> JSON, schema "assay.host/1". Keys are the C++ field names; empty optionals are
// null. nlohmann::json stays in this file.
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/host_info.hpp"

namespace assay {
namespace {

using json = nlohmann::ordered_json;  // keeps C++ field order: "schema" first
constexpr const char* kSchema = "assay.host/1";

template <typename T>
json opt(const std::optional<T>& value) {
    return value ? json(*value) : json(nullptr);
}

template <typename T>
void get_opt(const json& j, const char* key, std::optional<T>& out) {
    const json& v = j.at(key);
    if (v.is_null()) {
        out.reset();
    } else {
        out = v.get<T>();
    }
}

template <typename T>
void get(const json& j, const char* key, T& out) {
    j.at(key).get_to(out);
}

json cache_to_json(const CacheLevel& c) {
    return {{"level", c.level},
            {"type", c.type},
            {"size_bytes", c.size_bytes},
            {"line_bytes", c.line_bytes},
            {"associativity", c.associativity},
            {"instances", c.instances},
            {"pus_per_instance", c.pus_per_instance},
            {"cores_per_instance", c.cores_per_instance}};
}

CacheLevel cache_from_json(const json& j) {
    CacheLevel c;
    get(j, "level", c.level);
    get(j, "type", c.type);
    get(j, "size_bytes", c.size_bytes);
    get(j, "line_bytes", c.line_bytes);
    get(j, "associativity", c.associativity);
    get(j, "instances", c.instances);
    get(j, "pus_per_instance", c.pus_per_instance);
    get(j, "cores_per_instance", c.cores_per_instance);
    return c;
}

json topology_to_json(const TopologyInfo& t) {
    json numa = json::array();
    for (const auto& n : t.numa_nodes) {
        numa.push_back({{"os_index", n.os_index},
                        {"local_memory_bytes", n.local_memory_bytes},
                        {"pu_os_indices", n.pu_os_indices}});
    }
    json cores = json::array();
    for (const auto& c : t.core_list) {
        cores.push_back({{"logical_index", c.logical_index},
                         {"package", c.package},
                         {"numa_node", opt(c.numa_node)},
                         {"pu_os_indices", c.pu_os_indices}});
    }
    json caches = json::array();
    for (const auto& c : t.caches) {
        caches.push_back(cache_to_json(c));
    }
    json accs = json::array();
    for (const auto& a : t.accelerators) {
        accs.push_back({{"pci_bus_id", a.pci_bus_id},
                        {"vendor_id", a.vendor_id},
                        {"device_id", a.device_id},
                        {"class_id", a.class_id},
                        {"vendor", a.vendor},
                        {"model", a.model},
                        {"os_devices", a.os_devices},
                        {"numa_nodes", a.numa_nodes}});
    }
    return {{"source", t.source},
            {"hwloc_version", t.hwloc_version},
            {"packages", t.packages},
            {"cores", t.cores},
            {"pus", t.pus},
            {"max_pus_per_core", t.max_pus_per_core},
            {"numa_nodes", numa},
            {"core_list", cores},
            {"caches", caches},
            {"caches_missing_reason", t.caches_missing_reason},
            {"accelerators", accs},
            {"numa_memory_bytes", t.numa_memory_bytes},
            {"os_memory_bytes", opt(t.os_memory_bytes)},
            {"os_available_memory_bytes", opt(t.os_available_memory_bytes)},
            {"memory_note", t.memory_note}};
}

TopologyInfo topology_from_json(const json& j) {
    TopologyInfo t;
    get(j, "source", t.source);
    get(j, "hwloc_version", t.hwloc_version);
    get(j, "packages", t.packages);
    get(j, "cores", t.cores);
    get(j, "pus", t.pus);
    get(j, "max_pus_per_core", t.max_pus_per_core);
    for (const json& n : j.at("numa_nodes")) {
        NumaNodeInfo node;
        get(n, "os_index", node.os_index);
        get(n, "local_memory_bytes", node.local_memory_bytes);
        get(n, "pu_os_indices", node.pu_os_indices);
        t.numa_nodes.push_back(std::move(node));
    }
    for (const json& c : j.at("core_list")) {
        CoreInfo core;
        get(c, "logical_index", core.logical_index);
        get(c, "package", core.package);
        get_opt(c, "numa_node", core.numa_node);
        get(c, "pu_os_indices", core.pu_os_indices);
        t.core_list.push_back(std::move(core));
    }
    for (const json& c : j.at("caches")) {
        t.caches.push_back(cache_from_json(c));
    }
    // Added after assay.host/1 was first stored: hosts recorded before it read as "no reason".
    if (const auto it = j.find("caches_missing_reason"); it != j.end()) {
        it->get_to(t.caches_missing_reason);
    }
    for (const json& a : j.at("accelerators")) {
        AcceleratorInfo acc;
        get(a, "pci_bus_id", acc.pci_bus_id);
        get(a, "vendor_id", acc.vendor_id);
        get(a, "device_id", acc.device_id);
        get(a, "class_id", acc.class_id);
        get(a, "vendor", acc.vendor);
        get(a, "model", acc.model);
        get(a, "os_devices", acc.os_devices);
        get(a, "numa_nodes", acc.numa_nodes);
        t.accelerators.push_back(std::move(acc));
    }
    get(j, "numa_memory_bytes", t.numa_memory_bytes);
    get_opt(j, "os_memory_bytes", t.os_memory_bytes);
    get_opt(j, "os_available_memory_bytes", t.os_available_memory_bytes);
    get(j, "memory_note", t.memory_note);
    return t;
}

json cpu_to_json(const CpuInfo& c) {
    return {{"arch", c.arch},
            {"vendor", c.vendor},
            {"model_name", c.model_name},
            {"family", opt(c.family)},
            {"model", opt(c.model)},
            {"stepping", opt(c.stepping)},
            {"microarchitecture", c.microarchitecture},
            {"isa_features", c.isa_features},
            {"sve_vector_bits", opt(c.sve_vector_bits)},
            {"isa_source", c.isa_source},
            {"base_mhz", opt(c.base_mhz)},
            {"max_mhz", opt(c.max_mhz)},
            {"frequency_source", c.frequency_source}};
}

CpuInfo cpu_from_json(const json& j) {
    CpuInfo c;
    get(j, "arch", c.arch);
    get(j, "vendor", c.vendor);
    get(j, "model_name", c.model_name);
    get_opt(j, "family", c.family);
    get_opt(j, "model", c.model);
    get_opt(j, "stepping", c.stepping);
    get(j, "microarchitecture", c.microarchitecture);
    get(j, "isa_features", c.isa_features);
    get_opt(j, "sve_vector_bits", c.sve_vector_bits);
    get(j, "isa_source", c.isa_source);
    get_opt(j, "base_mhz", c.base_mhz);
    get_opt(j, "max_mhz", c.max_mhz);
    get(j, "frequency_source", c.frequency_source);
    return c;
}

json os_to_json(const OsInfo& o) {
    return {{"kernel", o.kernel},
            {"os_release", o.os_release},
            {"cpu_governor", o.cpu_governor},
            {"thp_enabled", o.thp_enabled},
            {"thp_defrag", o.thp_defrag},
            {"hugepages_total", opt(o.hugepages_total)},
            {"hugepage_size_bytes", opt(o.hugepage_size_bytes)},
            {"smt_control", o.smt_control},
            {"perf_event_paranoid", opt(o.perf_event_paranoid)},
            {"numa_balancing", opt(o.numa_balancing)},
            {"hw_counters_usable", o.hw_counters_usable},
            {"hw_counters_reason", o.hw_counters_reason},
            {"virtualization", o.virtualization},
            {"container", o.container}};
}

OsInfo os_from_json(const json& j) {
    OsInfo o;
    get(j, "kernel", o.kernel);
    get(j, "os_release", o.os_release);
    get(j, "cpu_governor", o.cpu_governor);
    get(j, "thp_enabled", o.thp_enabled);
    get(j, "thp_defrag", o.thp_defrag);
    get_opt(j, "hugepages_total", o.hugepages_total);
    get_opt(j, "hugepage_size_bytes", o.hugepage_size_bytes);
    get(j, "smt_control", o.smt_control);
    get_opt(j, "perf_event_paranoid", o.perf_event_paranoid);
    get_opt(j, "numa_balancing", o.numa_balancing);
    get(j, "hw_counters_usable", o.hw_counters_usable);
    get(j, "hw_counters_reason", o.hw_counters_reason);
    get(j, "virtualization", o.virtualization);
    get(j, "container", o.container);
    return o;
}

json peaks_to_json(const std::vector<PeakEstimate>& estimates) {
    json peaks = json::array();
    for (const auto& p : estimates) {
        peaks.push_back({{"dtype", p.dtype},
                         {"ops_per_second", p.ops_per_second},
                         {"formula", p.formula},
                         {"unit_path", p.unit_path}});
    }
    return peaks;
}

std::vector<PeakEstimate> peaks_from_json(const json& j) {
    std::vector<PeakEstimate> out;
    for (const json& p : j) {
        PeakEstimate peak;
        get(p, "dtype", peak.dtype);
        get(p, "ops_per_second", peak.ops_per_second);
        get(p, "formula", peak.formula);
        get(p, "unit_path", peak.unit_path);
        out.push_back(std::move(peak));
    }
    return out;
}

json gpu_to_json(const GpuInventory& inv) {
    json gpus = json::array();
    for (const auto& g : inv.gpus) {
        gpus.push_back({{"index", g.index},
                        {"name", g.name},
                        {"uuid", g.uuid},
                        {"pci_bus_id", g.pci_bus_id},
                        {"memory_bytes", g.memory_bytes},
                        {"sm_count", g.sm_count},
                        {"cc_major", g.cc_major},
                        {"cc_minor", g.cc_minor},
                        {"sm_clock_mhz", opt(g.sm_clock_mhz)},
                        {"memory_clock_mhz", opt(g.memory_clock_mhz)},
                        {"memory_bus_width_bits", g.memory_bus_width_bits},
                        {"numa_node", opt(g.numa_node)},
                        {"peaks", peaks_to_json(g.peaks)}});
    }
    return {{"gpus", gpus},
            {"driver_version", inv.driver_version},
            {"runtime_version", inv.runtime_version},
            {"none_reason", inv.none_reason}};
}

GpuInventory gpu_from_json(const json& j) {
    GpuInventory inv;
    for (const json& g : j.at("gpus")) {
        GpuInfo gpu;
        get(g, "index", gpu.index);
        get(g, "name", gpu.name);
        get(g, "uuid", gpu.uuid);
        get(g, "pci_bus_id", gpu.pci_bus_id);
        get(g, "memory_bytes", gpu.memory_bytes);
        get(g, "sm_count", gpu.sm_count);
        get(g, "cc_major", gpu.cc_major);
        get(g, "cc_minor", gpu.cc_minor);
        get_opt(g, "sm_clock_mhz", gpu.sm_clock_mhz);
        get_opt(g, "memory_clock_mhz", gpu.memory_clock_mhz);
        get(g, "memory_bus_width_bits", gpu.memory_bus_width_bits);
        get_opt(g, "numa_node", gpu.numa_node);
        if (g.contains("peaks")) {  // absent in probes stored before GPU peaks existed
            gpu.peaks = peaks_from_json(g.at("peaks"));
        }
        inv.gpus.push_back(std::move(gpu));
    }
    get(j, "driver_version", inv.driver_version);
    get(j, "runtime_version", inv.runtime_version);
    get(j, "none_reason", inv.none_reason);
    return inv;
}

}  // namespace

std::string to_json(const HostInfo& host, int indent) {
    const json peaks = peaks_to_json(host.peaks);
    const HostIdentity& id = host.identity;
    json j = {{"schema", kSchema},
              {"identity",
               {{"hostname", id.hostname},
                {"machine_id", id.machine_id},
                {"system_vendor", id.system_vendor},
                {"product_name", id.product_name},
                {"bios_version", id.bios_version}}},
              {"cpu", cpu_to_json(host.cpu)},
              {"topology", topology_to_json(host.topology)},
              {"os", os_to_json(host.os)},
              {"gpu", gpu_to_json(host.gpu)},
              {"peaks", peaks},
              {"fingerprint", host.fingerprint},
              {"fingerprint_keys", host.fingerprint_keys},
              {"probed_at", host.probed_at}};
    // Firmware strings are not guaranteed UTF-8: replace bad bytes rather than throw.
    return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

HostInfo host_info_from_json(const std::string& text) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {
        throw InputError(fmt::format("invalid host JSON: {}", e.what()));
    }
    try {
        if (!j.is_object()) {
            throw InputError("invalid host JSON: top level is not an object");
        }
        if (!j.contains("schema") || !j.at("schema").is_string() ||
            j.at("schema").get<std::string>() != kSchema) {
            throw InputError(fmt::format("invalid host JSON: schema is {} (expected \"{}\")",
                                         j.contains("schema") ? j.at("schema").dump() : "missing",
                                         kSchema));
        }
        HostInfo host;
        const json& id = j.at("identity");
        get(id, "hostname", host.identity.hostname);
        get(id, "machine_id", host.identity.machine_id);
        get(id, "system_vendor", host.identity.system_vendor);
        get(id, "product_name", host.identity.product_name);
        get(id, "bios_version", host.identity.bios_version);
        host.cpu = cpu_from_json(j.at("cpu"));
        host.topology = topology_from_json(j.at("topology"));
        host.os = os_from_json(j.at("os"));
        host.gpu = gpu_from_json(j.at("gpu"));
        host.peaks = peaks_from_json(j.at("peaks"));
        get(j, "fingerprint", host.fingerprint);
        get(j, "fingerprint_keys", host.fingerprint_keys);
        get(j, "probed_at", host.probed_at);
        return host;
    } catch (const json::exception& e) {
        throw InputError(fmt::format("invalid host JSON: {}", e.what()));
    }
}

}  // namespace assay
