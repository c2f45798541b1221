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

/// Candidates grouped by (device, ceiling name), in first-seen order of the names.
struct Group {
    std::string unit;
    Direction direction = Direction::none;
    std::string what;                                     ///< e.g. "mem.sweep points labelled L2"
    std::vector<std::pair<double, std::int64_t>> values;  ///< (value, result index)
};

class Groups {
  public:
    Group& at(const std::string& device, const std::string& name, const std::string& unit,
              Direction direction, const std::string& what) {
        const auto key = std::make_pair(device, name);
        auto it = groups_.find(key);
        if (it == groups_.end()) {
            order_.push_back(key);
            it = groups_.emplace(key, Group{unit, direction, what, {}}).first;
        }
        return it->second;
    }
    const std::vector<std::pair<std::string, std::string>>& order() const { return order_; }
    const Group& get(const std::pair<std::string, std::string>& key) const {
        return groups_.at(key);
    }

  private:
    std::map<std::pair<std::string, std::string>, Group> groups_;
    std::vector<std::pair<std::string, std::string>> order_;
};

Ceiling max_ceiling(const std::string& device, const std::string& name, const Group& g) {
    const auto best = std::max_element(g.values.begin(), g.values.end());
    Ceiling c{device, name, best->first, g.unit, g.direction, {}, best->second};
    c.basis = g.values.size() == 1
                  ? fmt::format("best of 1 {}", g.what)
                  : fmt::format("max of {} {} (best per point)", g.values.size(), g.what);
    return c;
}

Ceiling median_ceiling(const std::string& device, const std::string& name, const Group& g) {
    std::vector<std::pair<double, std::int64_t>> v = g.values;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    const double median = n % 2 == 1 ? v[n / 2].first : (v[n / 2 - 1].first + v[n / 2].first) / 2;
    Ceiling c{device, name, median, g.unit, g.direction, {}, v[n / 2].second};
    c.basis = fmt::format("median of {} {} (median per point)", n, g.what);
    return c;
}

/// DRAM ceilings come from the largest working set labelled DRAM: the first points past the
/// probed LLC can still be partly cache-resident (a VM's vCPUs may span more L3 than the probe
/// reports, victim caches, prefetch), so a max or median over the level would overstate DRAM.
struct LargestPoint {
    std::uint64_t bytes = 0;
    double value = 0;
    std::int64_t index = -1;
    std::string unit;
    Direction direction = Direction::none;
    std::string what;
};

class LargestPoints {
  public:
    void offer(const std::string& device, const std::string& name, std::uint64_t bytes,
               double value, std::int64_t index, const std::string& unit, Direction direction,
               const std::string& what) {
        const auto key = std::make_pair(device, name);
        auto it = points_.find(key);
        if (it == points_.end()) {
            order_.push_back(key);
            points_.emplace(key, LargestPoint{bytes, value, index, unit, direction, what});
        } else if (bytes > it->second.bytes) {
            it->second = LargestPoint{bytes, value, index, unit, direction, what};
        }
    }
    void append_to(std::vector<Ceiling>& out) const {
        for (const auto& key : order_) {
            const LargestPoint& p = points_.at(key);
            out.push_back({key.first, key.second, p.value, p.unit, p.direction,
                           fmt::format("largest {} ({} bytes)", p.what, p.bytes), p.index});
        }
    }

  private:
    std::map<std::pair<std::string, std::string>, LargestPoint> points_;
    std::vector<std::pair<std::string, std::string>> order_;
};

std::uint64_t bytes_param(const Result& r) {
    const std::string s = param_or(r, "bytes", "");
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) {
        return 0;
    }
    return std::stoull(s);
}

}  // namespace

std::vector<Ceiling> derive_ceilings(const std::vector<Result>& results) {
    Groups max_groups;
    Groups median_groups;
    LargestPoints dram_points;

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
            if (level == "DRAM") {
                dram_points.offer(r.device, name, bytes_param(r), *bw, index, "GB/s",
                                  Direction::higher_is_better, "mem.sweep point labelled DRAM");
                continue;
            }
            max_groups
                .at(r.device, name, "GB/s", Direction::higher_is_better,
                    fmt::format("mem.sweep points labelled {}", level))
                .values.emplace_back(*bw, index);
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
            max_groups
                .at(r.device, name, "GB/s", Direction::higher_is_better, "DRAM-sized STREAM result")
                .values.emplace_back(*bw, index);
        } else if (bench == "mem.latency") {
            const std::string level = level_of(r);
            const auto ns = metric_value(r, "latency_ns.median");
            if (level.empty() || !ns) {
                continue;
            }
            const std::string name =
                fmt::format("mem.latency.{}.{}", level, param_or(r, "pages", "default"));
            if (level == "DRAM") {
                dram_points.offer(r.device, name, bytes_param(r), *ns, index, "ns",
                                  Direction::lower_is_better, "mem.latency point labelled DRAM");
                continue;
            }
            median_groups
                .at(r.device, name, "ns", Direction::lower_is_better,
                    fmt::format("mem.latency points labelled {}", level))
                .values.emplace_back(*ns, index);
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
            max_groups
                .at(r.device, fmt::format("gemm.{}.{}", dtype, r.backend), unit,
                    Direction::higher_is_better, fmt::format("{} GEMM shapes", r.backend))
                .values.emplace_back(*rate, index);
            Group& any = max_groups.at(r.device, fmt::format("gemm.{}", dtype), unit,
                                       Direction::higher_is_better, "GEMM shapes, all backends");
            any.values.emplace_back(*rate, index);
        }
    }

    std::vector<Ceiling> out;
    for (const auto& key : max_groups.order()) {
        Ceiling c = max_ceiling(key.first, key.second, max_groups.get(key));
        const bool all_backends = starts_with(key.second, "gemm.") &&
                                  std::count(key.second.begin(), key.second.end(), '.') == 1;
        if (all_backends) {
            const Result& winner = results[static_cast<std::size_t>(c.source_index)];
            c.basis += fmt::format("; best backend: {}", winner.backend);
        }
        out.push_back(std::move(c));
    }
    for (const auto& key : median_groups.order()) {
        out.push_back(median_ceiling(key.first, key.second, median_groups.get(key)));
    }
    dram_points.append_to(out);
    return out;
}

}  // namespace assay
