#include "core/case.hpp"

#include <string>
#include <vector>

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
    CHECK_THROWS_AS(Case::parse_params("oops"), assay::InputError);
    CHECK_THROWS_AS(Case::parse_params("oops,m=1"), assay::InputError);
}

TEST_CASE("Case: any key and value round-trips through the percent encoding", "[case]") {
    const std::vector<std::string> nasty = {"1,2",
                                            "dims:1,2",
                                            ":5",
                                            "a=b",
                                            "50%",
                                            "%2C",
                                            "%",
                                            "%zz",
                                            "f<int, 3>",
                                            "x,y=z,w=",
                                            "",
                                            "\xce\xbb\xe2\x86\x92\xf0\x9f\x9a\x80",
                                            std::string("tab\there\nnl\x7f\x01"),
                                            std::string(1, '\0')};
    for (const auto& v : nasty) {
        for (const auto& k : {std::string("arg0"), v.empty() ? std::string("k") : v}) {
            Case c{"gbench.BM_x", {{k, v}, {"exe", "bench"}}};
            INFO("key '" << k << "' value '" << v << "' -> " << c.canonical_params());
            CHECK(Case::parse_params(c.canonical_params()) == c.params);
            // Encoded text holds no separator or control character of its own.
            const std::string enc = assay::encode_param_text(v);
            CHECK(enc.find_first_of(",=") == std::string::npos);
            CHECK(assay::decode_param_text(enc) == v);
        }
    }
    CHECK(Case{"b", {{"arg0", "1,2"}}}.canonical_params() == "arg0=1%2C2");
    CHECK(Case{"b", {{"k", "a=b%"}}}.canonical_params() == "k=a%3Db%25");
    // Text without anything to encode is unchanged: stored Assay cases keep their ids.
    CHECK(Case{"stream.triad", {{"dtype", "f64"}, {"placement", "all_cores"}}}.id() ==
          "stream.triad/dtype=f64,placement=all_cores");
}

TEST_CASE("Case: params stored before the encoding still read", "[case]") {
    using assay::Params;
    // BM_x/1,2 and BM_x/dims:1,2 were stored with a bare comma.
    CHECK(Case::parse_params("arg0=1,2") == Params{{"arg0", "1,2"}});
    CHECK(Case::parse_params("dims=1,2,exe=bench") == Params{{"dims", "1,2"}, {"exe", "bench"}});
    CHECK(Case::parse_params("arg0=1,") == Params{{"arg0", "1,"}});
    // BM_x/:5 was stored with an empty key; a '%' without two hex digits is literal.
    CHECK(Case::parse_params("=5") == Params{{"", "5"}});
    CHECK(Case::parse_params("p=50%") == Params{{"p", "50%"}});
    CHECK(Case::parse_params("p=%zz") == Params{{"p", "%zz"}});
}

TEST_CASE("Case: no params gives the bare benchmark name", "[case]") {
    Case a{"probe.nothing", {}};
    CHECK(a.id() == "probe.nothing");
}
