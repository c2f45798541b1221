#include "core/series.hpp"

#include <algorithm>
#include <array>
#include <map>

#include <fmt/format.h>

#include "core/sha256.hpp"

namespace assay {

namespace {

std::string or_unknown(const std::string& s) {
    return s.empty() ? "unknown" : s;
}

template <typename T>
std::string or_unknown(const std::optional<T>& v) {
    return v ? fmt::format("{}", *v) : "unknown";
}

std::string short_hash(const std::vector<std::string>& keys) {
    std::string joined;
    for (const auto& k : keys) {
        joined += k;
        joined += '\n';
    }
    return sha256_hex(joined).substr(0, 16);
}

bool names_math_library(const std::string& key) {
    static constexpr std::array<const char*, 8> kLibraries = {"blas", "blis",   "dnnl",  "onednn",
                                                              "mkl",  "cublas", "cudnn", "nccl"};
    return std::any_of(kLibraries.begin(), kLibraries.end(),
                       [&](const char* lib) { return key.find(lib) != std::string::npos; });
}

}  // namespace

std::string SeriesKey::to_string() const {
    return fmt::format("{}|{}|{}|{}|{}|{}", case_id, device, metric, host_class, build_class,
                       backend);
}

unsigned memory_class_gib(std::uint64_t bytes) {
    if (bytes == 0) {
        return 0;
    }
    constexpr std::uint64_t kGib = 1ULL << 30;
    const std::uint64_t gib = (bytes + kGib - 1) / kGib;
    if (gib <= 4) {
        return static_cast<unsigned>(gib);
    }
    return static_cast<unsigned>((gib + 3) / 4 * 4);
}

std::vector<std::string> host_class_keys(const HostInfo& host) {
    const auto& cpu = host.cpu;
    const auto& topo = host.topology;
    std::vector<std::string> keys;
    keys.push_back("arch=" + or_unknown(cpu.arch));
    keys.push_back("cpu_vendor=" + or_unknown(cpu.vendor));
    keys.push_back("cpu_model=" + or_unknown(cpu.model_name));
    keys.push_back("cpu_family=" + or_unknown(cpu.family));
    keys.push_back("cpu_model_number=" + or_unknown(cpu.model));
    keys.push_back(fmt::format("packages={}", topo.packages));
    keys.push_back(
        fmt::format("cores_per_package={}", topo.packages ? topo.cores / topo.packages : 0));
    keys.push_back(fmt::format("threads_per_core={}", topo.max_pus_per_core));
    keys.push_back(fmt::format("numa_nodes={}", topo.numa_nodes.size()));
    const std::uint64_t mem = topo.os_memory_bytes.value_or(topo.numa_memory_bytes);
    keys.push_back(mem ? fmt::format("memory_class_gib={}", memory_class_gib(mem))
                       : std::string("memory_class_gib=unknown"));
    std::map<std::string, unsigned> gpu_models;
    for (const auto& g : host.gpu.gpus) {
        ++gpu_models[or_unknown(g.name)];
    }
    std::string gpus;
    for (const auto& [name, count] : gpu_models) {
        gpus += fmt::format("{}{} x {}", gpus.empty() ? "" : ", ", count, name);
    }
    keys.push_back("gpus=" + (gpus.empty() ? std::string("none") : gpus));
    keys.push_back("instance_type=" + or_unknown(host.identity.product_name));
    return keys;
}

std::string host_class_of(const HostInfo& host) {
    return short_hash(host_class_keys(host));
}

std::vector<std::string> build_class_keys(const RunInfo& run) {
    std::vector<std::string> keys;
    std::string major = "unknown";
    if (!run.tool_version.empty()) {
        const auto dot = run.tool_version.find('.');
        major = run.tool_version.substr(0, dot);
        if (major == "0" && dot != std::string::npos) {
            const auto dot2 = run.tool_version.find('.', dot + 1);
            major = run.tool_version.substr(0, dot2);
        }
    }
    keys.push_back("tool_major=" + major);
    keys.push_back("compiler=" + or_unknown(run.compiler));
    keys.push_back("build_type=" + or_unknown(run.build_type));
    for (const auto& [key, value] : run.environment) {  // std::map: sorted, stable order
        if (key == "cuda_build" || key == "cuda_runtime" || names_math_library(key)) {
            keys.push_back(key + "=" + value);
        }
    }
    return keys;
}

std::string build_class_of(const RunInfo& run) {
    return short_hash(build_class_keys(run));
}

}  // namespace assay
