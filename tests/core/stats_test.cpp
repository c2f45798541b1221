#include "core/stats.hpp"

#include <vector>

#include <catch2/catch.hpp>

using assay::summarize;

TEST_CASE("summarize: empty input gives zero stats", "[stats]") {
    const auto s = summarize({});
    CHECK(s.count == 0);
    CHECK(s.median == 0);
    CHECK(s.rel_iqr() == 0);
}

TEST_CASE("summarize: order statistics match hand-computed values", "[stats]") {
    const std::vector<double> v = {5, 1, 4, 2, 3};
    const auto s = summarize(v);
    CHECK(s.count == 5);
    CHECK(s.min == 1);
    CHECK(s.max == 5);
    CHECK(s.mean == Approx(3));
    CHECK(s.median == Approx(3));
    CHECK(s.q1 == Approx(2));  // type-7 quantile
    CHECK(s.q3 == Approx(4));
    CHECK(s.iqr == Approx(2));
    CHECK(s.stddev == Approx(1.5811388300841898));
    CHECK(s.rel_iqr() == Approx(2.0 / 3.0));
}

TEST_CASE("summarize: even count interpolates the median", "[stats]") {
    const std::vector<double> v = {1, 2, 3, 10};
    const auto s = summarize(v);
    CHECK(s.median == Approx(2.5));
    CHECK(s.q1 == Approx(1.75));
    CHECK(s.q3 == Approx(4.75));
}

TEST_CASE("summarize: a single sample has zero spread", "[stats]") {
    const std::vector<double> v = {0.25};
    const auto s = summarize(v);
    CHECK(s.min == 0.25);
    CHECK(s.max == 0.25);
    CHECK(s.stddev == 0);
    CHECK(s.iqr == 0);
}
