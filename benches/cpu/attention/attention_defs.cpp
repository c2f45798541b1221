#include "benches/cpu/attention/attention_defs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "benches/attention_cases.hpp"
#include "benches/catalog_support.hpp"
#include "benches/cpu/attention/attention_kernels.hpp"
#include "benches/cpu/attention/flash_cpu.hpp"
#include "benches/cpu/placement.hpp"

namespace assay {
namespace {

using attention::AttentionCase;
using attention::Dtype;
using attention::Phase;
using catalog::context_metric;

/// The longest sequence the unfused reference runs: its score matrix is S² fp32 per thread and
/// one run at 16384 takes tens of seconds here, which the baseline does not need.
constexpr std::int64_t kUnfusedMaxSeq = 8192;

// Sampling budget only (never reported), as the GEMM suite plans it: compute at 50 % of the
// probe's peak share (20 GFLOP/s per thread when unknown), memory at >= 5 GB/s per thread.
constexpr double kPlanningEfficiency = 0.5;
constexpr double kPlanningOpsPerThread = 20e9;
constexpr double kPlanningBytesPerThread = 5e9;

std::string peak_dtype(Dtype d) {
    switch (d) {
        case Dtype::f32:
            return "fp32";
        case Dtype::bf16:
            return "bf16";
        case Dtype::f16:
            return {};
    }
    return {};
}

const PeakEstimate* find_peak(const HostInfo& host, const std::string& dtype) {
    if (dtype.empty()) {
        return nullptr;
    }
    for (const PeakEstimate& p : host.peaks) {
        if (p.dtype == dtype && p.ops_per_second > 0) {
            return &p;
        }
    }
    return nullptr;
}

SamplingHints sampling_for(double planned_seconds) {
    SamplingHints h;
    h.max_seconds = std::clamp(2.0 * planned_seconds, 1.0, 40.0);
    if (planned_seconds > 2.0) {
        h.min_samples = 2;
    } else if (planned_seconds > 0.2) {
        h.min_samples = 3;
    } else {
        h.min_samples = 5;
    }
    return h;
}

/// Host- and build-level skip reasons of FlashAttentionCpu per dtype pair, computed once.
class FlashAvailability {
  public:
    const std::string& reason(Dtype q, Dtype kv) {
        const auto key = std::make_pair(q, kv);
        auto it = cache_.find(key);
        if (it == cache_.end()) {
#if defined(ASSAY_ATTENTION_FLASH)
            it = cache_.emplace(key, attention::FlashAttentionCpu::skip_reason(q, kv)).first;
#else
            it = cache_.emplace(key, "fused CPU attention kernel not in this build").first;
#endif
        }
        return it->second;
    }

  private:
    std::map<std::pair<Dtype, Dtype>, std::string> cache_;
};

struct Context {
    const HostInfo& host;
    std::uint64_t cap = 0;
    std::vector<unsigned> pus;
    std::string placement;  ///< the placement label of `pus` ("all_cores", "numa0_cores")
    std::string no_pus_reason;
    catalog::LlcSize llc;  ///< what decode's K+V are compared against
};

BenchmarkDef base_def(const AttentionCase& c, std::string backend) {
    BenchmarkDef def;
    def.bench_case.benchmark = attention::benchmark_name(c.phase);
    def.bench_case.params = attention::case_params(c);
    def.device = "cpu";
    def.backend = std::move(backend);
    def.suites = c.suites;
    def.aarch64 = "yes";
    return def;
}

/// Common checks and context; false when the def was given a skip reason.
bool size_and_describe(const Context& ctx, const AttentionCase& c, std::uint64_t ws,
                       double planned_flops, BenchmarkDef& def) {
    if (ctx.pus.empty()) {
        def.skip_reason = ctx.no_pus_reason;
        return false;
    }
    if (ctx.cap != 0 && ws > ctx.cap) {
        def.skip_reason = fmt::format(
            "working set of {} bytes exceeds the cap of {} bytes (--max-working-set or 1/4 of "
            "available memory)",
            ws, ctx.cap);
        return false;
    }
    const auto threads = static_cast<unsigned>(ctx.pus.size());
    const double kv = attention::kv_bytes(c.shape, c.kv_dtype);
    def.context.push_back(context_metric("threads", threads, "threads"));
    // The cores it ran on, as a label (case params name no placement so that CPU and GPU rows
    // line up): the decode result is judged against the DRAM bandwidth of the same placement.
    def.context.push_back(context_metric("placement." + ctx.placement, 1, ""));
    def.context.push_back(context_metric("working_set_bytes", static_cast<double>(ws), "bytes"));
    def.context.push_back(context_metric("flops_per_run.unmasked_pairs",
                                         attention::attention_flops(c.shape),
                                         "FLOP (4·B·H·D·unmasked pairs)"));
    def.context.push_back(context_metric("kv_bytes", kv, "bytes"));
    if (c.phase == Phase::decode) {
        // Repeated decode calls re-read the same K/V: when they fit in the last-level cache the
        // figure is a cache bandwidth, not DRAM. Recorded so reports can say so.
        const catalog::LlcSize& llc = ctx.llc;
        def.context.push_back(context_metric("llc_bytes", static_cast<double>(llc.bytes), "bytes"));
        if (llc.assumed) {
            def.context.push_back(context_metric("llc_bytes_assumed", 1, "flag"));
        }
        if (kv <= static_cast<double>(llc.bytes)) {
            def.context.push_back(context_metric("kv_fits_in_llc", 1, "flag"));
        }
    }
    double ops_rate = kPlanningOpsPerThread * threads;
    if (const PeakEstimate* peak = find_peak(ctx.host, peak_dtype(c.q_dtype));
        peak && ctx.host.topology.cores > 0) {
        // The probe's estimate covers all cores; this placement gets its share.
        const double share =
            peak->ops_per_second * threads / static_cast<double>(ctx.host.topology.cores);
        def.context.push_back(context_metric("peak_estimate_ops_per_s", share, "OP/s"));
        ops_rate = kPlanningEfficiency * share;
    }
    const double planned =
        std::max(planned_flops / ops_rate,
                 (c.phase == Phase::decode ? kv : 0.0) / (kPlanningBytesPerThread * threads));
    def.sampling = sampling_for(planned);
    return true;
}

BenchmarkDef flash_def(const Context& ctx, FlashAvailability& availability,
                       const AttentionCase& c) {
    BenchmarkDef def = base_def(c, "cpu.flash");
    if (const std::string& reason = availability.reason(c.q_dtype, c.kv_dtype); !reason.empty()) {
        def.skip_reason = reason;
        return def;
    }
    if (!size_and_describe(ctx, c, fused_working_set_bytes(c), attention::attention_flops(c.shape),
                           def)) {
        return def;
    }
#if defined(ASSAY_ATTENTION_FLASH)
    def.make = [c, pus = ctx.pus]() -> std::unique_ptr<Kernel> {
        return std::make_unique<FlashAttentionKernel>(c, pus);
    };
#endif
    return def;
}

BenchmarkDef unfused_def(const Context& ctx, const AttentionCase& c, AttentionBlas blas,
                         const std::string& blas_reason) {
    BenchmarkDef def = base_def(c, fmt::format("cpu.unfused.{}", to_string(blas)));
    def.suites = {"full"};
    if (!blas_reason.empty()) {
        def.skip_reason = blas_reason;
        return def;
    }
    const auto threads = static_cast<unsigned>(ctx.pus.size());
    // The reference computes the full S_q×S_kv product even under the causal mask.
    attention::Shape unmasked = c.shape;
    unmasked.causal = false;
    if (!size_and_describe(ctx, c, unfused_working_set_bytes(c, threads),
                           attention::attention_flops(unmasked), def)) {
        return def;
    }
    def.make = [c, blas, pus = ctx.pus]() -> std::unique_ptr<Kernel> {
        return std::make_unique<UnfusedAttentionKernel>(c, blas, pus);
    };
    return def;
}

/// Dtype pairs the fused CPU kernel implements (the others are CUDA-only cases).
bool cpu_offers(const AttentionCase& c) {
    if (c.phase == Phase::prefill) {
        return c.q_dtype == Dtype::f32 || c.q_dtype == Dtype::bf16;
    }
    return c.q_dtype == Dtype::f32 || (c.q_dtype == Dtype::bf16 && c.kv_dtype == Dtype::bf16);
}

}  // namespace

void add_attention_cpu_defs(const HostInfo& host, const CatalogOptions& options,
                            std::vector<BenchmarkDef>& defs) {
    Context ctx{host, catalog::working_set_cap_bytes(host, options), {}, "all_cores", {}, {}};
    ctx.llc = catalog::llc_size(host);
    // All cores, or the first NUMA node's cores on multi-node hosts (as GEMM's headline cases):
    // the kernel's working set is first-touched by its threads, so it stays node-local.
    std::vector<unsigned> all_cores;
    for (const Placement& pl : cpu_placements(host.topology)) {
        if (pl.label == "numa0_cores" && !pl.pus.empty()) {
            ctx.pus = pl.pus;
            ctx.placement = pl.label;
        } else if (pl.label == "all_cores") {
            all_cores = pl.pus;
        }
    }
    if (ctx.pus.empty()) {
        ctx.pus = all_cores;
    }
    ctx.no_pus_reason = "no cores in the probed topology";

    FlashAvailability availability;
    std::map<AttentionBlas, std::string> blas_reasons;
    for (const AttentionBlas blas : attention_blas_all()) {
        blas_reasons[blas] = attention_blas_skip_reason(blas);
    }
    for (const AttentionCase& c : attention::prefill_cases()) {
        if (!cpu_offers(c)) {
            continue;
        }
        defs.push_back(flash_def(ctx, availability, c));
        if (c.q_dtype == Dtype::f32 && c.shape.seq_q <= kUnfusedMaxSeq) {
            for (const AttentionBlas blas : attention_blas_all()) {
                defs.push_back(unfused_def(ctx, c, blas, blas_reasons[blas]));
            }
        }
    }
    for (const AttentionCase& c : attention::decode_cases()) {
        if (cpu_offers(c)) {
            defs.push_back(flash_def(ctx, availability, c));
        }
    }
}

}  // namespace assay
