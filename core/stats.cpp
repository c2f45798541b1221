#include "core/stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace assay {

double quantile_sorted(std::span<const double> sorted, double p) {
    if (sorted.empty()) {
        return 0;
    }
    const double pos = std::clamp(p, 0.0, 1.0) * static_cast<double>(sorted.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(pos));
    const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
    const double frac = pos - static_cast<double>(lo);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

SampleStats summarize(std::span<const double> samples) {
    SampleStats s;
    s.count = samples.size();
    if (samples.empty()) {
        return s;
    }
    std::vector<double> sorted(samples.begin(), samples.end());
    std::sort(sorted.begin(), sorted.end());
    s.min = sorted.front();
    s.max = sorted.back();
    // Two-pass mean/variance: samples are small in number, exactness matters more than speed.
    s.mean = std::accumulate(sorted.begin(), sorted.end(), 0.0) / static_cast<double>(s.count);
    if (s.count > 1) {
        double ss = 0;
        for (double x : sorted) {
            ss += (x - s.mean) * (x - s.mean);
        }
        s.stddev = std::sqrt(ss / static_cast<double>(s.count - 1));
    }
    s.median = quantile_sorted(sorted, 0.5);
    s.q1 = quantile_sorted(sorted, 0.25);
    s.q3 = quantile_sorted(sorted, 0.75);
    s.iqr = s.q3 - s.q1;
    return s;
}

}  // namespace assay
