#include "collect/formula.hpp"

#include <catch2/catch.hpp>

#include "core/error.hpp"

TEST_CASE("formula precedence, associativity and parentheses", "[collect][formula]") {
    const std::map<std::string, double> v = {
        {"a", 2}, {"b", 3}, {"perf::TASK-CLOCK", 10}, {"time", 0.5}, {"PAPI_TOT_INS", 8}};
    CHECK(*assay::evaluate_formula("1 + 2 * 3", v) == 7);
    CHECK(*assay::evaluate_formula("(1 + 2) * 3", v) == 9);
    CHECK(*assay::evaluate_formula("8 / 4 / 2", v) == 1);
    CHECK(*assay::evaluate_formula("10 - 4 - 3", v) == 3);
    CHECK(*assay::evaluate_formula("-a * b", v) == -6);
    CHECK(*assay::evaluate_formula("a - b", v) == -1);
    CHECK(*assay::evaluate_formula("perf::TASK-CLOCK / (time * 1e1)", v) == 2);
    CHECK(*assay::evaluate_formula("PAPI_TOT_INS * 64 / time / 1e3", v) == Approx(1.024));
    CHECK(*assay::evaluate_formula(" ( ( a ) ) ", v) == 2);
}

TEST_CASE("formula division by zero is undefined, bad input is an error", "[collect][formula]") {
    const std::map<std::string, double> v = {{"a", 2}, {"zero", 0}};
    CHECK_FALSE(assay::evaluate_formula("a / zero", v).has_value());
    CHECK_FALSE(assay::evaluate_formula("(a / (a - a)) + 1", v).has_value());
    CHECK_THROWS_AS(assay::evaluate_formula("a / missing", v), assay::InputError);
    CHECK_THROWS_WITH(assay::evaluate_formula("a / missing", v),
                      Catch::Contains("unknown identifier 'missing'"));
    CHECK_THROWS_AS(assay::evaluate_formula("(a + 1", v), assay::InputError);
    CHECK_THROWS_AS(assay::evaluate_formula("a +", v), assay::InputError);
    CHECK_THROWS_AS(assay::evaluate_formula("a a", v), assay::InputError);
    CHECK_THROWS_AS(assay::evaluate_formula("", v), assay::InputError);
    CHECK_THROWS_AS(assay::evaluate_formula("a $ 2", v), assay::InputError);
}

TEST_CASE("formula identifiers are listed once, in order", "[collect][formula]") {
    const auto ids =
        assay::formula_identifiers("PAPI_TOT_INS / PAPI_TOT_CYC + PAPI_TOT_INS * time");
    REQUIRE(ids.size() == 3);
    CHECK(ids[0] == "PAPI_TOT_INS");
    CHECK(ids[1] == "PAPI_TOT_CYC");
    CHECK(ids[2] == "time");
}
