#include "benches/cpu/latency_defs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <utility>

#include "benches/catalog_support.hpp"
#include "benches/cpu/loaded_latency.hpp"
#include "benches/cpu/placement.hpp"
#include "benches/cpu/pointer_chase.hpp"

namespace assay {
namespace {

using catalog::context_metric;
using catalog::kLineBytes;
using catalog::working_set_cap_bytes;
static_assert(kLineBytes == kChaseLineBytes, "the chase and the catalog share the line size");
/// Loads per sample of a cache-resident point: 2^23, >= 4 ms at the 0.5 ns lower bound of any
/// load latency, so the worker wake-up of each run() (tens of microseconds on a busy VM) stays
/// below 1 % of the sample; ~0.1 s at a slow 15 ns L3.
constexpr std::size_t kCacheLoads = std::size_t{1} << 23;
/// Loads per sample of a DRAM point: 2^21, ~0.2 s at ~100 ns (see kDefaultChaseLoads).
constexpr std::size_t kDramLoads = kDefaultChaseLoads;
/// Samples of 0.01 to 0.5 s each: a few suffice for a latency, which varies little.
constexpr std::size_t kMinSamples = 5;
constexpr double kMaxSeconds = 3.0;

BenchmarkDef latency_base(std::string benchmark, Params params) {
    // aarch64: portable C++, a dependent-load chain and integer sums.
    BenchmarkDef def = catalog::cpu_full_suite_def(std::move(benchmark), std::move(params));
    def.sampling.min_samples = kMinSamples;
    def.sampling.max_seconds = kMaxSeconds;
    return def;
}

BenchmarkDef chase_def(const HostInfo& host, PageMode pages, std::uint64_t bytes,
                       const std::vector<unsigned>& pus, std::uint64_t llc, bool llc_assumed) {
    BenchmarkDef def = latency_base("mem.latency", {{"pages", std::string(page_mode_name(pages))},
                                                    {"bytes", std::to_string(bytes)}});
    if (pus.empty()) {
        def.skip_reason = "no cores in the probed topology";
        return def;
    }
    const std::string level = cache_level_label(host.topology, bytes, 1);
    const std::size_t loads = level == "DRAM" ? kDramLoads : kCacheLoads;
    def.context.push_back(context_metric("level." + level, 1, "level"));
    def.context.push_back(context_metric("working_set_bytes", static_cast<double>(bytes), "bytes"));
    def.context.push_back(context_metric("loads", static_cast<double>(loads), "loads"));
    def.context.push_back(context_metric("threads", 1, "threads"));
    def.context.push_back(context_metric("llc_bytes", static_cast<double>(llc), "bytes"));
    if (llc_assumed) {
        def.context.push_back(context_metric("llc_bytes_assumed", 1, "flag"));
    }
    const unsigned pu = pus.front();
    const auto working_set = static_cast<std::size_t>(bytes);
    def.make = [pu, working_set, pages, loads]() -> std::unique_ptr<Kernel> {
        return std::make_unique<PointerChaseKernel>(pu, working_set, pages, std::nullopt,
                                                    kDefaultChaseSeed, loads);
    };
    return def;
}

void add_chase_defs(const HostInfo& host, const CatalogOptions& options,
                    std::vector<BenchmarkDef>& defs) {
    const auto [llc, llc_assumed] = catalog::llc_size(host);
    const std::uint64_t cap = working_set_cap_bytes(host, options);
    const std::vector<unsigned> pus = one_core_pus(host.topology);
    for (const PageMode pages : {PageMode::thp, PageMode::small}) {
        const std::size_t first = defs.size();
        for (const std::uint64_t bytes : latency_points_bytes(llc)) {
            if (cap != 0 && bytes > cap) {
                break;
            }
            defs.push_back(chase_def(host, pages, bytes, pus, llc, llc_assumed));
        }
        // The quick suite shows one DRAM latency: the largest thp point (>= 4x LLC unless
        // capped), a couple of seconds on a small host.
        if (pages == PageMode::thp && defs.size() > first) {
            defs.back().suites = {"quick", "full"};
        }
    }
}

void add_loaded_defs(const HostInfo& host, const CatalogOptions& options,
                     std::vector<BenchmarkDef>& defs) {
    const std::vector<unsigned> cores = all_cores_pus(host.topology);
    if (cores.empty()) {
        BenchmarkDef def = latency_base("mem.loaded_latency", {{"streams", "0"}});
        def.skip_reason = "no cores in the probed topology";
        defs.push_back(std::move(def));
        return;
    }
    const auto [llc, llc_assumed] = catalog::llc_size(host);
    const std::uint64_t wanted = catalog::kLlcFactor * llc;
    const std::uint64_t cap = working_set_cap_bytes(host, options);
    const unsigned chaser = cores.front();
    const auto other_cores = static_cast<unsigned>(cores.size() - 1);

    for (const unsigned streams : loaded_latency_stream_counts(other_cores)) {
        BenchmarkDef def =
            latency_base("mem.loaded_latency", {{"streams", std::to_string(streams)}});
        std::uint64_t chase_bytes = wanted / kLineBytes * kLineBytes;
        // Together the streamers cover >= 4x LLC too, so their reads come from DRAM.
        std::uint64_t per_thread = streams == 0 ? 0
                                                : (wanted + streams * kLineBytes - 1) /
                                                      (streams * kLineBytes) * kLineBytes;
        if (cap != 0 && chase_bytes + streams * per_thread > cap) {
            // Half the cap for the chase, half for the streams.
            chase_bytes = std::min(chase_bytes, cap / 2 / kLineBytes * kLineBytes);
            if (streams != 0) {
                per_thread = std::min(per_thread, cap / 2 / streams / kLineBytes * kLineBytes);
            }
        }
        if (chase_bytes == 0 || (streams != 0 && per_thread == 0)) {
            def.skip_reason = fmt::format(
                "working-set cap of {} bytes is too small for a chase and {} streams of one cache "
                "line each",
                cap, streams);
            defs.push_back(std::move(def));
            continue;
        }
        const std::vector<unsigned> streamers(cores.begin() + 1, cores.begin() + 1 + streams);
        def.context.push_back(
            context_metric("streamer_threads", static_cast<double>(streams), "threads"));
        def.context.push_back(
            context_metric("chase_bytes", static_cast<double>(chase_bytes), "bytes"));
        def.context.push_back(
            context_metric("stream_bytes_per_thread", static_cast<double>(per_thread), "bytes"));
        def.context.push_back(context_metric(
            "working_set_bytes", static_cast<double>(chase_bytes + streams * per_thread), "bytes"));
        def.context.push_back(context_metric("loads", static_cast<double>(kDramLoads), "loads"));
        def.context.push_back(context_metric("llc_bytes", static_cast<double>(llc), "bytes"));
        if (llc_assumed) {
            def.context.push_back(context_metric("llc_bytes_assumed", 1, "flag"));
        }
        if (chase_bytes < wanted) {
            def.context.push_back(context_metric("working_set_below_4x_llc", 1, "flag"));
        }
        const auto chase = static_cast<std::size_t>(chase_bytes);
        const auto stream = static_cast<std::size_t>(per_thread);
        def.make = [chaser, streamers, chase, stream]() -> std::unique_ptr<Kernel> {
            return std::make_unique<LoadedLatencyKernel>(
                chaser, streamers, chase, stream, PageMode::thp, kDefaultChaseSeed, kDramLoads);
        };
        defs.push_back(std::move(def));
    }
}

}  // namespace

std::vector<std::uint64_t> latency_points_bytes(std::uint64_t llc_bytes) {
    return catalog::sqrt2_points_bytes(llc_bytes);
}

std::vector<unsigned> loaded_latency_stream_counts(unsigned other_cores) {
    std::vector<unsigned> counts = {0};
    for (unsigned n = 1; n < other_cores; n *= 2) {
        counts.push_back(n);
    }
    if (other_cores > 0) {
        counts.push_back(other_cores);
    }
    return counts;
}

void add_latency_defs(const HostInfo& host, const CatalogOptions& options,
                      std::vector<BenchmarkDef>& defs) {
    add_chase_defs(host, options, defs);
    add_loaded_defs(host, options, defs);
}

}  // namespace assay
