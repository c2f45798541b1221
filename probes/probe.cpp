// probe_host(): topology + CPU + OS facts + GPUs + peak estimates + fingerprint.
#include "probes/probe.hpp"

#include <algorithm>

#include "core/clock.hpp"
#include "probes/fingerprint.hpp"
#include "probes/gpu.hpp"
#include "probes/gpu_peaks.hpp"
#include "probes/internal.hpp"

namespace assay {
namespace {

constexpr const char* kFromXml = "not available: topology loaded from XML";

/// CPU facts for an XML topology: identification from the XML's Package info, no ISA.
CpuInfo cpu_from_xml(const probes::TopologyProbe& t) {
    CpuInfo cpu;
    cpu.arch = t.architecture.empty() ? "unknown" : t.architecture;
    cpu.vendor = t.cpu_vendor;
    cpu.model_name = t.cpu_model_name;
    cpu.family = t.cpu_family;
    cpu.model = t.cpu_model;
    cpu.stepping = t.cpu_stepping;
    cpu.microarchitecture =
        probes::lookup_microarchitecture(cpu.vendor, cpu.family, cpu.model).name;
    cpu.isa_source = kFromXml;
    cpu.frequency_source = kFromXml;
    return cpu;
}

OsInfo os_from_xml() {
    OsInfo os;
    for (std::string* field :
         {&os.kernel, &os.os_release, &os.cpu_governor, &os.thp_enabled, &os.thp_defrag,
          &os.smt_control, &os.hw_counters_reason, &os.virtualization, &os.container}) {
        *field = kFromXml;
    }
    return os;
}

}  // namespace

HostInfo probe_host(const ProbeOptions& options) {
    HostInfo host;
    probes::TopologyProbe t = probes::probe_topology(options);
    host.topology = std::move(t.topology);
    const bool from_xml = options.topology_xml.has_value();
    if (from_xml) {
        host.cpu = cpu_from_xml(t);
        host.os = os_from_xml();
        host.identity.hostname = t.hostname;
        host.identity.system_vendor = t.dmi_sys_vendor;
        host.identity.product_name = t.dmi_product_name;
        host.identity.bios_version = t.dmi_bios_version;
        host.gpu.none_reason = "not queried: topology loaded from XML";
    } else {
        host.cpu = probes::probe_cpu(options.fs_root);
        if (host.cpu.vendor.empty()) {
            host.cpu.vendor = t.cpu_vendor;
        }
        if (host.cpu.model_name.empty()) {
            host.cpu.model_name = t.cpu_model_name;
        }
        host.os = probes::probe_os(options.fs_root);
        probes::probe_hw_counters(host.os);
        host.identity = probes::probe_identity(options.fs_root);
        if (options.query_gpus) {
            host.gpu = probes::probe_gpus();
        } else {
            host.gpu.none_reason = "not queried (query_gpus=false)";
        }
    }
    for (GpuInfo& gpu : host.gpu.gpus) {
        const auto& accs = host.topology.accelerators;
        auto it = std::find_if(accs.begin(), accs.end(), [&gpu](const AcceleratorInfo& a) {
            return a.pci_bus_id == gpu.pci_bus_id;
        });
        if (it != accs.end() && it->numa_nodes.size() == 1) {
            gpu.numa_node = it->numa_nodes.front();
        }
        gpu.peaks = gpu_peak_estimates(gpu);
    }
    host.peaks = probes::estimate_peaks(host.cpu, host.topology);
    host.probed_at = utc_now_iso8601();
    apply_fingerprint(host);
    return host;
}

}  // namespace assay
