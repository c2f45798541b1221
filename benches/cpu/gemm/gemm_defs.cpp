#include "benches/cpu/gemm/gemm_defs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "benches/catalog_support.hpp"
#include "benches/cpu/gemm/gemm_cpu.hpp"
#include "benches/cpu/gemm/gemm_shapes.hpp"
#include "benches/cpu/placement.hpp"

namespace assay {
namespace {

using catalog::context_metric;
using catalog::working_set_cap_bytes;

const PeakEstimate* find_peak(const HostInfo& host, const std::string& dtype) {
    for (const PeakEstimate& p : host.peaks) {
        if (p.dtype == dtype && p.ops_per_second > 0) {
            return &p;
        }
    }
    return nullptr;
}

// Sampling budget only (never reported): a run is planned at 50 % of the probe's peak for the
// placement's cores (or 20 GFLOP/s per thread when unknown), and weights streamed at >= 5 GB/s
// per thread (decode shapes are bandwidth-bound).
constexpr double kPlanningEfficiency = 0.5;
constexpr double kPlanningOpsPerThread = 20e9;
constexpr double kPlanningBytesPerThread = 5e9;

double planned_run_seconds(const HostInfo& host, const GemmProblem& p, unsigned threads) {
    const double t = static_cast<double>(std::max(1U, threads));
    double ops_rate = kPlanningOpsPerThread * t;
    std::string dtype = gemm_peak_dtype(p.dtype);
    if (dtype.empty()) {
        dtype = "fp32";
    }
    if (const PeakEstimate* peak = find_peak(host, dtype); peak && host.topology.cores > 0) {
        ops_rate = kPlanningEfficiency * peak->ops_per_second * t /
                   static_cast<double>(host.topology.cores);
    }
    const double compute = p.operations() / ops_rate;
    const double memory =
        static_cast<double>(p.working_set_bytes()) / (kPlanningBytesPerThread * t);
    return std::max(compute, memory);
}

/// Few samples for long GEMMs (seconds each, low noise), default sampling for short ones but
/// never more than a few seconds in all.
SamplingHints gemm_sampling(double planned_seconds) {
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

struct Entry {
    std::string benchmark;  ///< gemm.square | gemm.llm
    GemmProblem problem;
    Params extra;  ///< shape/tokens for gemm.llm
    std::vector<std::string> suites;
};

/// Host- and build-level reasons for (backend, dtype), computed once per catalog.
class Availability {
  public:
    explicit Availability(const HostInfo& host) : host_(host) {}
    const std::string& reason(const std::string& backend, GemmDtype dtype) {
        const auto key = std::make_pair(backend, dtype);
        auto it = cache_.find(key);
        if (it == cache_.end()) {
            it = cache_.emplace(key, compute(backend, dtype)).first;
        }
        return it->second;
    }

  private:
    std::string compute(const std::string& backend, GemmDtype dtype) const {
        std::string r = gemm_backend_skip_reason(backend, dtype);
        if (!r.empty()) {
            return r;
        }
#if defined(__aarch64__)
        // OpenBLAS's sbgemm has a scalar fallback; without BF16 instructions it is no bf16
        // benchmark.
        if (dtype == GemmDtype::bf16 && host_.cpu.arch == "aarch64" && !host_.cpu.has("bf16")) {
            return "CPU lacks the Arm BF16 instructions (HWCAP2_BF16)";
        }
#endif
        (void)host_;
        return {};
    }

    const HostInfo& host_;
    std::map<std::pair<std::string, GemmDtype>, std::string> cache_;
};

BenchmarkDef make_def(const HostInfo& host, std::uint64_t cap, Availability& availability,
                      const std::string& backend, const Entry& e, const Placement& placement) {
    const GemmProblem& p = e.problem;
    BenchmarkDef def;
    def.bench_case.benchmark = e.benchmark;
    def.bench_case.params = e.extra;
    def.bench_case.params["dtype"] = std::string(gemm_dtype_name(p.dtype));
    def.bench_case.params["layout"] = std::string(gemm_layout_name(p.layout));
    def.bench_case.params["m"] = std::to_string(p.m);
    def.bench_case.params["n"] = std::to_string(p.n);
    def.bench_case.params["k"] = std::to_string(p.k);
    def.bench_case.params["placement"] = placement.label;
    def.device = "cpu";
    def.backend = backend;
    def.suites = e.suites;
    def.aarch64 = gemm_backend_aarch64(backend);

    if (const std::string& reason = availability.reason(backend, p.dtype); !reason.empty()) {
        def.skip_reason = reason;
        return def;
    }
    if (placement.pus.empty()) {
        def.skip_reason = "no cores in the probed topology";
        return def;
    }
    const std::uint64_t ws = p.working_set_bytes();
    if (cap != 0 && ws > cap) {
        def.skip_reason = fmt::format(
            "working set of {} bytes exceeds the cap of {} bytes (--max-working-set or 1/4 of "
            "available memory)",
            ws, cap);
        return def;
    }
    const auto threads = static_cast<unsigned>(placement.pus.size());
    def.context.push_back(context_metric("threads", threads, "threads"));
    def.context.push_back(context_metric("working_set_bytes", static_cast<double>(ws), "bytes"));
    if (const PeakEstimate* peak = find_peak(host, gemm_peak_dtype(p.dtype));
        peak && host.topology.cores > 0) {
        // The probe's estimate covers all cores; this placement gets its share.
        def.context.push_back(context_metric(
            "peak_estimate_ops_per_s",
            peak->ops_per_second * threads / static_cast<double>(host.topology.cores), "OP/s"));
    }
    def.sampling = gemm_sampling(planned_run_seconds(host, p, threads));
    def.make = [backend, p, pus = placement.pus]() -> std::unique_ptr<Kernel> {
        return std::make_unique<GemmCpuKernel>(backend, p, pus);
    };
    return def;
}

}  // namespace

void add_gemm_cpu_defs(const HostInfo& host, const CatalogOptions& options,
                       std::vector<BenchmarkDef>& defs) {
    const std::uint64_t cap = working_set_cap_bytes(host, options);
    Availability availability(host);
    Placement one_core;
    Placement numa0;
    Placement all_cores;
    bool have_numa0 = false;
    for (const Placement& pl : cpu_placements(host.topology)) {
        if (pl.label == "one_core") {
            one_core = pl;
        } else if (pl.label == "numa0_cores") {
            numa0 = pl;
            have_numa0 = true;
        } else if (pl.label == "all_cores") {
            all_cores = pl;
        }
    }

    for (const std::string& backend : gemm_backend_names()) {
        for (const GemmDtype dtype : gemm_backend_dtypes(backend)) {
            for (const std::uint64_t n : gemm_square_sizes()) {
                for (const GemmLayout layout : {GemmLayout::nn, GemmLayout::nt}) {
                    if (layout == GemmLayout::nt && n > 4096) {
                        continue;
                    }
                    const bool quick =
                        dtype == GemmDtype::f32 && n == 1024 && layout == GemmLayout::nn;
                    Entry e{"gemm.square",
                            GemmProblem{n, n, n, dtype, layout},
                            {},
                            quick ? std::vector<std::string>{"quick", "full"}
                                  : std::vector<std::string>{"full"}};
                    defs.push_back(make_def(host, cap, availability, backend, e, all_cores));
                    if (layout == GemmLayout::nn && (n == 1024 || n == 4096)) {
                        e.suites = {"full"};
                        defs.push_back(make_def(host, cap, availability, backend, e, one_core));
                        if (have_numa0) {
                            defs.push_back(make_def(host, cap, availability, backend, e, numa0));
                        }
                    }
                }
            }
            if (dtype == GemmDtype::f64) {
                continue;  // no LLM runs in fp64
            }
            for (const LlmProjection& proj : llama3_projections()) {
                for (const std::uint64_t tokens : llm_token_counts()) {
                    const Entry e{"gemm.llm",
                                  GemmProblem{tokens, proj.n, proj.k, dtype, GemmLayout::nt},
                                  {{"shape", proj.shape()}, {"tokens", std::to_string(tokens)}},
                                  {"full"}};
                    defs.push_back(make_def(host, cap, availability, backend, e, all_cores));
                }
            }
        }
    }
}

}  // namespace assay
