#pragma once
/// Statistics of the comparison report: percentile-bootstrap confidence intervals for a ratio
/// of medians and for a geometric mean of such ratios, and the verdict rules. Pure functions,
/// deterministic for a given seed (their own splitmix64 generator, so results are identical on
/// every platform and standard library).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "reports/compare/compare_model.hpp"

namespace assay {

struct BootstrapOptions {
    std::size_t resamples = 2000;
    std::uint64_t seed = 20261101;
    double confidence = 0.95;  ///< central percentile interval
    /// Equivalence margin: a CI inside [1 - same_margin, 1 + same_margin] is SAME.
    double same_margin = 0.02;
};

/// One compared pair of timing sample sets (seconds per execution). Its ratio is
/// scale × median(baseline_seconds) / median(other_seconds): with scale 1 that is the speed-up of
/// "other" (> 1 = other is faster). The model passes scale = headline ratio / time ratio so a
/// throughput ratio of hosts whose work per execution differs is still exact.
struct RatioInput {
    std::span<const double> baseline_seconds;
    std::span<const double> other_seconds;
    double scale = 1.0;
};

/// Median (type-7 interpolation, as summarize()) of values in any order; 0 when empty.
double compare_median(std::span<const double> values);

/// Geometric mean of positive values; 0 when empty or any value is not positive and finite.
double compare_geometric_mean(std::span<const double> values);

/// The verdict rules, checked in order: SAME when [ci_low, ci_high] lies inside
/// [1 - margin, 1 + margin]; FASTER when ci_low > 1; SLOWER when ci_high < 1; else UNDECIDED
/// (the interval straddles 1 and reaches beyond the margin).
CompareVerdict compare_verdict_of(double ci_low, double ci_high, double same_margin);

/// Ratio of medians with a percentile bootstrap CI: each resample draws both sample sets with
/// replacement (sizes kept) and takes scale × median(b*) / median(o*). UNDECIDED with
/// ratio = CI = 0 when either set is empty.
RatioCi bootstrap_ratio(const RatioInput& input, const BootstrapOptions& options);

/// Geometric mean of the inputs' ratios with a CI from resampling every input's samples
/// together (one geometric mean per resample). UNDECIDED with zeros when `inputs` is empty.
RatioCi bootstrap_geomean(const std::vector<RatioInput>& inputs, const BootstrapOptions& options);

}  // namespace assay
