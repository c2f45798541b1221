#include "benches/catalog_support.hpp"

#include <fmt/format.h>

#include <cmath>
#include <utility>

namespace assay::catalog {

Metric context_metric(std::string name, double value, std::string unit) {
    return Metric{std::move(name), value, std::move(unit), Direction::none};
}

BenchmarkDef cpu_full_suite_def(std::string benchmark, Params params) {
    BenchmarkDef def;
    def.bench_case.benchmark = std::move(benchmark);
    def.bench_case.params = std::move(params);
    def.device = "cpu";
    def.backend = "cpu.native";
    def.suites = {"full"};
    def.aarch64 = "yes";
    return def;
}

std::uint64_t working_set_cap_bytes(const HostInfo& host, const CatalogOptions& options) {
    if (options.max_working_set_bytes != 0) {
        return options.max_working_set_bytes;
    }
    if (host.topology.os_available_memory_bytes.has_value() &&
        *host.topology.os_available_memory_bytes != 0) {
        return *host.topology.os_available_memory_bytes / 4;
    }
    return host.topology.numa_memory_bytes / 4;
}

LlcSize llc_size(const HostInfo& host) {
    const std::uint64_t probed = host.topology.total_llc_bytes();
    if (probed == 0) {
        return {kAssumedLlcBytes, true};
    }
    return {probed, false};
}

std::vector<std::uint64_t> sqrt2_points_bytes(std::uint64_t llc_bytes) {
    std::vector<std::uint64_t> points;
    const std::uint64_t last = kLlcFactor * llc_bytes;
    for (std::uint64_t p = kSweepMinBytes;; p *= 2) {
        points.push_back(p);
        if (p >= last) {
            break;
        }
        // p * sqrt(2), rounded to whole cache lines.
        const auto mid = static_cast<std::uint64_t>(
                             std::llround(static_cast<double>(p) * std::sqrt(2.0) / kLineBytes)) *
                         kLineBytes;
        points.push_back(mid);
    }
    return points;
}

StreamArraySize dram_stream_array_size(const HostInfo& host, std::uint64_t arrays,
                                       std::uint64_t threads, std::uint64_t cap_bytes) {
    StreamArraySize size;
    size.llc = llc_size(host);
    const std::uint64_t granule = threads * kLineBytes;  // every worker gets whole cache lines
    size.wanted_bytes = kLlcFactor * size.llc.bytes;
    size.array_bytes = (size.wanted_bytes + granule - 1) / granule * granule;
    if (cap_bytes != 0 && arrays * size.array_bytes > cap_bytes) {
        size.array_bytes = cap_bytes / arrays / granule * granule;
    }
    return size;
}

std::string dram_stream_too_small_reason(std::uint64_t cap_bytes, std::uint64_t arrays,
                                         std::uint64_t threads) {
    return fmt::format(
        "working-set cap of {} bytes is too small for {} arrays of one cache line per thread "
        "({} threads)",
        cap_bytes, arrays, threads);
}

void add_dram_stream_context(BenchmarkDef& def, const StreamArraySize& size, std::uint64_t arrays,
                             std::uint64_t threads) {
    def.context.push_back(context_metric("threads", static_cast<double>(threads), "threads"));
    def.context.push_back(
        context_metric("array_bytes", static_cast<double>(size.array_bytes), "bytes"));
    def.context.push_back(context_metric("working_set_bytes",
                                         static_cast<double>(arrays * size.array_bytes), "bytes"));
    def.context.push_back(
        context_metric("llc_bytes", static_cast<double>(size.llc.bytes), "bytes"));
}

void add_dram_stream_flags(BenchmarkDef& def, const StreamArraySize& size) {
    if (size.llc.assumed) {
        def.context.push_back(context_metric("llc_bytes_assumed", 1, "flag"));
    }
    if (size.array_bytes < size.wanted_bytes) {
        def.context.push_back(context_metric("working_set_below_4x_llc", 1, "flag"));
    }
}

}  // namespace assay::catalog
