#include "core/case.hpp"

#include <catch2/catch.hpp>

#include "core/error.hpp"

using assay::Case;

TEST_CASE("Case: canonical params are sorted by key whatever the insertion order", "[case]") {
    Case a{"stream.triad", {{"placement", "all_cores"}, {"dtype", "f64"}}};
    Case b{"stream.triad", {}};
    b.params["dtype"] = "f64";
    b.params["placement"] = "all_cores";
    CHECK(a.canonical_params() == "dtype=f64,placement=all_cores");
    CHECK(a.id() == b.id());
    CHECK(a.id() == "stream.triad/dtype=f64,placement=all_cores");
    CHECK(a.family() == "stream");
}

TEST_CASE("Case: parse_params round-trips and rejects malformed text", "[case]") {
    Case a{"gemm.sgemm", {{"m", "4096"}, {"n", "4096"}, {"layout", "nn"}}};
    CHECK(Case::parse_params(a.canonical_params()) == a.params);
    CHECK(Case::parse_params("").empty());
    CHECK_THROWS_AS(Case::parse_params("m=1,oops"), assay::InputError);
    CHECK_THROWS_AS(Case::parse_params("=1"), assay::InputError);
}

TEST_CASE("Case: no params gives the bare benchmark name", "[case]") {
    Case a{"probe.nothing", {}};
    CHECK(a.id() == "probe.nothing");
}
