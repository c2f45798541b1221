#include "benches/cpu/stream_triad.hpp"

#include <fmt/format.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <utility>

#include "benches/cpu/simd.hpp"

namespace assay {
namespace {

constexpr std::size_t kLineDoubles = 64 / sizeof(double);
constexpr std::uint64_t kSeedB = 0x5eed'0000'0000'000bULL;
constexpr std::uint64_t kSeedC = 0x5eed'0000'0000'000cULL;
/// FMA contraction (b + 3*c in one rounding vs two) may differ from the reference by one ulp of
/// the result; 4 eps leaves margin for that and nothing more.
constexpr double kRelTolerance = 4 * DBL_EPSILON;

std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/// Deterministic value in [0, 1) for element i of the stream seeded by `seed`.
double unit_hash(std::uint64_t i, std::uint64_t seed) {
    return static_cast<double>(splitmix64(i ^ seed) >> 11) * 0x1.0p-53;
}

}  // namespace

/// The hot loop, out of line so it is multi-versioned and vectorised (-O3, restrict).
ASSAY_KERNEL_CLONES void stream_triad_f64(double* __restrict a, const double* __restrict b,
                                          const double* __restrict c, double scalar,
                                          std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        a[i] = b[i] + scalar * c[i];
    }
}

StreamTriadKernel::StreamTriadKernel(std::vector<unsigned> pu_os_indices,
                                     std::size_t elements_per_array)
    : pus_(std::move(pu_os_indices)), elements_(elements_per_array) {}

StreamTriadKernel::~StreamTriadKernel() = default;

std::pair<std::size_t, std::size_t> StreamTriadKernel::chunk(std::size_t elements, unsigned index,
                                                             unsigned team_size) {
    const std::size_t lines = (elements + kLineDoubles - 1) / kLineDoubles;
    const std::size_t first = lines * index / team_size;
    const std::size_t last = lines * (index + 1) / team_size;
    return {std::min(elements, first * kLineDoubles), std::min(elements, last * kLineDoubles)};
}

void StreamTriadKernel::prepare() {
    team_ = std::make_unique<ThreadTeam>(pus_);
    a_ = detail::AlignedBuffer(elements_);
    b_ = detail::AlignedBuffer(elements_);
    c_ = detail::AlignedBuffer(elements_);
    double* a = a_.data();
    double* b = b_.data();
    double* c = c_.data();
    const std::size_t n = elements_;
    // First touch happens here, on the pinned worker that will stream this chunk in run().
    team_->run([=](unsigned index, unsigned size) {
        const auto [begin, end] = chunk(n, index, size);
        for (std::size_t i = begin; i < end; ++i) {
            a[i] = -1.0;
            b[i] = 1.0 + unit_hash(i, kSeedB);
            c[i] = 0.5 + unit_hash(i, kSeedC);
        }
    });
}

void StreamTriadKernel::run() {
    double* a = a_.data();
    const double* b = b_.data();
    const double* c = c_.data();
    const std::size_t n = elements_;
    team_->run([=](unsigned index, unsigned size) {
        const auto [begin, end] = chunk(n, index, size);
        stream_triad_f64(a + begin, b + begin, c + begin, kScalar, end - begin);
    });
}

Verification StreamTriadKernel::verify() {
    Verification v;
    if (a_.data() == nullptr) {
        v.detail = "not prepared: no output to check";
        return v;
    }
    const double* a = a_.data();
    const double* b = b_.data();
    const double* c = c_.data();
    std::size_t bad = 0;
    std::size_t first_bad = 0;
    double first_expected = 0;
    double first_got = 0;
    double max_rel = 0;
    for (std::size_t i = 0; i < elements_; ++i) {
        const double expected = b[i] + kScalar * c[i];
        const double rel = std::fabs(a[i] - expected) / std::fabs(expected);
        // !(rel <= tol) also catches NaN.
        if (!(rel <= kRelTolerance)) {
            if (bad == 0) {
                first_bad = i;
                first_expected = expected;
                first_got = a[i];
            }
            ++bad;
        } else if (rel > max_rel) {
            max_rel = rel;
        }
    }
    if (bad == 0) {
        v.ok = true;
        v.detail = fmt::format(
            "checked {} of {} elements of a = b + 3*c; max relative error {:.3g} (tolerance "
            "{:.3g})",
            elements_, elements_, max_rel, kRelTolerance);
    } else {
        v.detail = fmt::format(
            "a = b + 3*c wrong at index {}: expected {:.17g}, got {:.17g}; {} of {} elements "
            "outside relative tolerance {:.3g}",
            first_bad, first_expected, first_got, bad, elements_, kRelTolerance);
    }
    return v;
}

WorkModel StreamTriadKernel::work() const {
    const auto n = static_cast<double>(elements_);
    WorkModel w;
    w.bytes_stream = 3 * 8.0 * n;          // read b, read c, write a
    w.bytes_write_allocate = 4 * 8.0 * n;  // + read-for-ownership of a
    w.flops = 2 * n;
    return w;
}

std::span<double> StreamTriadKernel::output_for_test() {
    if (a_.data() == nullptr) {
        return {};
    }
    return {a_.data(), elements_};
}

}  // namespace assay
