#include "benches/cpu/stream_kernels.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "benches/cpu/numa_memory.hpp"
#include "benches/cpu/simd.hpp"
#include "core/error.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

namespace assay {
namespace {

constexpr std::size_t kLineDoubles = 64 / sizeof(double);
constexpr std::uint64_t kSeedB = 0x5eed'0000'0000'000bULL;
constexpr std::uint64_t kSeedC = 0x5eed'0000'0000'000cULL;
/// FMA contraction (b + 3*c in one rounding vs two) may differ from the reference by one ulp of
/// the result; 4 eps leaves margin for that and nothing more.
constexpr double kRelTolerance = 4 * DBL_EPSILON;
/// The parallel sum adds in a different order (32 interleaved accumulators per worker, then the
/// workers' partials) than the compensated reference; for positive inputs its relative rounding
/// error grows like sqrt(n/32) eps, ~1e-13 even at 2^30 elements. 1e-12 keeps margin and still
/// catches one wrong element of a sum of up to ~1e11 values in [1, 2).
constexpr double kSumRelTolerance = 1e-12;
/// Accumulators of the read-only sum: enough independent add chains to hide the FP add latency.
constexpr std::size_t kSumLanes = 32;

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

/// Stops the compiler from merging or hoisting repeated passes (the sum is a pure function, and
/// a repeated copy is idempotent): every pass must really stream its memory.
inline void compiler_barrier() {
    asm volatile("" ::: "memory");
}

bool needs_b(StreamOp op) {
    return op != StreamOp::fill;
}
bool needs_c(StreamOp op) {
    return op == StreamOp::add || op == StreamOp::triad;
}

/// The output value of element i for ops that write, from the inputs (fp64 reference).
double reference(StreamOp op, const double* b, const double* c, std::size_t i) {
    switch (op) {
        case StreamOp::copy:
            return b[i];
        case StreamOp::scale:
            return StreamKernel::kScalar * b[i];
        case StreamOp::add:
            return b[i] + c[i];
        case StreamOp::triad:
            return b[i] + StreamKernel::kScalar * c[i];
        case StreamOp::fill:
            return StreamKernel::kFillValue;
        case StreamOp::sum:
            break;
    }
    return std::numeric_limits<double>::quiet_NaN();
}

std::string formula(StreamOp op) {
    switch (op) {
        case StreamOp::copy:
            return "a = b";
        case StreamOp::scale:
            return "a = 3*b";
        case StreamOp::add:
            return "a = b + c";
        case StreamOp::triad:
            return "a = b + 3*c";
        case StreamOp::fill:
            return fmt::format("a = {}", StreamKernel::kFillValue);
        case StreamOp::sum:
            return "s = sum(b)";
    }
    return "?";
}

}  // namespace

// The regular-store hot loops, out of line so each is multi-versioned and vectorised (-O3,
// restrict). The file is built with -fno-tree-loop-distribute-patterns: otherwise GCC turns copy
// into a memcpy call, and glibc's memcpy switches to non-temporal stores for large sizes.
ASSAY_KERNEL_CLONES void stream_copy_f64(double* __restrict a, const double* __restrict b,
                                         std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        a[i] = b[i];
    }
}

ASSAY_KERNEL_CLONES void stream_scale_f64(double* __restrict a, const double* __restrict b,
                                          double scalar, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        a[i] = scalar * b[i];
    }
}

ASSAY_KERNEL_CLONES void stream_add_f64(double* __restrict a, const double* __restrict b,
                                        const double* __restrict c, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        a[i] = b[i] + c[i];
    }
}

ASSAY_KERNEL_CLONES void stream_triad_f64(double* __restrict a, const double* __restrict b,
                                          const double* __restrict c, double scalar,
                                          std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        a[i] = b[i] + scalar * c[i];
    }
}

ASSAY_KERNEL_CLONES void stream_fill_f64(double* __restrict a, double value, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        a[i] = value;
    }
}

/// Interleaved accumulators: without -ffast-math GCC may not reorder one sum, but it vectorises
/// these independent chains.
ASSAY_KERNEL_CLONES double stream_sum_f64(const double* __restrict b, std::size_t n) {
    double acc[kSumLanes] = {};
    std::size_t i = 0;
    for (; i + kSumLanes <= n; i += kSumLanes) {
        for (std::size_t j = 0; j < kSumLanes; ++j) {
            acc[j] += b[i + j];
        }
    }
    double tail = 0;
    for (; i < n; ++i) {
        tail += b[i];
    }
    for (std::size_t width = kSumLanes / 2; width > 0; width /= 2) {
        for (std::size_t j = 0; j < width; ++j) {
            acc[j] += acc[j + width];
        }
    }
    return acc[0] + tail;
}

namespace {

void regular_pass(StreamOp op, double* a, const double* b, const double* c, std::size_t n) {
    switch (op) {
        case StreamOp::copy:
            stream_copy_f64(a, b, n);
            break;
        case StreamOp::scale:
            stream_scale_f64(a, b, StreamKernel::kScalar, n);
            break;
        case StreamOp::add:
            stream_add_f64(a, b, c, n);
            break;
        case StreamOp::triad:
            stream_triad_f64(a, b, c, StreamKernel::kScalar, n);
            break;
        case StreamOp::fill:
            stream_fill_f64(a, StreamKernel::kFillValue, n);
            break;
        case StreamOp::sum:
            break;  // handled by the caller: it returns a value
    }
}

/// Elements [i, n) with ordinary stores: the tail a vector width does not cover.
void scalar_tail(StreamOp op, double* a, const double* b, const double* c, std::size_t i,
                 std::size_t n) {
    for (; i < n; ++i) {
        a[i] = reference(op, b, c, i);
    }
}

#if defined(__x86_64__)
// Non-temporal variants, one per vector width, picked at run time. `a` is aligned to the vector
// width: chunks start on 64-byte boundaries of 2 MiB-aligned arrays (MOVNTPD requires it).

__attribute__((target("avx512f"))) void nt_pass_avx512(StreamOp op, double* a, const double* b,
                                                       const double* c, std::size_t n) {
    const __m512d s = _mm512_set1_pd(StreamKernel::kScalar);
    const __m512d v = _mm512_set1_pd(StreamKernel::kFillValue);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        switch (op) {
            case StreamOp::copy:
                _mm512_stream_pd(a + i, _mm512_loadu_pd(b + i));
                break;
            case StreamOp::scale:
                _mm512_stream_pd(a + i, _mm512_mul_pd(s, _mm512_loadu_pd(b + i)));
                break;
            case StreamOp::add:
                _mm512_stream_pd(a + i,
                                 _mm512_add_pd(_mm512_loadu_pd(b + i), _mm512_loadu_pd(c + i)));
                break;
            case StreamOp::triad:
                _mm512_stream_pd(a + i, _mm512_add_pd(_mm512_loadu_pd(b + i),
                                                      _mm512_mul_pd(s, _mm512_loadu_pd(c + i))));
                break;
            case StreamOp::fill:
                _mm512_stream_pd(a + i, v);
                break;
            case StreamOp::sum:
                break;
        }
    }
    scalar_tail(op, a, b, c, i, n);
}

__attribute__((target("avx"))) void nt_pass_avx(StreamOp op, double* a, const double* b,
                                                const double* c, std::size_t n) {
    const __m256d s = _mm256_set1_pd(StreamKernel::kScalar);
    const __m256d v = _mm256_set1_pd(StreamKernel::kFillValue);
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        switch (op) {
            case StreamOp::copy:
                _mm256_stream_pd(a + i, _mm256_loadu_pd(b + i));
                break;
            case StreamOp::scale:
                _mm256_stream_pd(a + i, _mm256_mul_pd(s, _mm256_loadu_pd(b + i)));
                break;
            case StreamOp::add:
                _mm256_stream_pd(a + i,
                                 _mm256_add_pd(_mm256_loadu_pd(b + i), _mm256_loadu_pd(c + i)));
                break;
            case StreamOp::triad:
                _mm256_stream_pd(a + i, _mm256_add_pd(_mm256_loadu_pd(b + i),
                                                      _mm256_mul_pd(s, _mm256_loadu_pd(c + i))));
                break;
            case StreamOp::fill:
                _mm256_stream_pd(a + i, v);
                break;
            case StreamOp::sum:
                break;
        }
    }
    scalar_tail(op, a, b, c, i, n);
}

void nt_pass_sse2(StreamOp op, double* a, const double* b, const double* c, std::size_t n) {
    const __m128d s = _mm_set1_pd(StreamKernel::kScalar);
    const __m128d v = _mm_set1_pd(StreamKernel::kFillValue);
    std::size_t i = 0;
    for (; i + 2 <= n; i += 2) {
        switch (op) {
            case StreamOp::copy:
                _mm_stream_pd(a + i, _mm_loadu_pd(b + i));
                break;
            case StreamOp::scale:
                _mm_stream_pd(a + i, _mm_mul_pd(s, _mm_loadu_pd(b + i)));
                break;
            case StreamOp::add:
                _mm_stream_pd(a + i, _mm_add_pd(_mm_loadu_pd(b + i), _mm_loadu_pd(c + i)));
                break;
            case StreamOp::triad:
                _mm_stream_pd(a + i,
                              _mm_add_pd(_mm_loadu_pd(b + i), _mm_mul_pd(s, _mm_loadu_pd(c + i))));
                break;
            case StreamOp::fill:
                _mm_stream_pd(a + i, v);
                break;
            case StreamOp::sum:
                break;
        }
    }
    scalar_tail(op, a, b, c, i, n);
}

using NtPass = void (*)(StreamOp, double*, const double*, const double*, std::size_t);

NtPass pick_nt_pass() {
    // __builtin_cpu_supports also checks that the OS saves the wide registers (XCR0).
    if (__builtin_cpu_supports("avx512f")) {
        return nt_pass_avx512;
    }
    if (__builtin_cpu_supports("avx")) {
        return nt_pass_avx;
    }
    return nt_pass_sse2;
}

void nt_pass(StreamOp op, double* a, const double* b, const double* c, std::size_t n) {
    static const NtPass pass = pick_nt_pass();
    pass(op, a, b, c, n);
}

/// Non-temporal stores are weakly ordered: fence them before the worker reports completion.
void nt_fence() {
    _mm_sfence();
}

#elif defined(__aarch64__)

/// STNP: a store pair with a non-temporal hint (no allocation in the caches where the core
/// honours it), 32 bytes of two q registers per instruction.
inline void stnp_q(double* p, float64x2_t lo, float64x2_t hi) {
    asm volatile("stnp %q0, %q1, [%2]" : : "w"(lo), "w"(hi), "r"(p) : "memory");
}

void nt_pass(StreamOp op, double* a, const double* b, const double* c, std::size_t n) {
    const float64x2_t s = vdupq_n_f64(StreamKernel::kScalar);
    const float64x2_t v = vdupq_n_f64(StreamKernel::kFillValue);
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        switch (op) {
            case StreamOp::copy:
                stnp_q(a + i, vld1q_f64(b + i), vld1q_f64(b + i + 2));
                break;
            case StreamOp::scale:
                stnp_q(a + i, vmulq_f64(s, vld1q_f64(b + i)), vmulq_f64(s, vld1q_f64(b + i + 2)));
                break;
            case StreamOp::add:
                stnp_q(a + i, vaddq_f64(vld1q_f64(b + i), vld1q_f64(c + i)),
                       vaddq_f64(vld1q_f64(b + i + 2), vld1q_f64(c + i + 2)));
                break;
            case StreamOp::triad:
                stnp_q(a + i, vaddq_f64(vld1q_f64(b + i), vmulq_f64(s, vld1q_f64(c + i))),
                       vaddq_f64(vld1q_f64(b + i + 2), vmulq_f64(s, vld1q_f64(c + i + 2))));
                break;
            case StreamOp::fill:
                stnp_q(a + i, v, v);
                break;
            case StreamOp::sum:
                break;
        }
    }
    scalar_tail(op, a, b, c, i, n);
}

/// STNP is ordered like any store for the issuing thread; the team's join synchronises the rest.
void nt_fence() {}

#else

/// No non-temporal store instruction wired up for this architecture: ordinary stores.
void nt_pass(StreamOp op, double* a, const double* b, const double* c, std::size_t n) {
    scalar_tail(op, a, b, c, 0, n);
}
void nt_fence() {}

#endif

}  // namespace

std::string_view stream_op_name(StreamOp op) {
    switch (op) {
        case StreamOp::copy:
            return "copy";
        case StreamOp::scale:
            return "scale";
        case StreamOp::add:
            return "add";
        case StreamOp::triad:
            return "triad";
        case StreamOp::sum:
            return "sum";
        case StreamOp::fill:
            return "fill";
    }
    return "?";
}

std::string_view store_kind_name(StoreKind stores) {
    return stores == StoreKind::nontemporal ? "nt" : "regular";
}

unsigned stream_op_arrays(StreamOp op) {
    return (stream_op_writes(op) ? 1u : 0u) + (needs_b(op) ? 1u : 0u) + (needs_c(op) ? 1u : 0u);
}

bool stream_op_writes(StreamOp op) {
    return op != StreamOp::sum;
}

WorkModel stream_work_model(StreamOp op, StoreKind stores, std::size_t elements, std::size_t reps) {
    const double n = static_cast<double>(elements) * static_cast<double>(reps);
    const double read_arrays = (needs_b(op) ? 1.0 : 0.0) + (needs_c(op) ? 1.0 : 0.0);
    const double written = stream_op_writes(op) ? 1.0 : 0.0;
    // Regular stores read each written line for ownership first; non-temporal stores do not.
    const double rfo = stores == StoreKind::regular ? written : 0.0;
    WorkModel w;
    w.bytes_stream = 8.0 * (read_arrays + written) * n;
    w.bytes_write_allocate = 8.0 * (read_arrays + written + rfo) * n;
    switch (op) {
        case StreamOp::scale:
        case StreamOp::add:
        case StreamOp::sum:
            w.flops = n;
            break;
        case StreamOp::triad:
            w.flops = 2 * n;
            break;
        case StreamOp::copy:
        case StreamOp::fill:
            w.flops = 0;
            break;
    }
    return w;
}

StreamKernel::StreamKernel(StreamOp op, StoreKind stores, std::vector<unsigned> pu_os_indices,
                           std::size_t elements_per_array, std::size_t reps,
                           std::optional<unsigned> memory_node)
    : op_(op),
      stores_(stores),
      pus_(std::move(pu_os_indices)),
      elements_(elements_per_array),
      reps_(reps),
      memory_node_(memory_node) {
    if (op == StreamOp::sum && stores == StoreKind::nontemporal) {
        throw UsageError("stream.sum has no non-temporal variant: it stores nothing");
    }
    if (reps == 0) {
        throw UsageError(fmt::format("stream.{}: reps must be at least 1", stream_op_name(op)));
    }
}

StreamKernel::~StreamKernel() = default;

std::pair<std::size_t, std::size_t> StreamKernel::chunk(std::size_t elements, unsigned index,
                                                        unsigned team_size) {
    const std::size_t lines = (elements + kLineDoubles - 1) / kLineDoubles;
    const std::size_t first = lines * index / team_size;
    const std::size_t last = lines * (index + 1) / team_size;
    return {std::min(elements, first * kLineDoubles), std::min(elements, last * kLineDoubles)};
}

void StreamKernel::prepare() {
    team_ = std::make_unique<ThreadTeam>(pus_);
    a_ = stream_op_writes(op_) ? detail::AlignedBuffer(elements_) : detail::AlignedBuffer();
    b_ = needs_b(op_) ? detail::AlignedBuffer(elements_) : detail::AlignedBuffer();
    c_ = needs_c(op_) ? detail::AlignedBuffer(elements_) : detail::AlignedBuffer();
    if (memory_node_.has_value()) {
        // Bound before the first touch below, so no page has to migrate.
        for (const detail::AlignedBuffer* buffer : {&a_, &b_, &c_}) {
            if (buffer->data() != nullptr) {
                bind_memory_to_numa_node(buffer->data(), buffer->size() * sizeof(double),
                                         *memory_node_);
            }
        }
    }
    partial_sums_.assign(std::size_t{team_->size()} * kLineDoubles, 0.0);
    sum_ = std::numeric_limits<double>::quiet_NaN();  // fails verification until run()
    double* a = a_.data();
    double* b = b_.data();
    double* c = c_.data();
    const std::size_t n = elements_;
    // First touch happens here, on the pinned worker that will stream this chunk in run().
    team_->run([=](unsigned index, unsigned size) {
        const auto [begin, end] = chunk(n, index, size);
        for (std::size_t i = begin; i < end; ++i) {
            if (a != nullptr) {
                a[i] = -1.0;
            }
            if (b != nullptr) {
                b[i] = 1.0 + unit_hash(i, kSeedB);
            }
            if (c != nullptr) {
                c[i] = 0.5 + unit_hash(i, kSeedC);
            }
        }
    });
    prepared_ = true;
}

void StreamKernel::run() {
    if (!prepared_) {
        throw UsageError(fmt::format("stream.{}: run() before prepare()", stream_op_name(op_)));
    }
    double* a = a_.data();
    const double* b = b_.data();
    const double* c = c_.data();
    double* partials = partial_sums_.data();
    const std::size_t n = elements_;
    const std::size_t reps = reps_;
    const StreamOp op = op_;
    const bool nt = stores_ == StoreKind::nontemporal;
    team_->run([=](unsigned index, unsigned size) {
        const auto [begin, end] = chunk(n, index, size);
        const std::size_t count = end - begin;
        if (op == StreamOp::sum) {
            double partial = 0;
            for (std::size_t r = 0; r < reps; ++r) {
                compiler_barrier();
                partial = stream_sum_f64(b + begin, count);
            }
            partials[std::size_t{index} * kLineDoubles] = partial;
            return;
        }
        const double* bb = b == nullptr ? nullptr : b + begin;
        const double* cc = c == nullptr ? nullptr : c + begin;
        for (std::size_t r = 0; r < reps; ++r) {
            compiler_barrier();
            if (nt) {
                nt_pass(op, a + begin, bb, cc, count);
            } else {
                regular_pass(op, a + begin, bb, cc, count);
            }
        }
        if (nt) {
            nt_fence();
        }
    });
    if (op == StreamOp::sum) {
        double total = 0;
        for (unsigned t = 0; t < team_->size(); ++t) {
            total += partials[std::size_t{t} * kLineDoubles];
        }
        sum_ = total;
    }
}

Verification StreamKernel::verify() {
    Verification v = verify_values();
    if (!memory_node_.has_value() || !prepared_) {
        return v;
    }
    // The first and last page of each array: where the OS really put the memory we bound.
    std::string wrong;
    bool unknown = false;
    for (const detail::AlignedBuffer* buffer : {&a_, &b_, &c_}) {
        if (buffer->data() == nullptr || buffer->size() == 0) {
            continue;
        }
        for (const double* page : {buffer->data(), buffer->data() + buffer->size() - 1}) {
            const std::optional<unsigned> node = numa_node_of_page(page);
            if (!node.has_value()) {
                unknown = true;
            } else if (*node != *memory_node_ && wrong.empty()) {
                wrong =
                    fmt::format("a page bound to NUMA node {} is on node {}", *memory_node_, *node);
            }
        }
    }
    if (!wrong.empty()) {
        v.ok = false;
        v.detail = wrong + "; " + v.detail;
    } else if (unknown) {
        v.detail +=
            fmt::format("; placement on NUMA node {} bound but not checkable here", *memory_node_);
    } else {
        v.detail += fmt::format("; first and last pages on NUMA node {}", *memory_node_);
    }
    return v;
}

Verification StreamKernel::verify_values() {
    Verification v;
    if (!prepared_) {
        v.detail = "not prepared: no output to check";
        return v;
    }
    const double* a = a_.data();
    const double* b = b_.data();
    const double* c = c_.data();
    if (op_ == StreamOp::sum) {
        // Kahan-compensated reference: accurate to ~1 ulp whatever n.
        double ref = 0;
        double comp = 0;
        for (std::size_t i = 0; i < elements_; ++i) {
            const double y = b[i] - comp;
            const double t = ref + y;
            comp = (t - ref) - y;
            ref = t;
        }
        const double rel = ref == 0 ? std::fabs(sum_) : std::fabs(sum_ - ref) / std::fabs(ref);
        v.ok = rel <= kSumRelTolerance;  // false for NaN too
        v.detail = fmt::format(
            "{} over {} elements: got {:.17g}, compensated fp64 reference {:.17g}, relative "
            "error {:.3g} ({} tolerance {:.3g})",
            formula(op_), elements_, sum_, ref, rel, v.ok ? "within" : "outside", kSumRelTolerance);
        return v;
    }
    const double tolerance = (op_ == StreamOp::copy || op_ == StreamOp::fill) ? 0.0 : kRelTolerance;
    std::size_t bad = 0;
    std::size_t first_bad = 0;
    double first_expected = 0;
    double first_got = 0;
    double max_rel = 0;
    for (std::size_t i = 0; i < elements_; ++i) {
        const double expected = reference(op_, b, c, i);
        const double rel = std::fabs(a[i] - expected) / std::fabs(expected);
        // !(rel <= tol) also catches NaN.
        if (!(rel <= tolerance)) {
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
            "checked {} of {} elements of {}; max relative error {:.3g} (tolerance {:.3g})",
            elements_, elements_, formula(op_), max_rel, tolerance);
    } else {
        v.detail = fmt::format(
            "{} wrong at index {}: expected {:.17g}, got {:.17g}; {} of {} elements outside "
            "relative tolerance {:.3g}",
            formula(op_), first_bad, first_expected, first_got, bad, elements_, tolerance);
    }
    return v;
}

WorkModel StreamKernel::work() const {
    return stream_work_model(op_, stores_, elements_, reps_);
}

std::span<double> StreamKernel::output_for_test() {
    if (!prepared_) {
        return {};
    }
    if (op_ == StreamOp::sum) {
        return {&sum_, 1};
    }
    return {a_.data(), elements_};
}

}  // namespace assay
