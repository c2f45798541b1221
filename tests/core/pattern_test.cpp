#include "core/pattern.hpp"

#include <chrono>
#include <functional>
#include <string>

#include <catch2/catch.hpp>

#include "core/error.hpp"

using assay::Pattern;

namespace {

double seconds_of(const std::function<void()>& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE("Pattern: search finds a match anywhere, full_match needs the whole text", "[pattern]") {
    const Pattern p = Pattern::compile("triad", "--filter");
    CHECK(p.search("stream.triad/dtype=f64"));
    CHECK_FALSE(p.full_match("stream.triad"));
    CHECK(Pattern::compile("stream\\.triad", "x").full_match("stream.triad"));
    CHECK_FALSE(Pattern::compile("stream\\.triad", "x").full_match("streamXtriad"));
    CHECK(Pattern::compile("^stream\\.", "x").search("stream.copy"));
    CHECK_FALSE(Pattern::compile("^stream\\.", "x").search("mem.stream.copy"));
    CHECK(Pattern::compile("a|b", "x").search("xbx"));
    CHECK(Pattern::compile("\\d+", "x").search("n=4096"));
    CHECK(p.text() == "triad");
}

TEST_CASE("Pattern: a bad pattern is a usage error naming the option", "[pattern]") {
    CHECK_THROWS_AS(Pattern::compile("(unclosed", "--filter"), assay::UsageError);
    CHECK_THROWS_WITH(Pattern::compile("(unclosed", "--filter"),
                      Catch::StartsWith("--filter '(unclosed' is not a valid regex: "));
    CHECK(Pattern::compile_error("(unclosed") != "");
    CHECK(Pattern::compile_error("ok.*") == "");
}

TEST_CASE("Pattern: hostile patterns and huge names match in linear time", "[pattern]") {
    const std::string huge = "gbench.BM_" + std::string(50000, 'a') + "/arg0=1";
    const double t1 = seconds_of([&] {
        CHECK(Pattern::compile(".*", "--filter").search(huge));
        CHECK(Pattern::compile("^gbench\\..*", "spec").full_match(huge));
        CHECK_FALSE(Pattern::compile("^gbench\\.BM_(a+)+$", "spec").search(huge));
    });
    CHECK(t1 < 0.5);
    // Catastrophic backtracking for std::regex (9 s on 28 characters).
    const std::string name = "gbench.BM_" + std::string(17, 'a') + "!";
    const double t2 = seconds_of([&] {
        CHECK_FALSE(Pattern::compile("^gbench\\.BM_(a+)+$", "spec").search(name));
        CHECK_FALSE(Pattern::compile("(a|aa)*$x", "x").search(std::string(100000, 'a')));
    });
    CHECK(t2 < 0.5);
}
