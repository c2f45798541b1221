#pragma once
/// Statistics for regression tracking on time series of benchmark results (pure functions, no
/// I/O, no randomness: the same series always gives the same answer).
///
/// - Robust z: (x - median) / (1.4826 * MAD) of a baseline window; MAD-based so one bad night
///   in the baseline does not widen the gate.
/// - The nightly gate (gate_newest): the newest point against the last N points of its current
///   segment, plus a minimum relative effect; "suspect" on the first point beyond the gate,
///   "confirmed" when the point before it was beyond the gate too (both judged against the
///   baseline that precedes them, so the first bad night cannot contaminate it).
/// - E-divisive means change points (Matteson & James 2014, alpha = 1) over sliding windows,
///   each candidate kept only if Welch's t-test between the segments it separates is
///   significant -- the speed/robustness trade-off Apache Otava (Hunter) makes instead of the
///   original permutation test.
/// - Benjamini-Hochberg adjusted p-values across the many series of one night.
#include <cstddef>
#include <span>
#include <vector>

#include "core/result.hpp"

namespace assay {

/// Median of `values` (any order); NaN when empty.
double median_of(std::span<const double> values);
/// Raw median absolute deviation from the median (not scaled); NaN when empty.
double mad_of(std::span<const double> values);

/// The robust z of one point against a baseline.
struct RobustZ {
    double median = 0;           ///< baseline median
    double scale = 0;            ///< 1.4826 * MAD, floored (see robust_z)
    double z = 0;                ///< (x - median) / scale
    double relative_change = 0;  ///< (x - median) / |median|; 0 when the median is 0
};

/// Robust z of `x` against `baseline` (non-empty). The scale is floored at 1e-9 * |median| so
/// a constant baseline gives a large but finite z instead of a division by zero; the minimum
/// relative effect of the gate is what keeps such series quiet.
RobustZ robust_z(std::span<const double> baseline, double x);

/// P(T > t) for Student's t with `df` > 0 degrees of freedom.
double student_t_sf(double t, double df);

struct WelchTest {
    double t = 0;   ///< (mean(b) - mean(a)) / standard error
    double df = 0;  ///< Welch-Satterthwaite degrees of freedom
    double p_two_sided = 1;
};
/// Welch's unequal-variance t-test of mean(b) vs mean(a); each needs >= 2 values. Two
/// constant samples with different means give p = 0; equal means give p = 1.
WelchTest welch_t_test(std::span<const double> a, std::span<const double> b);

/// Benjamini-Hochberg adjusted p-values (q-values), same order as `p`: reject H_i at false
/// discovery rate q when adjusted[i] <= q.
std::vector<double> benjamini_hochberg(std::span<const double> p);

struct ChangePointOptions {
    std::size_t window = 50;      ///< points per E-divisive window (windows overlap by half)
    std::size_t min_segment = 3;  ///< no segment shorter: a single-point spike is never one
    /// Welch t-test significance a change point must reach. The test runs on the split that
    /// E-divisive chose as the best of the window, so its p-value is optimistic; hence the
    /// strict default.
    double max_pvalue = 1e-5;
};

struct ChangePoint {
    std::size_t index = 0;  ///< first point of the new segment
    double mean_before = 0;
    double mean_after = 0;
    double relative_change = 0;  ///< (mean_after - mean_before) / |mean_before|
    double pvalue = 1;           ///< Welch t-test between the adjacent segments
};

/// Change points of `x` (oldest first), sorted by index. Each is tested between its adjacent
/// segments (at most `window` points on each side) and the weakest is removed until all pass.
std::vector<ChangePoint> e_divisive_change_points(std::span<const double> x,
                                                  const ChangePointOptions& options = {});

struct GateOptions {
    std::size_t window = 30;      ///< baseline: at most this many points before the newest
    std::size_t min_history = 8;  ///< fewer baseline points: insufficient history
    double z = 3.5;               ///< robust z a point must reach
    double min_effect = 0.02;     ///< and this relative change (0.02 = 2 %)
};

enum class GateState {
    insufficient_history,
    normal,     ///< newest point within the gate
    suspect,    ///< newest point beyond the gate, not yet confirmed by a second point
    confirmed,  ///< the newest two points beyond the gate, same sign
};
const char* to_string(GateState s);

struct GateResult {
    GateState state = GateState::insufficient_history;
    int sign = 0;  ///< +1 the newest point is above the baseline, -1 below, 0 within
    /// Direction-aware: the change is in the bad direction (lower throughput / higher time).
    /// Always false for Direction::none.
    bool bad = false;
    RobustZ newest;                 ///< newest point against the baseline used
    std::size_t baseline_size = 0;  ///< points in that baseline
    std::size_t change_index = 0;   ///< index in the segment of the first point beyond the gate
    /// One-sided p-value of the finding, for Benjamini-Hochberg: Student t at |z| with the
    /// effective degrees of freedom of a MAD scale (0.37 (n - 1)) and z deflated for the
    /// uncertainty of the baseline median; for a confirmed change, of the pooled z.
    double pvalue = 1;
};

/// Gates the last point of `segment` (the current segment of a series, oldest first) as
/// described at the top of this file. `direction` says which way is bad.
GateResult gate_newest(std::span<const double> segment, Direction direction,
                       const GateOptions& options = {});

}  // namespace assay
