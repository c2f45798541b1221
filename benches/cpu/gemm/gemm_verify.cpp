#include "benches/cpu/gemm/gemm_verify.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace assay {
namespace {

/// splitmix64: tiny, seedable, good enough for benchmark inputs.
class SplitMix64 {
  public:
    explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next() {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    /// Uniform in [0, bound).
    std::uint64_t below(std::uint64_t bound) { return bound == 0 ? 0 : next() % bound; }
    /// +-[0.5, 1.5)
    float signed_unit() {
        const std::uint64_t r = next();
        const float mag = 0.5f + static_cast<float>(r >> 40) * 0x1p-24f;
        return (r & 1) != 0 ? -mag : mag;
    }

  private:
    std::uint64_t state_;
};

enum class Elem { f32, f64, bf16, f16, u8, s8, s32 };

Elem a_elem(GemmDtype d) {
    switch (d) {
        case GemmDtype::f32:
            return Elem::f32;
        case GemmDtype::f64:
            return Elem::f64;
        case GemmDtype::bf16:
            return Elem::bf16;
        case GemmDtype::f16:
            return Elem::f16;
        case GemmDtype::s8s8s32:
            return Elem::s8;
        case GemmDtype::u8s8s32:
            return Elem::u8;
    }
    return Elem::f32;
}

Elem b_elem(GemmDtype d) {
    return gemm_dtype_is_integer(d) ? Elem::s8 : a_elem(d);
}

Elem c_elem(GemmDtype d) {
    if (d == GemmDtype::f64) {
        return Elem::f64;
    }
    return gemm_dtype_is_integer(d) ? Elem::s32 : Elem::f32;
}

double load(Elem e, const void* base, std::uint64_t i) {
    switch (e) {
        case Elem::f32:
            return static_cast<const float*>(base)[i];
        case Elem::f64:
            return static_cast<const double*>(base)[i];
        case Elem::bf16:
            return bf16_to_float(static_cast<const std::uint16_t*>(base)[i]);
        case Elem::f16:
            return f16_to_float(static_cast<const std::uint16_t*>(base)[i]);
        case Elem::u8:
            return static_cast<const std::uint8_t*>(base)[i];
        case Elem::s8:
            return static_cast<const std::int8_t*>(base)[i];
        case Elem::s32:
            return static_cast<const std::int32_t*>(base)[i];
    }
    return 0;
}

/// Writes generator value r (a float in +-[0.5,1.5) or an integer) in element type e.
void fill(Elem e, void* base, std::uint64_t count, SplitMix64& rng, int int_max) {
    for (std::uint64_t i = 0; i < count; ++i) {
        switch (e) {
            case Elem::f32:
                static_cast<float*>(base)[i] = rng.signed_unit();
                break;
            case Elem::f64:
                static_cast<double*>(base)[i] = rng.signed_unit();
                break;
            case Elem::bf16:
                static_cast<std::uint16_t*>(base)[i] = float_to_bf16(rng.signed_unit());
                break;
            case Elem::f16:
                static_cast<std::uint16_t*>(base)[i] = float_to_f16(rng.signed_unit());
                break;
            case Elem::u8:
                static_cast<std::uint8_t*>(base)[i] =
                    static_cast<std::uint8_t>(1 + rng.below(static_cast<std::uint64_t>(int_max)));
                break;
            case Elem::s8: {
                const std::uint64_t r = rng.next();
                const auto mag =
                    static_cast<int>(1 + (r >> 8) % static_cast<std::uint64_t>(int_max));
                static_cast<std::int8_t*>(base)[i] =
                    static_cast<std::int8_t>((r & 1) != 0 ? -mag : mag);
                break;
            }
            case Elem::s32:
                break;
        }
    }
}

struct Check {
    std::uint64_t checked = 0;
    double worst_ratio = 0;  ///< max |err| / tol (float) or max |err| (int)
    double worst_err = 0;
    std::uint64_t worst_row = 0, worst_col = 0;
    bool ok = true;
};

}  // namespace

std::uint16_t float_to_bf16(float value) {
    std::uint32_t bits = 0;
    std::memcpy(&bits, &value, sizeof bits);
    if (std::isnan(value)) {
        return static_cast<std::uint16_t>((bits >> 16) | 0x40);
    }
    const std::uint32_t rounding = 0x7FFF + ((bits >> 16) & 1);
    return static_cast<std::uint16_t>((bits + rounding) >> 16);
}

float bf16_to_float(std::uint16_t bits) {
    const std::uint32_t wide = static_cast<std::uint32_t>(bits) << 16;
    float out = 0;
    std::memcpy(&out, &wide, sizeof out);
    return out;
}

std::uint16_t float_to_f16(float value) {
    // Exact enough for benchmark inputs: normal range with round-to-nearest-even, subnormals
    // flushed to signed zero, overflow to infinity.
    std::uint32_t bits = 0;
    std::memcpy(&bits, &value, sizeof bits);
    const auto sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000);
    const int exp = static_cast<int>((bits >> 23) & 0xFF) - 127 + 15;
    std::uint32_t mant = bits & 0x7FFFFF;
    if (std::isnan(value)) {
        return static_cast<std::uint16_t>(sign | 0x7E00);
    }
    if (exp <= 0) {
        return sign;
    }
    if (exp >= 31) {
        return static_cast<std::uint16_t>(sign | 0x7C00);
    }
    std::uint32_t half = (static_cast<std::uint32_t>(exp) << 10) | (mant >> 13);
    const std::uint32_t rest = mant & 0x1FFF;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1) != 0)) {
        ++half;  // may carry into the exponent, which is the correct rounding
    }
    return static_cast<std::uint16_t>(sign | half);
}

float f16_to_float(std::uint16_t bits) {
    const int exp = (bits >> 10) & 0x1F;
    const int mant = bits & 0x3FF;
    float mag = 0;
    if (exp == 0) {
        mag = std::ldexp(static_cast<float>(mant), -24);
    } else if (exp == 31) {
        mag = mant == 0 ? INFINITY : NAN;
    } else {
        mag = std::ldexp(static_cast<float>(mant | 0x400), exp - 25);
    }
    return (bits & 0x8000) != 0 ? -mag : mag;
}

GemmSamples gemm_verify_samples(const GemmProblem& p, std::uint64_t seed) {
    GemmSamples s;
    SplitMix64 rng(seed ^ 0xC0FFEEULL);
    if (p.m == 0 || p.n == 0) {
        return s;
    }
    for (int i = 0; i < 2; ++i) {
        s.rows.push_back(rng.below(p.m));
        s.cols.push_back(rng.below(p.n));
    }
    s.entries = {{0, 0}, {0, p.n - 1}, {p.m - 1, 0}, {p.m - 1, p.n - 1}};
    return s;
}

void fill_gemm_inputs(const GemmProblem& p, void* a, void* b, std::uint64_t seed) {
    SplitMix64 rng(seed);
    const Elem ea = a_elem(p.dtype);
    fill(ea, a, p.m * p.k, rng, ea == Elem::u8 ? 255 : 127);
    fill(b_elem(p.dtype), b, p.k * p.n, rng, 63);
}

Verification verify_gemm(const GemmProblem& p, const void* a, const void* b, const void* c,
                         std::uint64_t seed) {
    const Elem ea = a_elem(p.dtype);
    const Elem eb = b_elem(p.dtype);
    const Elem ec = c_elem(p.dtype);
    const bool exact = gemm_dtype_is_integer(p.dtype);
    const double u = p.dtype == GemmDtype::f64 ? 0x1p-53 : 0x1p-24;
    const double tol_factor = static_cast<double>(p.k + 2) * u;
    const auto b_index = [&](std::uint64_t kk, std::uint64_t j) {
        return p.layout == GemmLayout::nn ? kk * p.n + j : j * p.k + kk;
    };
    Check check;
    const auto compare = [&](std::uint64_t i, std::uint64_t j, double ref, double abs_sum) {
        const double got = load(ec, c, i * p.n + j);
        const double err = std::fabs(got - ref);
        const double tol = exact ? 0.0 : tol_factor * abs_sum;
        const double ratio = exact ? err : (tol > 0 ? err / tol : err);
        ++check.checked;
        // !(err <= tol) also catches NaN. Report the first bad entry, else the worst one.
        const bool bad = !(err <= tol);
        if (check.ok && (bad || ratio >= check.worst_ratio)) {
            check.worst_ratio = ratio;
            check.worst_err = err;
            check.worst_row = i;
            check.worst_col = j;
        }
        check.ok = check.ok && !bad;
    };

    const GemmSamples samples = gemm_verify_samples(p, seed);
    std::vector<double> ref(p.n), abs_sum(p.n);
    for (const std::uint64_t i : samples.rows) {
        std::fill(ref.begin(), ref.end(), 0.0);
        std::fill(abs_sum.begin(), abs_sum.end(), 0.0);
        for (std::uint64_t kk = 0; kk < p.k; ++kk) {
            const double av = load(ea, a, i * p.k + kk);
            for (std::uint64_t j = 0; j < p.n; ++j) {
                const double bv = load(eb, b, b_index(kk, j));
                ref[j] += av * bv;
                abs_sum[j] += std::fabs(av * bv);
            }
        }
        for (std::uint64_t j = 0; j < p.n; ++j) {
            compare(i, j, ref[j], abs_sum[j]);
        }
    }
    std::vector<double> bcol(p.k);
    const auto dot = [&](std::uint64_t i, std::uint64_t j, bool have_col) {
        if (!have_col) {
            for (std::uint64_t kk = 0; kk < p.k; ++kk) {
                bcol[kk] = load(eb, b, b_index(kk, j));
            }
        }
        double sum = 0, abs_total = 0;
        for (std::uint64_t kk = 0; kk < p.k; ++kk) {
            const double prod = load(ea, a, i * p.k + kk) * bcol[kk];
            sum += prod;
            abs_total += std::fabs(prod);
        }
        compare(i, j, sum, abs_total);
    };
    for (const std::uint64_t j : samples.cols) {
        for (std::uint64_t kk = 0; kk < p.k; ++kk) {
            bcol[kk] = load(eb, b, b_index(kk, j));
        }
        for (std::uint64_t i = 0; i < p.m; ++i) {
            dot(i, j, true);
        }
    }
    for (const auto& [i, j] : samples.entries) {
        dot(i, j, false);
    }

    Verification v;
    v.ok = check.ok && check.checked > 0;
    const std::string rule =
        exact ? std::string("exact (int32)")
              : fmt::format("|err| <= (K+2)*2^{}*sum|a||b|", p.dtype == GemmDtype::f64 ? -53 : -24);
    v.detail = fmt::format(
        "{} {} entries (rows {}, cols {}, 4 corners) vs fp64 reference, {}: {} at ({}, {}) "
        "|err| {:.3g}{}",
        v.ok ? "ok:" : "FAILED:", check.checked, fmt::join(samples.rows, "/"),
        fmt::join(samples.cols, "/"), rule, v.ok ? "worst" : "first bad entry", check.worst_row,
        check.worst_col, check.worst_err,
        exact ? std::string() : fmt::format(" ({:.3g} of tolerance)", check.worst_ratio));
    return v;
}

}  // namespace assay
