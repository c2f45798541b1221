#include "reports/host_summary.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace assay {
namespace {

std::string or_unknown(const std::string& s) {
    return s.empty() ? "unknown" : s;
}

template <class T>
std::string opt(const std::optional<T>& v, const char* suffix = "") {
    return v ? fmt::format("{}{}", *v, suffix) : "unknown";
}

std::string mhz(const std::optional<double>& v) {
    return v ? fmt::format("{:.0f} MHz", *v) : std::string("unknown");
}

/// "0-3,8" style list of OS indices.
std::string index_ranges(std::vector<unsigned> v) {
    std::sort(v.begin(), v.end());
    std::string out;
    for (std::size_t i = 0; i < v.size();) {
        std::size_t j = i;
        while (j + 1 < v.size() && v[j + 1] == v[j] + 1) {
            ++j;
        }
        if (!out.empty()) {
            out += ',';
        }
        out += j > i ? fmt::format("{}-{}", v[i], v[j]) : fmt::format("{}", v[i]);
        i = j + 1;
    }
    return out.empty() ? "none" : out;
}

std::string si_rate(double ops) {
    if (ops >= 1e12)
        return fmt::format("{:.2f} T", ops / 1e12);
    if (ops >= 1e9)
        return fmt::format("{:.1f} G", ops / 1e9);
    return fmt::format("{:.0f} M", ops / 1e6);
}

void line(std::string& out, const std::string& key, const std::string& value) {
    out += fmt::format("  {:<22} {}\n", key, value);
}

}  // namespace

std::string format_bytes(std::uint64_t bytes) {
    static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(bytes);
    std::size_t u = 0;
    while (v >= 1024.0 && u + 1 < std::size(kUnits)) {
        v /= 1024.0;
        ++u;
    }
    if (v == static_cast<double>(static_cast<std::uint64_t>(v))) {
        return fmt::format("{} {}", static_cast<std::uint64_t>(v), kUnits[u]);
    }
    return fmt::format("{:.1f} {}", v, kUnits[u]);
}

std::string render_host_summary(const HostInfo& h) {
    const auto& t = h.topology;
    const auto& c = h.cpu;
    const auto& o = h.os;
    std::string out;

    out += fmt::format("Host {}  (fingerprint {})\n", or_unknown(h.identity.hostname),
                       h.fingerprint.substr(0, 16));
    line(out, "probed", fmt::format("{} from {}", h.probed_at, t.source));
    if (!h.identity.system_vendor.empty() || !h.identity.product_name.empty()) {
        line(out, "system",
             fmt::format("{} {}", h.identity.system_vendor, h.identity.product_name));
    }

    out += "\nCPU\n";
    line(out, "model", fmt::format("{} ({})", or_unknown(c.model_name), or_unknown(c.vendor)));
    line(out, "architecture",
         fmt::format("{}, microarchitecture {}", or_unknown(c.arch),
                     or_unknown(c.microarchitecture)));
    if (c.family || c.model) {
        line(out, "family/model/stepping",
             fmt::format("{} / {} / {}", opt(c.family), opt(c.model), opt(c.stepping)));
    }
    line(out, "frequency",
         fmt::format("base {}, max {} ({})", mhz(c.base_mhz), mhz(c.max_mhz),
                     or_unknown(c.frequency_source)));
    {
        std::string isa;
        for (const auto& f : c.isa_features) {
            isa += (isa.empty() ? "" : " ") + f;
        }
        line(out, "ISA features", isa.empty() ? "none detected" : isa);
        line(out, "ISA source", or_unknown(c.isa_source));
        if (c.sve_vector_bits) {
            line(out, "SVE vector length", fmt::format("{} bits", *c.sve_vector_bits));
        }
        // The questions users ask first, answered explicitly rather than left to a grep.
        if (c.arch == "x86_64") {
            const bool avx512 = c.has("avx512f");
            const bool amx = c.has("amx_tile");
            line(out, "AVX-512",
                 avx512 ? fmt::format("yes (bf16: {}, fp16: {}, vnni: {})",
                                      c.has("avx512_bf16") ? "yes" : "no",
                                      c.has("avx512_fp16") ? "yes" : "no",
                                      c.has("avx512_vnni") ? "yes" : "no")
                        : "no");
            line(out, "AMX",
                 amx ? fmt::format("yes (bf16: {}, int8: {})", c.has("amx_bf16") ? "yes" : "no",
                                   c.has("amx_int8") ? "yes" : "no")
                     : "no");
        } else if (c.arch == "aarch64") {
            line(out, "SVE / SVE2 / SME",
                 fmt::format("{} / {} / {}", c.has("sve") ? "yes" : "no",
                             c.has("sve2") ? "yes" : "no", c.has("sme") ? "yes" : "no"));
            line(
                out, "BF16 / I8MM",
                fmt::format("{} / {}", c.has("bf16") ? "yes" : "no", c.has("i8mm") ? "yes" : "no"));
        }
    }

    out += "\nTopology\n";
    line(out, "packages", fmt::format("{}", t.packages));
    line(out, "NUMA nodes", fmt::format("{}", t.numa_nodes.size()));
    line(out, "cores", fmt::format("{}", t.cores));
    line(out, "PUs (hw threads)",
         fmt::format("{} (SMT {})", t.pus,
                     t.max_pus_per_core > 1 ? fmt::format("{}-way", t.max_pus_per_core)
                                            : std::string("off or absent")));
    for (const auto& n : t.numa_nodes) {
        line(out, fmt::format("  node {}", n.os_index),
             fmt::format("{} local memory, CPUs {}", format_bytes(n.local_memory_bytes),
                         index_ranges(n.pu_os_indices)));
    }
    line(out, "memory (NUMA total)", format_bytes(t.numa_memory_bytes));
    if (t.os_memory_bytes) {
        line(out, "memory (OS MemTotal)",
             fmt::format(
                 "{}{}", format_bytes(*t.os_memory_bytes),
                 t.os_available_memory_bytes
                     ? fmt::format(", {} available", format_bytes(*t.os_available_memory_bytes))
                     : std::string()));
    }
    if (!t.memory_note.empty()) {
        line(out, "memory note", t.memory_note);
    }

    out += "\nCaches\n";
    if (t.caches.empty()) {
        out += t.caches_missing_reason.empty()
                   ? std::string("  none reported\n")
                   : fmt::format("  none reported: {}\n", t.caches_missing_reason);
    }
    for (const auto& k : t.caches) {
        line(out, k.name(),
             fmt::format("{} x {}, line {} B, {}-way, shared by {} core(s) / {} PU(s)",
                         format_bytes(k.size_bytes), k.instances,
                         k.line_bytes ? std::to_string(k.line_bytes) : "?",
                         k.associativity > 0 ? std::to_string(k.associativity)
                                             : (k.associativity < 0 ? "fully" : "?"),
                         k.cores_per_instance, k.pus_per_instance));
    }

    out += "\nPeak estimates (theoretical, not measured)\n";
    if (h.peaks.empty()) {
        out += "  none: frequency or vector ISA unknown\n";
    }
    for (const auto& p : h.peaks) {
        line(out, p.dtype,
             fmt::format("{}{}/s  = {}  [{}]", si_rate(p.ops_per_second),
                         p.dtype == "int8" ? "OP" : "FLOP", p.formula, p.unit_path));
    }

    out += "\nOS facts that change results\n";
    line(out, "kernel", fmt::format("{} ({})", or_unknown(o.kernel), or_unknown(o.os_release)));
    line(out, "CPU governor", or_unknown(o.cpu_governor));
    line(out, "transparent hugepages",
         fmt::format("enabled={} defrag={}", or_unknown(o.thp_enabled), or_unknown(o.thp_defrag)));
    line(out, "huge pages",
         o.hugepages_total
             ? fmt::format(
                   "{} x {}", *o.hugepages_total,
                   o.hugepage_size_bytes ? format_bytes(*o.hugepage_size_bytes) : std::string("?"))
             : std::string("unknown"));
    line(out, "SMT control", or_unknown(o.smt_control));
    line(out, "NUMA balancing", opt(o.numa_balancing));
    line(out, "perf_event_paranoid", opt(o.perf_event_paranoid));
    line(out, "hardware counters",
         fmt::format("{}: {}", o.hw_counters_usable ? "usable" : "unavailable",
                     or_unknown(o.hw_counters_reason)));
    line(out, "virtualization", or_unknown(o.virtualization));
    line(out, "container", or_unknown(o.container));

    out += "\nGPUs and accelerators\n";
    if (h.gpu.gpus.empty()) {
        line(out, "CUDA", or_unknown(h.gpu.none_reason));
    } else {
        line(out, "CUDA driver / runtime",
             fmt::format("{} / {}", or_unknown(h.gpu.driver_version),
                         or_unknown(h.gpu.runtime_version)));
    }
    for (const auto& g : h.gpu.gpus) {
        line(out, fmt::format("  cuda:{}", g.index),
             fmt::format("{}, {}, {} SMs, sm_{}{}, bus {}, NUMA node {}", g.name,
                         format_bytes(g.memory_bytes), g.sm_count, g.cc_major, g.cc_minor,
                         g.pci_bus_id, opt(g.numa_node)));
    }
    if (t.accelerators.empty()) {
        line(out, "PCI accelerators", "none in the topology");
    }
    for (const auto& a : t.accelerators) {
        std::vector<unsigned> nodes = a.numa_nodes;
        line(out, fmt::format("  {}", a.pci_bus_id),
             fmt::format("{} {} [{:04x}:{:04x} class {:04x}], NUMA node(s) {}", a.vendor, a.model,
                         a.vendor_id, a.device_id, a.class_id,
                         nodes.empty() ? std::string("unknown") : index_ranges(nodes)));
    }
    return out;
}

}  // namespace assay
