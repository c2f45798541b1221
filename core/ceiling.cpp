#include "core/ceiling.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <utility>

namespace assay {
namespace {

std::string param_or(const Result& r, const std::string& key, const std::string& fallback) {
    const auto it = r.bench_case.params.find(key);
    return it == r.bench_case.params.end() ? fallback : it->second;
}

/// The "X" of a context metric "level.X", or "" when the result has none.
std::string level_of(const Result& r) {
    for (const Metric& m : r.metrics) {
        if (m.name.rfind("level.", 0) == 0 && m.value != 0) {
            return m.name.substr(6);
        }
    }
    return {};
}

std::optional<double> metric_value(const Result& r, const std::string& name) {
    const Metric* m = r.find_metric(name);
    if (m == nullptr || !std::isfinite(m->value)) {
        return std::nullopt;
    }
    return m->value;
}

bool starts_with(const std::string& s, const std::string& prefix) {
    return s.rfind(prefix, 0) == 0;
}

/// How a group of candidate points becomes one ceiling.
enum class Rule {
    max,     ///< the best point (bandwidth and GEMM plateaus: capability)
    median,  ///< the median point (latency plateaus, robust to transition points)
    /// The largest working set: DRAM ceilings, because the first points past the probed LLC can
    /// still be partly cache-resident (a VM's vCPUs may span more L3 than the probe reports,
    /// victim caches, prefetch), so a max or median over the level would overstate DRAM.
    largest,
};

struct Point {
    double value = 0;
    std::int64_t index = -1;  ///< into the results
    std::uint64_t bytes = 0;  ///< working set (Rule::largest)
};

/// Candidates of one (device, ceiling name).
struct Group {
    Rule rule = Rule::max;
    std::string unit;
    Direction direction = Direction::none;
    std::string what;  ///< e.g. "mem.sweep points labelled L2"
    std::vector<Point> points;
};

/// Groups in first-seen order of their names.
class Groups {
  public:
    void add(const std::string& device, const std::string& name, Rule rule, const std::string& unit,
             Direction direction, const std::string& what, Point p) {
        const auto key = std::make_pair(device, name);
        auto it = groups_.find(key);
        if (it == groups_.end()) {
            order_.push_back(key);
            it = groups_.emplace(key, Group{rule, unit, direction, what, {}}).first;
        }
        it->second.points.push_back(p);
    }
    const std::vector<std::pair<std::string, std::string>>& order() const { return order_; }
    const Group& get(const std::pair<std::string, std::string>& key) const {
        return groups_.at(key);
    }

  private:
    std::map<std::pair<std::string, std::string>, Group> groups_;
    std::vector<std::pair<std::string, std::string>> order_;
};

Ceiling make_ceiling(const std::string& device, const std::string& name, const Group& g) {
    std::vector<Point> v = g.points;
    const std::size_t n = v.size();
    Ceiling c{device, name, 0, g.unit, g.direction, {}, -1};
    switch (g.rule) {
        case Rule::max: {
            const auto best =
                std::max_element(v.begin(), v.end(),
                                 [](const Point& a, const Point& b) { return a.value < b.value; });
            c.value = best->value;
            c.source_index = best->index;
            c.basis = n == 1 ? fmt::format("best of 1 {}", g.what)
                             : fmt::format("max of {} {} (best per point)", n, g.what);
            break;
        }
        case Rule::median: {
            std::sort(v.begin(), v.end(), [](const Point& a, const Point& b) {
                return a.value != b.value ? a.value < b.value : a.index < b.index;
            });
            c.value = n % 2 == 1 ? v[n / 2].value : (v[n / 2 - 1].value + v[n / 2].value) / 2;
            c.source_index = v[n / 2].index;
            c.basis = fmt::format("median of {} {} (median per point)", n, g.what);
            break;
        }
        case Rule::largest: {
            // The first point of the largest size wins a tie, as points arrive in run order.
            const auto largest =
                std::max_element(v.begin(), v.end(),
                                 [](const Point& a, const Point& b) { return a.bytes < b.bytes; });
            c.value = largest->value;
            c.source_index = largest->index;
            c.basis = fmt::format("largest {} ({} bytes)", g.what, largest->bytes);
            break;
        }
    }
    return c;
}

std::uint64_t bytes_param(const Result& r) {
    const std::string s = param_or(r, "bytes", "");
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) {
        return 0;
    }
    return std::stoull(s);
}

}  // namespace

std::vector<Ceiling> derive_ceilings(const std::vector<Result>& results) {
    Groups groups;

    for (std::size_t i = 0; i < results.size(); ++i) {
        const Result& r = results[i];
        if (r.status != ResultStatus::ok || !r.verified) {
            continue;
        }
        const auto index = static_cast<std::int64_t>(i);
        const std::string& bench = r.bench_case.benchmark;
        if (bench == "mem.sweep") {
            const std::string level = level_of(r);
            const auto bw = metric_value(r, "bandwidth_stream_gb_per_s.best");
            if (level.empty() || !bw) {
                continue;
            }
            std::string kernel = param_or(r, "kernel", "?");
            kernel = kernel == "sum" ? "read" : kernel;
            const std::string placement = param_or(r, "placement", "?");
            const std::string name =
                fmt::format("mem.bandwidth.{}.{}.{}", kernel, level, placement);
            const bool dram = level == "DRAM";
            groups.add(r.device, name, dram ? Rule::largest : Rule::max, "GB/s",
                       Direction::higher_is_better,
                       dram ? "mem.sweep point labelled DRAM"
                            : fmt::format("mem.sweep points labelled {}", level),
                       {*bw, index, bytes_param(r)});
        } else if (starts_with(bench, "stream.") && param_or(r, "size", "") == "dram") {
            const auto bw = metric_value(r, "bandwidth_stream_gb_per_s.best");
            if (!bw) {
                continue;
            }
            const std::string op = bench.substr(7);
            const auto stores = r.bench_case.params.find("stores");
            const std::string name =
                stores == r.bench_case.params.end()
                    ? fmt::format("mem.bandwidth.dram.{}.{}", op, param_or(r, "placement", "?"))
                    : fmt::format("mem.bandwidth.dram.{}.{}.{}", op, stores->second,
                                  param_or(r, "placement", "?"));
            groups.add(r.device, name, Rule::max, "GB/s", Direction::higher_is_better,
                       "DRAM-sized STREAM result", {*bw, index, 0});
        } else if (bench == "gpu.mem" && param_or(r, "size", "") == "dram") {
            // Device memory (HBM/GDDR) kernels: the GPU's DRAM bandwidth per op.
            const auto bw = metric_value(r, "bandwidth_stream_gb_per_s.best");
            if (!bw) {
                continue;
            }
            groups.add(r.device,
                       fmt::format("mem.bandwidth.dram.{}.device", param_or(r, "op", "?")),
                       Rule::max, "GB/s", Direction::higher_is_better, "gpu.mem DRAM-sized result",
                       {*bw, index, 0});
        } else if (bench == "mem.latency") {
            const std::string level = level_of(r);
            const auto ns = metric_value(r, "latency_ns.median");
            if (level.empty() || !ns) {
                continue;
            }
            const std::string name =
                fmt::format("mem.latency.{}.{}", level, param_or(r, "pages", "default"));
            const bool dram = level == "DRAM";
            groups.add(r.device, name, dram ? Rule::largest : Rule::median, "ns",
                       Direction::lower_is_better,
                       dram ? "mem.latency point labelled DRAM"
                            : fmt::format("mem.latency points labelled {}", level),
                       {*ns, index, bytes_param(r)});
        } else if (starts_with(bench, "gemm")) {
            const std::string dtype = param_or(r, "dtype", "");
            auto rate = metric_value(r, "gflop_per_s.best");
            std::string unit = "GFLOP/s";
            if (!rate) {
                rate = metric_value(r, "gop_per_s.best");
                unit = "GOP/s";
            }
            if (dtype.empty() || !rate) {
                continue;
            }
            groups.add(r.device, fmt::format("gemm.{}.{}", dtype, r.backend), Rule::max, unit,
                       Direction::higher_is_better, fmt::format("{} GEMM shapes", r.backend),
                       {*rate, index, 0});
            groups.add(r.device, fmt::format("gemm.{}", dtype), Rule::max, unit,
                       Direction::higher_is_better, "GEMM shapes, all backends", {*rate, index, 0});
        }
    }

    // Bandwidth and GEMM ceilings first, then latency plateaus, then the DRAM points.
    std::vector<Ceiling> out;
    for (const Rule rule : {Rule::max, Rule::median, Rule::largest}) {
        for (const auto& key : groups.order()) {
            const Group& g = groups.get(key);
            if (g.rule != rule) {
                continue;
            }
            Ceiling c = make_ceiling(key.first, key.second, g);
            const bool all_backends = starts_with(key.second, "gemm.") &&
                                      std::count(key.second.begin(), key.second.end(), '.') == 1;
            if (all_backends) {
                const Result& winner = results[static_cast<std::size_t>(c.source_index)];
                c.basis += fmt::format("; best backend: {}", winner.backend);
            }
            out.push_back(std::move(c));
        }
    }
    return out;
}

}  // namespace assay

namespace assay {

namespace {

const Ceiling* find_ceiling(const std::vector<Ceiling>& ceilings, const std::string& device,
                            const std::string& name) {
    for (const Ceiling& c : ceilings) {
        if (c.device == device && c.name == name && std::isfinite(c.value) && c.value > 0) {
            return &c;
        }
    }
    return nullptr;
}

}  // namespace

const Ceiling* bounding_ceiling(const Result& result, const std::vector<Ceiling>& ceilings) {
    const std::string& bench = result.bench_case.benchmark;
    if (bench == "attention.prefill") {
        const std::string dtype = param_or(result, "dtype", "");
        return dtype.empty() ? nullptr
                             : find_ceiling(ceilings, result.device, fmt::format("gemm.{}", dtype));
    }
    if (bench == "attention.decode") {
        // Attention cases carry no placement param (so CPU and GPU rows line up): a GPU result
        // is judged against its device memory, a CPU one against the DRAM bandwidth of the
        // placement its context metric "placement.<label>" names (all cores when absent).
        const bool gpu = result.device.rfind("cuda", 0) == 0;
        std::string placement = param_or(result, "placement", "");
        for (const Metric& m : result.metrics) {
            if (placement.empty() && m.name.rfind("placement.", 0) == 0 && m.value != 0) {
                placement = m.name.substr(10);
            }
        }
        if (placement.empty()) {
            placement = gpu ? "device" : "all_cores";
        }
        if (placement == "device") {
            return find_ceiling(ceilings, result.device, "mem.bandwidth.dram.read.device");
        }
        const Ceiling* c = find_ceiling(ceilings, result.device,
                                        fmt::format("mem.bandwidth.dram.sum.{}", placement));
        return c != nullptr ? c
                            : find_ceiling(ceilings, result.device,
                                           fmt::format("mem.bandwidth.read.DRAM.{}", placement));
    }
    return nullptr;
}

std::vector<Metric> ceiling_fraction_metrics(const Result& result,
                                             const std::vector<Ceiling>& ceilings) {
    const Ceiling* ceiling = bounding_ceiling(result, ceilings);
    if (ceiling == nullptr) {
        return {};
    }
    // The throughput in the ceiling's own unit: GFLOP/s for GEMM ceilings, GB/s for bandwidth.
    const std::string base = ceiling->unit == "GB/s" ? "bandwidth_stream_gb_per_s" : "gflop_per_s";
    const auto best = metric_value(result, base + ".best");
    const auto median = metric_value(result, base + ".median");
    if (!best || !median) {
        return {};
    }
    return {
        Metric{"percent_of_ceiling.best", 100.0 * *best / ceiling->value, "%",
               Direction::higher_is_better},
        Metric{"percent_of_ceiling.median", 100.0 * *median / ceiling->value, "%",
               Direction::higher_is_better},
        Metric{"ceiling." + ceiling->name, ceiling->value, ceiling->unit, Direction::none},
    };
}

}  // namespace assay
