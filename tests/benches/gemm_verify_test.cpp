#include "benches/cpu/gemm/gemm_verify.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <vector>

#include "benches/cpu/gemm/gemm_shapes.hpp"

namespace {

using assay::GemmDtype;
using assay::GemmLayout;
using assay::GemmProblem;

/// Operands plus a straightforward correct C for a problem (accumulating like the libraries do:
/// fp32 for f32/bf16/f16, fp64 for f64, int32 for int8).
struct Operands {
    std::vector<std::uint8_t> a, b, c;
};

Operands naive(const GemmProblem& p, std::uint64_t seed) {
    Operands o;
    o.a.resize(p.m * p.k * assay::gemm_input_bytes(p.dtype));
    o.b.resize(p.k * p.n * assay::gemm_input_bytes(p.dtype));
    o.c.resize(p.m * p.n * assay::gemm_output_bytes(p.dtype));
    assay::fill_gemm_inputs(p, o.a.data(), o.b.data(), seed);
    const auto at = [&](const std::vector<std::uint8_t>& v, std::uint64_t i, bool is_a) -> double {
        switch (p.dtype) {
            case GemmDtype::f32:
                return reinterpret_cast<const float*>(v.data())[i];
            case GemmDtype::f64:
                return reinterpret_cast<const double*>(v.data())[i];
            case GemmDtype::bf16:
                return assay::bf16_to_float(reinterpret_cast<const std::uint16_t*>(v.data())[i]);
            case GemmDtype::f16:
                return assay::f16_to_float(reinterpret_cast<const std::uint16_t*>(v.data())[i]);
            case GemmDtype::u8s8s32:
                return is_a ? static_cast<double>(v[i])
                            : static_cast<double>(static_cast<std::int8_t>(v[i]));
            case GemmDtype::s8s8s32:
                return static_cast<double>(static_cast<std::int8_t>(v[i]));
        }
        return 0;
    };
    for (std::uint64_t i = 0; i < p.m; ++i) {
        for (std::uint64_t j = 0; j < p.n; ++j) {
            float acc32 = 0;
            double acc64 = 0;
            std::int32_t acci = 0;
            for (std::uint64_t kk = 0; kk < p.k; ++kk) {
                const double av = at(o.a, i * p.k + kk, true);
                const double bv =
                    at(o.b, p.layout == GemmLayout::nn ? kk * p.n + j : j * p.k + kk, false);
                acc32 += static_cast<float>(av) * static_cast<float>(bv);
                acc64 += av * bv;
                acci += static_cast<std::int32_t>(av * bv);
            }
            const std::uint64_t idx = i * p.n + j;
            if (p.dtype == GemmDtype::f64) {
                reinterpret_cast<double*>(o.c.data())[idx] = acc64;
            } else if (assay::gemm_dtype_is_integer(p.dtype)) {
                reinterpret_cast<std::int32_t*>(o.c.data())[idx] = acci;
            } else {
                reinterpret_cast<float*>(o.c.data())[idx] = acc32;
            }
        }
    }
    return o;
}

/// Adds `delta` to C(i, j) in C's element type.
void bump(const GemmProblem& p, Operands& o, std::uint64_t i, std::uint64_t j, double delta) {
    const std::uint64_t idx = i * p.n + j;
    if (p.dtype == GemmDtype::f64) {
        reinterpret_cast<double*>(o.c.data())[idx] += delta;
    } else if (assay::gemm_dtype_is_integer(p.dtype)) {
        reinterpret_cast<std::int32_t*>(o.c.data())[idx] += static_cast<std::int32_t>(delta);
    } else {
        reinterpret_cast<float*>(o.c.data())[idx] += static_cast<float>(delta);
    }
}

}  // namespace

TEST_CASE("gemm shapes: Llama-3 projection dims", "[gemm]") {
    const auto projections = assay::llama3_projections();
    REQUIRE(projections.size() == 10);
    const auto find = [&](const std::string& shape) {
        for (const auto& p : projections) {
            if (p.shape() == shape) {
                return p;
            }
        }
        FAIL("missing " << shape);
        return assay::LlmProjection{};
    };
    CHECK(find("llama3-8b.q").n == 4096);
    CHECK(find("llama3-8b.q").k == 4096);
    CHECK(find("llama3-8b.kv").n == 1024);
    CHECK(find("llama3-8b.kv").k == 4096);
    CHECK(find("llama3-8b.mlp_gate_up").n == 14336);
    CHECK(find("llama3-8b.mlp_down").n == 4096);
    CHECK(find("llama3-8b.mlp_down").k == 14336);
    CHECK(find("llama3-70b.q").n == 8192);
    CHECK(find("llama3-70b.kv").n == 1024);
    CHECK(find("llama3-70b.kv").k == 8192);
    CHECK(find("llama3-70b.o").k == 8192);
    CHECK(find("llama3-70b.mlp_gate_up").n == 28672);
    CHECK(find("llama3-70b.mlp_down").k == 28672);
    CHECK(assay::llm_token_counts() == std::vector<std::uint64_t>{1, 16, 128, 2048});
}

TEST_CASE("gemm shapes: square sweep and dtype names", "[gemm]") {
    CHECK(assay::gemm_square_sizes() ==
          std::vector<std::uint64_t>{256, 512, 1000, 1024, 2048, 3000, 4096, 8192});
    CHECK(assay::gemm_square_sizes(2048) == std::vector<std::uint64_t>{256, 512, 1000, 1024, 2048});
    for (const auto d : {GemmDtype::f32, GemmDtype::f64, GemmDtype::bf16, GemmDtype::f16,
                         GemmDtype::s8s8s32, GemmDtype::u8s8s32}) {
        CHECK(assay::gemm_dtype_from_name(assay::gemm_dtype_name(d)) == d);
    }
    CHECK_FALSE(assay::gemm_dtype_from_name("fp32").has_value());
    CHECK(assay::gemm_peak_dtype(GemmDtype::u8s8s32) == "int8");
    CHECK(assay::gemm_peak_dtype(GemmDtype::f16).empty());
    const GemmProblem p{2, 3, 4, GemmDtype::bf16, GemmLayout::nn};
    CHECK(p.operations() == 48.0);
    CHECK(p.working_set_bytes() == (8 + 12) * 2 + 6 * 4);
}

TEST_CASE("gemm: bf16 and f16 conversions round to nearest even", "[gemm]") {
    CHECK(assay::float_to_bf16(1.0f) == 0x3F80);
    CHECK(assay::bf16_to_float(0x3F80) == 1.0f);
    CHECK(assay::bf16_to_float(assay::float_to_bf16(1.0f + 0x1p-9f)) == 1.0f);  // tie -> even
    CHECK(assay::bf16_to_float(assay::float_to_bf16(1.0f + 0x1p-8f + 0x1p-9f)) ==
          1.0f + 0x1p-7f);  // tie -> even (up)
    CHECK(assay::float_to_f16(1.0f) == 0x3C00);
    CHECK(assay::f16_to_float(0x3C00) == 1.0f);
    CHECK(assay::f16_to_float(assay::float_to_f16(-1.5f)) == -1.5f);
    CHECK(assay::f16_to_float(assay::float_to_f16(1.0f + 0x1p-11f)) == 1.0f);
    CHECK(assay::f16_to_float(0x0001) == 0x1p-24f);
}

TEST_CASE("gemm: inputs are seeded and never zero", "[gemm]") {
    for (const auto d : {GemmDtype::f32, GemmDtype::bf16, GemmDtype::f16, GemmDtype::s8s8s32,
                         GemmDtype::u8s8s32}) {
        const GemmProblem p{7, 5, 9, d, GemmLayout::nn};
        const Operands x = naive(p, 1), y = naive(p, 1), z = naive(p, 2);
        CHECK(x.a == y.a);
        CHECK(x.a != z.a);
        const std::size_t w = assay::gemm_input_bytes(d);
        for (std::size_t i = 0; i < x.b.size(); i += w) {
            bool zero = true;
            for (std::size_t byte = 0; byte < w; ++byte) {
                zero = zero && x.b[i + byte] == 0;
            }
            REQUIRE_FALSE(zero);
        }
    }
}

TEST_CASE("gemm: verify accepts correct outputs and rejects corrupted ones", "[gemm]") {
    const auto dtype = GENERATE(GemmDtype::f32, GemmDtype::f64, GemmDtype::bf16, GemmDtype::f16,
                                GemmDtype::s8s8s32, GemmDtype::u8s8s32);
    const auto layout = GENERATE(GemmLayout::nn, GemmLayout::nt);
    const GemmProblem p{33, 29, 41, dtype, layout};
    const std::uint64_t seed = 7;
    CAPTURE(assay::gemm_dtype_name(dtype), assay::gemm_layout_name(layout));
    Operands o = naive(p, seed);
    const auto good = assay::verify_gemm(p, o.a.data(), o.b.data(), o.c.data(), seed);
    INFO(good.detail);
    REQUIRE(good.ok);

    const auto samples = assay::gemm_verify_samples(p, seed);
    REQUIRE(samples.rows.size() == 2);
    REQUIRE(samples.cols.size() == 2);
    REQUIRE(samples.entries.size() == 4);

    SECTION("an entry of a sampled row is off by one") {
        bump(p, o, samples.rows[1], 3, 1.0);
    }
    SECTION("an entry of a sampled column is off by one") {
        bump(p, o, 5, samples.cols[0], 1.0);
    }
    SECTION("the bottom-right corner dropped one product term") {
        // Smallest realistic miscompute: one of K terms missing (|a*b| >= 0.25 for floats).
        const double term = assay::gemm_dtype_is_integer(dtype) ? 1.0 : 0.25;
        bump(p, o, p.m - 1, p.n - 1, -term);
    }
    const auto bad = assay::verify_gemm(p, o.a.data(), o.b.data(), o.c.data(), seed);
    INFO(bad.detail);
    CHECK_FALSE(bad.ok);
    CHECK(bad.detail.find("FAILED") != std::string::npos);
}

TEST_CASE("gemm: verify rejects NaN", "[gemm]") {
    const GemmProblem p{4, 4, 4, GemmDtype::f32, GemmLayout::nn};
    Operands o = naive(p, 3);
    reinterpret_cast<float*>(o.c.data())[0] = std::nanf("");
    CHECK_FALSE(assay::verify_gemm(p, o.a.data(), o.b.data(), o.c.data(), 3).ok);
}
