// Price table parsing and matching, per-$/per-W units, LLM projections from ceilings.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "reports/compare/price.hpp"
#include "reports/compare/projection.hpp"

using namespace assay;

TEST_CASE("price table parses and matches", "[compare][price]") {
    const std::string toml = R"(
[[price]]
match = "hostname:box"
usd_per_hour = 1.5
date = "2026-11-01"
source = "note"

[[price]]
match = "instance_type:p5.48xlarge"
usd_per_hour = 98.32
date = "2026-11-01"
source = "list"

[[price]]
match = "fingerprint:abcd"
usd_per_hour = 2
)";
    const auto prices = parse_price_table(toml, "t.toml");
    REQUIRE(prices.size() == 3);
    CHECK(prices[1].usd_per_hour == Approx(98.32));
    CHECK(prices[1].date == "2026-11-01");
    // Instance type wins over hostname.
    const PriceEntry* p = find_price(prices, "box", "p5.48xlarge", "ffff");
    REQUIRE(p != nullptr);
    CHECK(p->match == "instance_type:p5.48xlarge");
    p = find_price(prices, "box", "other", "ffff");
    REQUIRE(p != nullptr);
    CHECK(p->usd_per_hour == 1.5);
    p = find_price(prices, "x", "", "abcdef0123");
    REQUIRE(p != nullptr);
    CHECK(p->usd_per_hour == 2.0);
    CHECK(find_price(prices, "x", "", "ffff") == nullptr);
}

TEST_CASE("price table errors name the input", "[compare][price]") {
    CHECK_THROWS_AS(parse_price_table("[[price]\n", "bad.toml"), InputError);
    CHECK_THROWS_WITH(parse_price_table("x = 1\n", "empty.toml"),
                      Catch::Contains("empty.toml") && Catch::Contains("[[price]]"));
    CHECK_THROWS_WITH(parse_price_table("[[price]]\nmatch = \"sku:x\"\nusd_per_hour = 1\n", "k"),
                      Catch::Contains("sku:x"));
    CHECK_THROWS_WITH(
        parse_price_table("[[price]]\nmatch = \"hostname:x\"\nusd_per_hour = -1\n", "neg.toml"),
        Catch::Contains("usd_per_hour"));
    CHECK_THROWS_AS(load_price_table("/nonexistent/prices.toml"), InputError);
}

TEST_CASE("price table refuses denormal, infinite and absurd prices with the line",
          "[compare][price]") {
    for (const std::string value :
         {"1e-320", "-5", "0", "inf", "-inf", "nan", "1e300", "\"cheap\"", "true"}) {
        CAPTURE(value);
        CHECK_THROWS_WITH(parse_price_table("# prices\n[[price]]\nmatch = \"hostname:x\"\n"
                                            "usd_per_hour = " +
                                                value + "\n",
                                            "p.toml"),
                          Catch::Contains("price table p.toml line 4: "));
    }
    CHECK_THROWS_WITH(parse_price_table("[[price]]\nmatch = \"hostname:x\"\n", "p.toml"),
                      Catch::Contains("has no usd_per_hour"));
    CHECK(parse_price_table("[[price]]\nmatch = \"hostname:x\"\nusd_per_hour = 3\n", "p.toml")
              .front()
              .usd_per_hour == 3.0);
}

TEST_CASE("example price table is valid", "[compare][price]") {
    const auto prices =
        load_price_table(ASSAY_COMPARE_GOLDEN_DIR "/../../../examples/prices.example.toml");
    CHECK(prices.size() >= 2);
    for (const PriceEntry& e : prices) {
        CHECK(e.source.find("EXAMPLE") != std::string::npos);
        CHECK_FALSE(e.date.empty());
    }
}

TEST_CASE("per-dollar and per-watt units", "[compare][price]") {
    const auto d = per_dollar(1000, "GFLOP/s", 3.6);
    REQUIRE(d);
    CHECK(d->value == Approx(1e6));
    CHECK(d->unit == "GFLOP/$");
    const auto w = per_watt(500, "GB/s", 250);
    REQUIRE(w);
    CHECK(w->value == Approx(2.0));
    CHECK(w->unit == "GB/J");
    CHECK_FALSE(per_dollar(5, "ns", 1.0));
    CHECK_FALSE(per_watt(5, "GFLOP/s", 0));
}

TEST_CASE("LLM projections from ceilings", "[compare][projection]") {
    const std::vector<CompareCeiling> ceilings = {
        {"cuda:0", "gemm.bf16", 800000, "GFLOP/s", ""},
        {"cuda:0", "mem.bandwidth.dram.triad.device", 3000, "GB/s", ""},
        {"cuda:0", "mem.bandwidth.dram.copy.device", 2800, "GB/s", ""},
        {"cpu", "gemm.s8s8s32", 99999, "GOP/s", ""},
    };
    const auto ps = project_llm(0, "cuda:0", ceilings, 80ULL << 30);
    REQUIRE(ps.size() == 4);  // 8B and 70B, bf16 and int8
    const Projection& p = ps[0];
    CHECK(p.model == "Llama-3-8B");
    CHECK(p.weights == "bf16");
    REQUIRE(p.prefill_tokens_per_s);
    CHECK(*p.prefill_tokens_per_s == Approx(800000e9 / (2 * 8.03e9)));
    const double kv = 2.0 * 32 * 8 * 128 * 2 * 4096;
    CHECK(p.kv_bytes_per_token_read == Approx(kv));
    REQUIRE(p.decode_tokens_per_s);
    CHECK(*p.decode_tokens_per_s == Approx(3000e9 / (2 * 8.03e9 + kv)));  // the larger DRAM ceiling
    CHECK(p.decode_ceiling == "mem.bandwidth.dram.triad.device = 3000 GB/s");
    CHECK(p.prefill_formula.find("2 x") != std::string::npos);
    CHECK(p.note.empty());
    // int8 on the GPU: no int8 ceiling on that device (the CPU's does not count).
    const Projection& i8 = ps[1];
    CHECK(i8.weights == "int8");
    CHECK_FALSE(i8.prefill_tokens_per_s);
    CHECK(i8.prefill_skip.find("int8") != std::string::npos);
    REQUIRE(i8.decode_tokens_per_s);
    CHECK(*i8.decode_tokens_per_s > *p.decode_tokens_per_s);  // half the weight bytes
    // 70B bf16 does not fit in 80 GiB.
    CHECK_FALSE(ps[2].note.empty());
    // No ceilings at all: every number is skipped with a reason.
    for (const Projection& q : project_llm(1, "cpu", {}, 0)) {
        CHECK_FALSE(q.prefill_tokens_per_s);
        CHECK_FALSE(q.decode_tokens_per_s);
        CHECK_FALSE(q.decode_skip.empty());
    }
}
