// The hw_config fingerprint: sha256 over an explicit list of "key=value" lines.
//
// | key                          | why it is in                                                |
// |------------------------------|-------------------------------------------------------------|
// | cpu.vendor, cpu.model_name   | a different CPU is a different machine class                |
// | cpu.family/model/stepping    | same brand string, different silicon (e.g. SKX vs CLX 0x55) |
// | fingerprint.scheme           | bumped whenever this list or a value's format changes, so a  |
// |                              |   new Assay never silently re-keys old snapshots             |
// | cpu.isa                      | a hypervisor or BIOS can hide AVX-512/AMX: different perf   |
// | cpu.sve_vector_bits          | SVE length changes every vector kernel on Arm               |
// | topology.packages/numa_nodes | socket and NUMA layout drive bandwidth and placement        |
// | topology.cores/pus           | core count and SMT drive every throughput figure            |
// | cache.<Ln>                   | size x instances and line size: LLC sizing of working sets  |
// | memory.gib                   | memory size (rounded to GiB: the kernel's reserved memory   |
// |                              |   moves by a few MB between boots and kernels)              |
// | gpu.count, gpu.N             | GPU model, memory (GiB) and compute capability              |
// | gpu.driver                   | a driver change can move GPU results: new snapshot          |
// | bios_version, product_name   | firmware and instance type (AWS product_name = type)        |
//
// Deliberately NOT in:
// - cpu.microarchitecture: derived from Assay's own table, so a table update would re-key
//   identical hardware; family/model/stepping already identify the silicon;
// - hostname and machine id: that is the host, not its configuration;
// - kernel, governor, THP, perf settings, timestamps: run environment, stored per run.
#include "probes/fingerprint.hpp"

#include <fmt/format.h>

#include "core/sha256.hpp"

namespace assay {
namespace {

std::string opt(const std::optional<unsigned>& v) {
    return v ? std::to_string(*v) : std::string("unknown");
}

std::string join(const std::vector<std::string>& items, const char* sep) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) {
            out += sep;
        }
        out += item;
    }
    return out;
}

}  // namespace

std::vector<std::string> fingerprint_keys(const HostInfo& host) {
    const CpuInfo& cpu = host.cpu;
    const TopologyInfo& topo = host.topology;
    std::vector<std::string> keys;
    keys.push_back("fingerprint.scheme=1");
    keys.push_back("cpu.vendor=" + cpu.vendor);
    keys.push_back("cpu.model_name=" + cpu.model_name);
    keys.push_back("cpu.family=" + opt(cpu.family));
    keys.push_back("cpu.model=" + opt(cpu.model));
    keys.push_back("cpu.stepping=" + opt(cpu.stepping));
    keys.push_back("cpu.isa=" + join(cpu.isa_features, ","));
    keys.push_back("cpu.sve_vector_bits=" + opt(cpu.sve_vector_bits));
    keys.push_back(fmt::format("topology.packages={}", topo.packages));
    keys.push_back(fmt::format("topology.numa_nodes={}", topo.numa_nodes.size()));
    keys.push_back(fmt::format("topology.cores={}", topo.cores));
    keys.push_back(fmt::format("topology.pus={}", topo.pus));
    for (const auto& cache : topo.caches) {
        keys.push_back(fmt::format("cache.{}={}x{} line={}", cache.name(), cache.size_bytes,
                                   cache.instances, cache.line_bytes));
    }
    const std::uint64_t memory_bytes =
        topo.os_memory_bytes ? *topo.os_memory_bytes : topo.numa_memory_bytes;
    constexpr std::uint64_t kGiB = 1ULL << 30;
    keys.push_back(fmt::format("memory.gib={}", (memory_bytes + kGiB / 2) / kGiB));
    keys.push_back(fmt::format("gpu.count={}", host.gpu.gpus.size()));
    for (std::size_t i = 0; i < host.gpu.gpus.size(); ++i) {
        const GpuInfo& g = host.gpu.gpus[i];
        keys.push_back(fmt::format("gpu.{}={} {} {}.{}", i, g.name,
                                   (g.memory_bytes + kGiB / 2) / kGiB, g.cc_major, g.cc_minor));
    }
    keys.push_back("gpu.driver=" + host.gpu.driver_version);
    keys.push_back("bios_version=" + host.identity.bios_version);
    keys.push_back("product_name=" + host.identity.product_name);
    return keys;
}

void apply_fingerprint(HostInfo& host) {
    host.fingerprint_keys = fingerprint_keys(host);
    host.fingerprint = sha256_hex(join(host.fingerprint_keys, "\n"));
}

}  // namespace assay
