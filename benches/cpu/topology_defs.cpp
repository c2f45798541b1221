#include "benches/cpu/topology_defs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "benches/catalog_support.hpp"
#include "benches/cpu/core_to_core.hpp"
#include "benches/cpu/numa_plan.hpp"
#include "benches/cpu/pointer_chase.hpp"
#include "benches/cpu/stream_kernels.hpp"

namespace assay {
namespace {

using catalog::context_metric;
using catalog::kLineBytes;
/// Sampling limit of one NUMA matrix cell.
constexpr double kNumaCellMaxSeconds = 5.0;

/// The catalog's common reason when the probe found no cores (as in catalog.cpp).
constexpr std::string_view kNoCoresReason = "no cores in the probed topology";

bool has_cores(const TopologyInfo& topo) {
    return std::any_of(topo.core_list.begin(), topo.core_list.end(),
                       [](const CoreInfo& core) { return !core.pu_os_indices.empty(); });
}

std::uint64_t node_memory_bytes(const TopologyInfo& topo, unsigned node_os_index) {
    for (const NumaNodeInfo& node : topo.numa_nodes) {
        if (node.os_index == node_os_index) {
            return node.local_memory_bytes;
        }
    }
    return 0;
}

/// Why numa_matrix_plan() is empty on this topology.
std::string empty_numa_plan_reason(const TopologyInfo& topo) {
    if (!has_cores(topo)) {
        return std::string(kNoCoresReason);
    }
    if (topo.numa_nodes.empty()) {
        return "no NUMA nodes in the probed topology";
    }
    return "no NUMA node pairs with cores on one side and memory on the other";
}

Params numa_params(unsigned cpu_node, unsigned mem_node) {
    return {{"cpu_node", std::to_string(cpu_node)}, {"mem_node", std::to_string(mem_node)}};
}

BenchmarkDef numa_base(std::string benchmark, Params params) {
    // aarch64: STREAM loops and the chase are portable; binding goes through hwloc.
    BenchmarkDef def = catalog::cpu_full_suite_def(std::move(benchmark), std::move(params));
    // N x N cells (576 on a 24-node host): each must stay bounded for the matrix to finish.
    def.sampling.max_seconds = kNumaCellMaxSeconds;
    return def;
}

void add_node_context(BenchmarkDef& def, const NumaPair& pair) {
    def.context.push_back(context_metric("cpu_node", pair.cpu_node, "node"));
    def.context.push_back(context_metric("mem_node", pair.memory_node, "node"));
}

/// The working-set limit of one cell: the run's cap, and a quarter of node j's memory (the
/// binding is strict: the arrays must fit there next to everything else living on the node).
std::uint64_t cell_cap_bytes(const HostInfo& host, const CatalogOptions& options,
                             unsigned memory_node) {
    std::uint64_t cap = catalog::working_set_cap_bytes(host, options);
    const std::uint64_t node_cap = node_memory_bytes(host.topology, memory_node) / 4;
    if (node_cap != 0 && (cap == 0 || node_cap < cap)) {
        cap = node_cap;
    }
    return cap;
}

BenchmarkDef numa_bandwidth_def(const HostInfo& host, const CatalogOptions& options,
                                const NumaPair& pair, StreamOp op) {
    Params params = numa_params(pair.cpu_node, pair.memory_node);
    params["kernel"] = std::string(stream_op_name(op));
    BenchmarkDef def = numa_base("mem.numa.bandwidth", std::move(params));

    const std::uint64_t arrays = stream_op_arrays(op);
    const std::uint64_t threads = pair.cpu_pus.size();
    const std::uint64_t cap = cell_cap_bytes(host, options, pair.memory_node);
    const catalog::StreamArraySize size =
        catalog::dram_stream_array_size(host, arrays, threads, cap);
    if (size.array_bytes == 0) {
        def.skip_reason = catalog::dram_stream_too_small_reason(cap, arrays, threads);
        return def;
    }
    catalog::add_dram_stream_context(def, size, arrays, threads);
    add_node_context(def, pair);
    catalog::add_dram_stream_flags(def, size);

    const std::size_t elements = static_cast<std::size_t>(size.array_bytes / sizeof(double));
    def.make = [op, pus = pair.cpu_pus, elements,
                node = pair.memory_node]() -> std::unique_ptr<Kernel> {
        return std::make_unique<StreamKernel>(op, StoreKind::regular, pus, elements, 1, node);
    };
    return def;
}

BenchmarkDef numa_latency_def(const HostInfo& host, const CatalogOptions& options,
                              const NumaPair& pair) {
    BenchmarkDef def = numa_base("mem.numa.latency", numa_params(pair.cpu_node, pair.memory_node));
    const std::optional<unsigned> pu = numa_chaser_pu(host.topology, pair.cpu_node);
    if (!pu.has_value()) {
        def.skip_reason = fmt::format("NUMA node {} has no cores to run the chase", pair.cpu_node);
        return def;
    }
    const catalog::LlcSize llc = catalog::llc_size(host);
    const std::uint64_t wanted = catalog::kLlcFactor * llc.bytes;
    std::uint64_t bytes = wanted;
    const std::uint64_t cap = cell_cap_bytes(host, options, pair.memory_node);
    if (cap != 0 && bytes > cap) {
        bytes = cap / kLineBytes * kLineBytes;
    }
    if (bytes < kLineBytes) {
        def.skip_reason = fmt::format("working-set cap of {} bytes is below one cache line", cap);
        return def;
    }
    def.context.push_back(context_metric("threads", 1, "threads"));
    def.context.push_back(context_metric("working_set_bytes", static_cast<double>(bytes), "bytes"));
    def.context.push_back(context_metric("llc_bytes", static_cast<double>(llc.bytes), "bytes"));
    add_node_context(def, pair);
    if (llc.assumed) {
        def.context.push_back(context_metric("llc_bytes_assumed", 1, "flag"));
    }
    if (bytes < wanted) {
        def.context.push_back(context_metric("working_set_below_4x_llc", 1, "flag"));
    }
    def.make = [pu = *pu, bytes = static_cast<std::size_t>(bytes),
                node = pair.memory_node]() -> std::unique_ptr<Kernel> {
        return std::make_unique<PointerChaseKernel>(pu, bytes, PageMode::thp, node);
    };
    return def;
}

std::optional<unsigned> core_logical_index(const TopologyInfo& topo, unsigned pu) {
    for (const CoreInfo& core : topo.core_list) {
        if (std::find(core.pu_os_indices.begin(), core.pu_os_indices.end(), pu) !=
            core.pu_os_indices.end()) {
            return core.logical_index;
        }
    }
    return std::nullopt;
}

BenchmarkDef c2c_base(unsigned pu_a, unsigned pu_b) {
    BenchmarkDef def;
    def.bench_case.benchmark = "mem.c2c";
    def.bench_case.params = {{"a", std::to_string(pu_a)}, {"b", std::to_string(pu_b)}};
    def.device = "cpu";
    def.backend = "cpu.native";
    def.suites = {"full"};
    def.aarch64 = "yes";  // std::atomic acquire/release; the spin hint is YIELD on aarch64
    // Each sample is milliseconds; many pairs on big hosts must stay bounded in time.
    def.sampling.min_samples = 5;
    def.sampling.max_seconds = 1.0;
    return def;
}

}  // namespace

void add_numa_defs(const HostInfo& host, const CatalogOptions& options,
                   std::vector<BenchmarkDef>& defs) {
    const std::vector<NumaPair> plan = numa_matrix_plan(host.topology);
    if (plan.empty()) {
        const std::string reason = empty_numa_plan_reason(host.topology);
        for (const StreamOp op : {StreamOp::sum, StreamOp::triad}) {
            Params params = numa_params(0, 0);
            params["kernel"] = std::string(stream_op_name(op));
            BenchmarkDef def = numa_base("mem.numa.bandwidth", std::move(params));
            def.skip_reason = reason;
            defs.push_back(std::move(def));
        }
        BenchmarkDef def = numa_base("mem.numa.latency", numa_params(0, 0));
        def.skip_reason = reason;
        defs.push_back(std::move(def));
        return;
    }
    for (const NumaPair& pair : plan) {
        for (const StreamOp op : {StreamOp::sum, StreamOp::triad}) {
            defs.push_back(numa_bandwidth_def(host, options, pair, op));
        }
        defs.push_back(numa_latency_def(host, options, pair));
    }
}

void add_c2c_defs(const HostInfo& host, const CatalogOptions& /*options*/,
                  std::vector<BenchmarkDef>& defs) {
    const std::vector<CorePair> plan = c2c_pair_plan(host.topology);
    if (plan.empty()) {
        BenchmarkDef def = c2c_base(0, 1);
        if (!has_cores(host.topology)) {
            def.skip_reason = kNoCoresReason;
            defs.push_back(std::move(def));
            return;
        }
        def.skip_reason = fmt::format(
            "core-to-core latency needs two PUs; the probed topology has {} core(s) and {} PU(s)",
            host.topology.cores, host.topology.pus);
        defs.push_back(std::move(def));
        return;
    }
    for (const CorePair& pair : plan) {
        BenchmarkDef def = c2c_base(pair.pu_a, pair.pu_b);
        def.context.push_back(context_metric(
            fmt::format("relation.{}", core_relation_name(pair.relation)), 1, "flag"));
        if (const auto core = core_logical_index(host.topology, pair.pu_a)) {
            def.context.push_back(context_metric("core_a", *core, "core"));
        }
        if (const auto core = core_logical_index(host.topology, pair.pu_b)) {
            def.context.push_back(context_metric("core_b", *core, "core"));
        }
        def.context.push_back(
            context_metric("round_trips", static_cast<double>(kC2cRoundTrips), "round trips"));
        def.make = [a = pair.pu_a, b = pair.pu_b]() -> std::unique_ptr<Kernel> {
            return std::make_unique<CoreToCoreKernel>(a, b, kC2cRoundTrips);
        };
        defs.push_back(std::move(def));
    }
}

}  // namespace assay
