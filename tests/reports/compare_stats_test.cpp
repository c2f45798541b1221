// Bootstrap, geometric mean and verdict rules on synthetic data.
#include <cmath>
#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include "reports/compare/compare_stats.hpp"

namespace {

using assay::BootstrapOptions;
using assay::CompareVerdict;
using assay::RatioInput;

/// Deterministic log-normal-ish timing samples around `median_seconds`.
std::vector<double> samples(double median_seconds, double spread, std::size_t n,
                            std::uint64_t seed) {
    std::vector<double> out;
    std::uint64_t s = seed;
    for (std::size_t i = 0; i < n; ++i) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        const double u = static_cast<double>(s >> 11) / 9007199254740992.0;  // [0, 1)
        // Symmetric in log space, so the population median is median_seconds.
        out.push_back(median_seconds * std::exp(spread * (2.0 * u - 1.0)));
    }
    return out;
}

}  // namespace

TEST_CASE("compare_median and compare_geometric_mean", "[compare][stats]") {
    const std::vector<double> odd = {3, 1, 2};
    const std::vector<double> even = {4, 1, 3, 2};
    CHECK(assay::compare_median(odd) == 2.0);
    CHECK(assay::compare_median(even) == 2.5);
    CHECK(assay::compare_median(std::vector<double>{}) == 0.0);
    const std::vector<double> g = {1, 4, 16};
    CHECK(assay::compare_geometric_mean(g) == Approx(4.0));
    const std::vector<double> bad = {1, 0, 4};
    CHECK(assay::compare_geometric_mean(bad) == 0.0);
}

TEST_CASE("verdict rules", "[compare][stats]") {
    CHECK(assay::compare_verdict_of(1.10, 1.20, 0.02) == CompareVerdict::faster);
    CHECK(assay::compare_verdict_of(0.80, 0.90, 0.02) == CompareVerdict::slower);
    CHECK(assay::compare_verdict_of(0.99, 1.01, 0.02) == CompareVerdict::same);
    CHECK(assay::compare_verdict_of(0.90, 1.10, 0.02) == CompareVerdict::undecided);
    // Above 1 but inside the margin: SAME wins (practically equivalent).
    CHECK(assay::compare_verdict_of(1.005, 1.015, 0.02) == CompareVerdict::same);
    CHECK(std::string(assay::to_string(CompareVerdict::undecided)) == "UNDECIDED");
}

TEST_CASE("bootstrap_ratio on clear cases", "[compare][stats]") {
    BootstrapOptions o;
    const auto base = samples(2e-3, 0.05, 40, 1);
    const auto twice_as_fast = samples(1e-3, 0.05, 40, 2);
    const auto r = assay::bootstrap_ratio({base, twice_as_fast, 1.0}, o);
    CHECK(r.ratio == Approx(2.0).epsilon(0.05));
    CHECK(r.ci_low < r.ratio);
    CHECK(r.ci_high > r.ratio);
    CHECK(r.verdict == CompareVerdict::faster);

    const auto slower = assay::bootstrap_ratio({twice_as_fast, base, 1.0}, o);
    CHECK(slower.verdict == CompareVerdict::slower);
    CHECK(slower.ratio == Approx(0.5).epsilon(0.05));

    // Same distribution, tight noise: SAME.
    const auto a = samples(1e-3, 0.004, 60, 3);
    const auto b = samples(1e-3, 0.004, 60, 4);
    CHECK(assay::bootstrap_ratio({a, b, 1.0}, o).verdict == CompareVerdict::same);

    // Same distribution, wide noise and few samples: the CI straddles 1 beyond the margin.
    const auto wa = samples(1e-3, 0.5, 6, 5);
    const auto wb = samples(1e-3, 0.5, 6, 6);
    CHECK(assay::bootstrap_ratio({wa, wb, 1.0}, o).verdict == CompareVerdict::undecided);

    // The scale multiplies point and bounds.
    const auto scaled = assay::bootstrap_ratio({base, twice_as_fast, 3.0}, o);
    CHECK(scaled.ratio == Approx(3.0 * r.ratio));
    CHECK(scaled.ci_low == Approx(3.0 * r.ci_low));

    // Deterministic for a seed.
    const auto again = assay::bootstrap_ratio({base, twice_as_fast, 1.0}, o);
    CHECK(again.ci_low == r.ci_low);
    CHECK(again.ci_high == r.ci_high);

    // Empty input: not computable.
    const auto none = assay::bootstrap_ratio({{}, base, 1.0}, o);
    CHECK(none.ratio == 0.0);
    CHECK(none.verdict == CompareVerdict::undecided);
}

TEST_CASE("bootstrap CI coverage is roughly the nominal 95 %", "[compare][stats]") {
    // True ratio of population medians is exactly 1.25; count how often the CI covers it.
    BootstrapOptions o;
    o.resamples = 400;
    int covered = 0;
    const int trials = 120;
    for (int t = 0; t < trials; ++t) {
        const auto base = samples(1.25e-3, 0.2, 41, 1000 + 2 * static_cast<std::uint64_t>(t));
        const auto other = samples(1.0e-3, 0.2, 41, 1001 + 2 * static_cast<std::uint64_t>(t));
        const auto r = assay::bootstrap_ratio({base, other, 1.0}, o);
        if (r.ci_low <= 1.25 && 1.25 <= r.ci_high) {
            ++covered;
        }
    }
    const double coverage = static_cast<double>(covered) / trials;
    INFO("coverage " << coverage);
    CHECK(coverage >= 0.85);
    CHECK(coverage <= 1.0);
    // Percentile intervals are not wider than needed: some trials must miss at 95 %... or at
    // least the interval must be finite and narrower than the spread of the data.
    const auto base = samples(1.25e-3, 0.2, 41, 7);
    const auto other = samples(1.0e-3, 0.2, 41, 8);
    const auto r = assay::bootstrap_ratio({base, other, 1.0}, o);
    CHECK(r.ci_high / r.ci_low < 1.5);
}

TEST_CASE("bootstrap_geomean", "[compare][stats]") {
    BootstrapOptions o;
    const auto b1 = samples(2e-3, 0.03, 30, 11);
    const auto o1 = samples(1e-3, 0.03, 30, 12);  // 2x
    const auto b2 = samples(1e-3, 0.03, 30, 13);
    const auto o2 = samples(2e-3, 0.03, 30, 14);  // 0.5x
    const auto b3 = samples(4e-3, 0.03, 30, 15);
    const auto o3 = samples(1e-3, 0.03, 30, 16);  // 4x
    const std::vector<RatioInput> in = {{b1, o1, 1.0}, {b2, o2, 1.0}, {b3, o3, 1.0}};
    const auto g = assay::bootstrap_geomean(in, o);
    CHECK(g.ratio == Approx(std::cbrt(2.0 * 0.5 * 4.0)).epsilon(0.05));
    CHECK(g.ci_low < g.ratio);
    CHECK(g.ci_high > g.ratio);
    CHECK(g.verdict == CompareVerdict::faster);
    CHECK(assay::bootstrap_geomean({}, o).ratio == 0.0);
}
