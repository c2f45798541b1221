#pragma once
/// Summary statistics of a sample set, computed in exactly one place (summarize()).
#include <cstddef>
#include <span>

namespace assay {

struct SampleStats {
    std::size_t count = 0;
    double min = 0, max = 0, mean = 0, median = 0;
    double stddev = 0;      ///< sample standard deviation (n-1); 0 when count < 2
    double q1 = 0, q3 = 0;  ///< quartiles, linear interpolation (type 7)
    double iqr = 0;         ///< q3 - q1
    /// IQR / median: the noise figure the sampler stops on; 0 when median is 0.
    double rel_iqr() const { return median != 0 ? iqr / median : 0; }
};

/// Quantile p in [0,1] of *sorted* values (linear interpolation between order statistics).
double quantile_sorted(std::span<const double> sorted, double p);

/// Summary of samples (any order). An empty span gives a zero SampleStats.
SampleStats summarize(std::span<const double> samples);

}  // namespace assay
