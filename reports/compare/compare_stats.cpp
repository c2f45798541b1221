#include "reports/compare/compare_stats.hpp"

#include <algorithm>
#include <cmath>

#include "core/stats.hpp"

namespace assay {
namespace {

/// splitmix64: tiny, fast, and the same sequence everywhere (std distributions are not).
class SplitMix {
  public:
    explicit SplitMix(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next() {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    /// Uniform index below n (n > 0); the modulo bias is below 2^-40 for any sample count here.
    std::size_t index(std::size_t n) { return static_cast<std::size_t>(next() % n); }

  private:
    std::uint64_t state_;
};

double resampled_median(std::span<const double> values, SplitMix& rng, std::vector<double>& buf) {
    buf.resize(values.size());
    for (double& v : buf) {
        v = values[rng.index(values.size())];
    }
    std::sort(buf.begin(), buf.end());
    return quantile_sorted(buf, 0.5);
}

RatioCi from_distribution(double point, std::vector<double>& dist, const BootstrapOptions& o) {
    RatioCi r;
    r.ratio = point;
    std::sort(dist.begin(), dist.end());
    const double alpha = (1.0 - o.confidence) / 2.0;
    r.ci_low = quantile_sorted(dist, alpha);
    r.ci_high = quantile_sorted(dist, 1.0 - alpha);
    r.verdict = compare_verdict_of(r.ci_low, r.ci_high, o.same_margin);
    return r;
}

bool usable(const RatioInput& in) {
    return !in.baseline_seconds.empty() && !in.other_seconds.empty() &&
           compare_median(in.other_seconds) > 0 && compare_median(in.baseline_seconds) > 0;
}

}  // namespace

const char* to_string(CompareVerdict v) {
    switch (v) {
        case CompareVerdict::faster:
            return "FASTER";
        case CompareVerdict::slower:
            return "SLOWER";
        case CompareVerdict::same:
            return "SAME";
        case CompareVerdict::undecided:
            return "UNDECIDED";
    }
    return "UNDECIDED";
}

double compare_median(std::span<const double> values) {
    if (values.empty()) {
        return 0;
    }
    std::vector<double> sorted(values.begin(), values.end());
    std::sort(sorted.begin(), sorted.end());
    return quantile_sorted(sorted, 0.5);
}

double compare_geometric_mean(std::span<const double> values) {
    if (values.empty()) {
        return 0;
    }
    double log_sum = 0;
    for (const double v : values) {
        if (!(v > 0) || !std::isfinite(v)) {
            return 0;
        }
        log_sum += std::log(v);
    }
    return std::exp(log_sum / static_cast<double>(values.size()));
}

CompareVerdict compare_verdict_of(double ci_low, double ci_high, double same_margin) {
    if (ci_low >= 1.0 - same_margin && ci_high <= 1.0 + same_margin) {
        return CompareVerdict::same;
    }
    if (ci_low > 1.0) {
        return CompareVerdict::faster;
    }
    if (ci_high < 1.0) {
        return CompareVerdict::slower;
    }
    return CompareVerdict::undecided;
}

RatioCi bootstrap_ratio(const RatioInput& input, const BootstrapOptions& options) {
    if (!usable(input) || options.resamples == 0) {
        return {};
    }
    const double point =
        input.scale * compare_median(input.baseline_seconds) / compare_median(input.other_seconds);
    SplitMix rng(options.seed);
    std::vector<double> dist;
    dist.reserve(options.resamples);
    std::vector<double> buf;
    for (std::size_t i = 0; i < options.resamples; ++i) {
        const double b = resampled_median(input.baseline_seconds, rng, buf);
        const double o = resampled_median(input.other_seconds, rng, buf);
        dist.push_back(input.scale * b / o);
    }
    return from_distribution(point, dist, options);
}

RatioCi bootstrap_geomean(const std::vector<RatioInput>& inputs, const BootstrapOptions& options) {
    std::vector<const RatioInput*> used;
    for (const RatioInput& in : inputs) {
        if (usable(in)) {
            used.push_back(&in);
        }
    }
    if (used.empty() || options.resamples == 0) {
        return {};
    }
    std::vector<double> ratios;
    for (const RatioInput* in : used) {
        ratios.push_back(in->scale * compare_median(in->baseline_seconds) /
                         compare_median(in->other_seconds));
    }
    const double point = compare_geometric_mean(ratios);
    SplitMix rng(options.seed);
    std::vector<double> dist;
    dist.reserve(options.resamples);
    std::vector<double> buf;
    for (std::size_t i = 0; i < options.resamples; ++i) {
        double log_sum = 0;
        for (const RatioInput* in : used) {
            const double b = resampled_median(in->baseline_seconds, rng, buf);
            const double o = resampled_median(in->other_seconds, rng, buf);
            log_sum += std::log(in->scale * b / o);
        }
        dist.push_back(std::exp(log_sum / static_cast<double>(used.size())));
    }
    return from_distribution(point, dist, options);
}

}  // namespace assay
