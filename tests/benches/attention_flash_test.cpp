#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "benches/cpu/attention/flash_cpu.hpp"
#include "benches/thread_team.hpp"
#include "core/error.hpp"
#include "test_cpus.hpp"

#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace {

using assay::ThreadTeam;
using assay::attention::Dtype;
using assay::attention::FlashAttentionCpu;
using assay::attention::Path;
using assay::attention::Shape;
using assay::attention::Tensors;

/// fp32 kernels against the fp64 reference: fp32 dot products over D ≤ 256, sums over ≤ ~1000
/// keys and a ~1e-7 exp polynomial; observed ≤ 4e-7 on outputs bounded by max|v| = 1. 5e-6
/// leaves 10× margin and still catches a single wrong or missing key (weight ≥ ~1e-4 here).
constexpr double kTolF32 = 5e-6;
/// bf16 prefill rounds P to bf16 before P·V (relative error ≤ 2^-9 per weight) while the
/// normaliser l sums the fp32 weights: the output, a convex combination of |v| ≤ 1, is off by at
/// most 2^-9 from each, 2^-8 together; 2^-7 doubles that for fp32 accumulation.
constexpr double kTolBf16 = 1.0 / 128;

std::uint16_t to_bf16(float f) {
    std::uint32_t bits;
    std::memcpy(&bits, &f, 4);
    bits += 0x7fffU + ((bits >> 16) & 1U);
    return static_cast<std::uint16_t>(bits >> 16);
}
float from_bf16(std::uint16_t b) {
    const std::uint32_t bits = std::uint32_t{b} << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}
/// Values here are in [-2, 2] with 10 fraction bits kept: exactly representable in fp16.
std::uint16_t to_f16_exact(float f) {
    const std::uint16_t sign = f < 0 ? 0x8000 : 0;
    float a = std::fabs(f);
    if (a == 0) {
        return sign;
    }
    int e = 0;
    const float m = std::frexp(a, &e);  // a = m · 2^e, m in [0.5, 1)
    const int exp16 = e - 1 + 15;       // > 0: the inputs' magnitudes are ≥ 2^-9
    const auto man = static_cast<std::uint16_t>(std::lround((m * 2 - 1) * 1024));
    return static_cast<std::uint16_t>(sign | (exp16 << 10) | man);
}

/// A tensor in one dtype plus the exact values it holds (for the reference).
struct Tensor {
    Dtype dtype = Dtype::f32;
    std::vector<float> f32;
    std::vector<std::uint16_t> half;
    std::vector<double> exact;
    const void* data() const {
        return dtype == Dtype::f32 ? static_cast<const void*>(f32.data())
                                   : static_cast<const void*>(half.data());
    }
};

Tensor make_tensor(std::size_t n, Dtype dtype, std::uint64_t seed, float amplitude,
                   bool keep_exact = true) {
    Tensor t;
    t.dtype = dtype;
    if (dtype == Dtype::f32) {
        t.f32.reserve(n);
    } else {
        t.half.reserve(n);
    }
    std::uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
    for (std::size_t i = 0; i < n; ++i) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        const double u = static_cast<double>(x >> 11) * 0x1.0p-53;  // [0, 1)
        // 1024 levels: exact in bf16? no, but rounded below; exact in fp16.
        float f = amplitude * static_cast<float>(std::round((2 * u - 1) * 512) / 512);
        switch (dtype) {
            case Dtype::f32:
                t.f32.push_back(f);
                break;
            case Dtype::bf16:
                t.half.push_back(to_bf16(f));
                f = from_bf16(t.half.back());
                break;
            case Dtype::f16:
                t.half.push_back(to_f16_exact(f));
                break;
        }
        if (keep_exact) {
            t.exact.push_back(f);
        }
    }
    return t;
}

/// Naive softmax(Q·Kᵀ/sqrt(D) + mask)·V in fp64, bottom-right causal mask.
std::vector<double> reference(const Shape& s, const Tensor& q, const Tensor& k, const Tensor& v) {
    const auto d_len = static_cast<std::size_t>(s.head_dim);
    const std::int64_t g = s.heads_q / s.heads_kv;
    std::vector<double> out(static_cast<std::size_t>(s.batch * s.heads_q * s.seq_q) * d_len);
    std::vector<double> w(static_cast<std::size_t>(s.seq_kv));
    const double scale = 1.0 / std::sqrt(static_cast<double>(s.head_dim));
    for (std::int64_t b = 0; b < s.batch; ++b) {
        for (std::int64_t h = 0; h < s.heads_q; ++h) {
            const std::int64_t kvh = h / g;
            for (std::int64_t i = 0; i < s.seq_q; ++i) {
                const std::size_t qo =
                    static_cast<std::size_t>((b * s.heads_q + h) * s.seq_q + i) * d_len;
                const std::int64_t visible = s.causal ? i + (s.seq_kv - s.seq_q) + 1 : s.seq_kv;
                double mx = -1e300;
                for (std::int64_t j = 0; j < visible; ++j) {
                    const std::size_t ko =
                        static_cast<std::size_t>((b * s.heads_kv + kvh) * s.seq_kv + j) * d_len;
                    double dot = 0;
                    for (std::size_t d = 0; d < d_len; ++d) {
                        dot += q.exact[qo + d] * k.exact[ko + d];
                    }
                    w[static_cast<std::size_t>(j)] = dot * scale;
                    mx = std::max(mx, dot * scale);
                }
                double sum = 0;
                for (std::int64_t j = 0; j < visible; ++j) {
                    w[static_cast<std::size_t>(j)] = std::exp(w[static_cast<std::size_t>(j)] - mx);
                    sum += w[static_cast<std::size_t>(j)];
                }
                for (std::int64_t j = 0; j < visible; ++j) {
                    const std::size_t vo =
                        static_cast<std::size_t>((b * s.heads_kv + kvh) * s.seq_kv + j) * d_len;
                    for (std::size_t d = 0; d < d_len; ++d) {
                        out[qo + d] += w[static_cast<std::size_t>(j)] / sum * v.exact[vo + d];
                    }
                }
            }
        }
    }
    return out;
}

double max_abs_error(const std::vector<float>& got, const std::vector<double>& want) {
    REQUIRE(got.size() == want.size());
    double e = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
        const double d = std::fabs(static_cast<double>(got[i]) - want[i]);
        e = std::isnan(d) ? 1e300 : std::max(e, d);
    }
    return e;
}

std::string describe(const Shape& s, Dtype q, Dtype kv, Path p, std::size_t threads) {
    return "B=" + std::to_string(s.batch) + " H=" + std::to_string(s.heads_q) + "/" +
           std::to_string(s.heads_kv) + " D=" + std::to_string(s.head_dim) +
           " S=" + std::to_string(s.seq_q) + "/" + std::to_string(s.seq_kv) +
           (s.causal ? " causal" : "") + " q=" + assay::attention::to_string(q) +
           " kv=" + assay::attention::to_string(kv) + " path=" + assay::attention::to_string(p) +
           " threads=" + std::to_string(threads);
}

/// Runs prefill or decode on every path this CPU has and 1 and 2 threads; checks each output.
void check_case(const Shape& s, Dtype q_dtype, Dtype kv_dtype, bool decode) {
    const auto nq = static_cast<std::size_t>(s.batch * s.heads_q * s.seq_q * s.head_dim);
    const auto nkv = static_cast<std::size_t>(s.batch * s.heads_kv * s.seq_kv * s.head_dim);
    // Q at amplitude 4: scores up to a few units, so the softmax is far from uniform.
    const Tensor q = make_tensor(nq, q_dtype, 1, 4.0F);
    const Tensor k = make_tensor(nkv, kv_dtype, 2, 1.0F);
    const Tensor v = make_tensor(nkv, kv_dtype, 3, 1.0F);
    const std::vector<double> want = reference(s, q, k, v);
    const double tol = !decode && q_dtype == Dtype::bf16 ? kTolBf16 : kTolF32;
    const std::vector<Path> paths = FlashAttentionCpu::available_paths(q_dtype, kv_dtype);
    REQUIRE(!paths.empty());
    REQUIRE(paths.back() == Path::portable);
    for (const unsigned threads : {1U, 2U}) {
        const std::vector<unsigned> pus = assay::test::allowed_cpus(threads);
        ThreadTeam team(pus);
        for (const Path path : paths) {
            INFO(describe(s, q_dtype, kv_dtype, path, pus.size()));
            FlashAttentionCpu attn(s, q_dtype, kv_dtype, team.size(), path);
            INFO((decode ? attn.decode_implementation() : attn.prefill_implementation()));
            std::vector<float> out(nq, std::nanf(""));
            const Tensors t{q.data(), k.data(), v.data(), out.data()};
            if (decode) {
                attn.decode(t, team);
            } else {
                attn.prefill(t, team);
            }
            const double err = max_abs_error(out, want);
            INFO("max abs error " << err << " tolerance " << tol);
            CHECK(err <= tol);
            // The same object again (scratch reuse must not leak state between calls).
            std::fill(out.begin(), out.end(), 0.0F);
            if (decode) {
                attn.decode(t, team);
            } else {
                attn.prefill(t, team);
            }
            CHECK(max_abs_error(out, want) <= tol);
        }
    }
}

/// The SVE vector length in bits (0 without SVE), read from the hardware with RDVL rather than
/// the kernel's PR_SVE_GET_VL that the library uses, so the two are checked against each other.
int hardware_sve_bits() {
#if defined(__aarch64__) && defined(__linux__) && defined(HWCAP_SVE)
    if ((getauxval(AT_HWCAP) & HWCAP_SVE) == 0) {
        return 0;
    }
    // RDVL x0, #1 as a raw encoding: the test file is built for baseline armv8-a.
    std::uint64_t bytes = 0;
    asm volatile(".inst 0x04bf5020\n\tmov %0, x0" : "=r"(bytes) : : "x0");
    return static_cast<int>(bytes * 8);
#else
    return 0;
#endif
}

bool cpu_has_sve_bf16() {
#if defined(__aarch64__) && defined(__linux__) && defined(HWCAP2_SVEBF16)
    return hardware_sve_bits() != 0 && (getauxval(AT_HWCAP2) & HWCAP2_SVEBF16) != 0;
#else
    return false;
#endif
}

bool has_path(const std::vector<Path>& paths, Path p) {
    return std::find(paths.begin(), paths.end(), p) != paths.end();
}

Shape shape(std::int64_t b, std::int64_t h, std::int64_t hkv, std::int64_t d, std::int64_t sq,
            std::int64_t skv, bool causal) {
    Shape s;
    s.batch = b;
    s.heads_q = h;
    s.heads_kv = hkv;
    s.head_dim = d;
    s.seq_q = sq;
    s.seq_kv = skv;
    s.causal = causal;
    return s;
}

}  // namespace

TEST_CASE("flash prefill fp32 matches the fp64 reference", "[attention_flash]") {
    for (const bool causal : {false, true}) {
        check_case(shape(1, 2, 2, 64, 77, 77, causal), Dtype::f32, Dtype::f32, false);
        check_case(shape(2, 8, 2, 128, 130, 130, causal), Dtype::f32, Dtype::f32, false);
        // Chunked prefill: the queries are the last 37 positions of 130.
        check_case(shape(1, 8, 2, 128, 37, 130, causal), Dtype::f32, Dtype::f32, false);
        check_case(shape(1, 2, 1, 256, 19, 70, causal), Dtype::f32, Dtype::f32, false);
    }
    // GQA ratio 8 makes an item of 16 heads × 8 positions.
    check_case(shape(1, 16, 2, 64, 200, 200, true), Dtype::f32, Dtype::f32, false);
}

TEST_CASE("flash prefill bf16 matches the fp64 reference within the bf16 bound",
          "[attention_flash]") {
    for (const bool causal : {false, true}) {
        check_case(shape(1, 2, 2, 64, 77, 77, causal), Dtype::bf16, Dtype::bf16, false);
        check_case(shape(1, 8, 2, 128, 130, 130, causal), Dtype::bf16, Dtype::bf16, false);
        check_case(shape(1, 4, 1, 128, 37, 131, causal), Dtype::bf16, Dtype::bf16, false);
    }
}

TEST_CASE("flash decode split-K matches the fp64 reference for every kv dtype",
          "[attention_flash]") {
    for (const Dtype kv : {Dtype::f32, Dtype::bf16, Dtype::f16}) {
        check_case(shape(2, 8, 2, 128, 1, 1000, false), Dtype::f32, kv, true);
        check_case(shape(1, 4, 4, 64, 1, 33, true), Dtype::f32, kv, true);
        // Speculative decode: 3 new tokens, causal among themselves.
        check_case(shape(1, 8, 2, 128, 3, 77, true), Dtype::f32, kv, true);
    }
    check_case(shape(1, 8, 2, 128, 1, 517, false), Dtype::bf16, Dtype::bf16, true);
}

TEST_CASE("flash decode covers every head dim, row grouping and both K/V walks",
          "[attention_flash]") {
    // Long enough that, on the software-prefetch walk (64-key tiles), every chunk has tiles
    // beyond the prefetch distance (4 tiles) and a short last tile; g = 1 (MHA), 3 (row groups
    // of 2 + 1), 8 (two groups of 4), and 3 tokens × g = 2 (6 rows, causal); head dims 64, 128
    // and 256. The sequential walk (1024-key tiles) gets a chunk of two tiles with a short,
    // odd-length last one from the 5001-key case on one thread (g = 4: one register row group;
    // 4 chunks per thread: 1251 keys each; fp32 KV only: the walk does not depend on it).
    for (const Dtype kv : {Dtype::f32, Dtype::bf16, Dtype::f16}) {
        check_case(shape(1, 4, 4, 64, 1, 1500, false), Dtype::f32, kv, true);
        check_case(shape(1, 6, 2, 256, 1, 1100, true), Dtype::f32, kv, true);
        check_case(shape(2, 16, 2, 128, 1, 1337, false), Dtype::f32, kv, true);
        check_case(shape(1, 4, 2, 64, 3, 1201, true), Dtype::f32, kv, true);
    }
    check_case(shape(1, 4, 1, 128, 1, 5001, true), Dtype::f32, Dtype::f32, true);
}

TEST_CASE("flash decode names its K/V walk", "[attention_flash]") {
    const Shape s = shape(1, 8, 2, 128, 1, 4096, false);
    // One fp32 lane per "vector": a q row is 128 vectors, far beyond 16 registers.
    const FlashAttentionCpu portable(s, Dtype::f32, Dtype::f32, 1, Path::portable);
    CHECK_THAT(portable.decode_implementation(),
               Catch::Contains("tile=64 keys, L2 prefetch 256 keys ahead"));
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f")) {
        // 8 vectors of 16 fp32 per q row at D=128: the sequential walk.
        const FlashAttentionCpu wide(s, Dtype::f32, Dtype::f32, 1, Path::avx512);
        CHECK_THAT(wide.decode_implementation(),
                   Catch::Contains("tile=1024 keys, sequential K/V walk (hardware prefetch)"));
    }
#endif
}

TEST_CASE("flash attention rejects invalid shapes and dtype pairs", "[attention_flash]") {
    const Shape ok = shape(1, 8, 2, 128, 16, 16, true);
    CHECK_NOTHROW(FlashAttentionCpu(ok, Dtype::f32, Dtype::f32, 1));
    CHECK_THROWS_AS(
        FlashAttentionCpu(shape(1, 6, 4, 128, 16, 16, false), Dtype::f32, Dtype::f32, 1),
        assay::UsageError);
    CHECK_THROWS_AS(FlashAttentionCpu(shape(1, 8, 2, 96, 16, 16, false), Dtype::f32, Dtype::f32, 1),
                    assay::UsageError);
    CHECK_THROWS_AS(FlashAttentionCpu(shape(1, 8, 2, 128, 0, 16, false), Dtype::f32, Dtype::f32, 1),
                    assay::UsageError);
    CHECK_THROWS_AS(FlashAttentionCpu(shape(0, 8, 2, 128, 4, 16, false), Dtype::f32, Dtype::f32, 1),
                    assay::UsageError);
    CHECK_THROWS_AS(FlashAttentionCpu(shape(1, 8, 2, 128, 32, 16, true), Dtype::f32, Dtype::f32, 1),
                    assay::UsageError);
    CHECK_THROWS_AS(FlashAttentionCpu(ok, Dtype::f16, Dtype::f16, 1), assay::UsageError);
    CHECK_THROWS_AS(FlashAttentionCpu(ok, Dtype::bf16, Dtype::f32, 1), assay::UsageError);
    CHECK_THROWS_AS(FlashAttentionCpu(ok, Dtype::f32, Dtype::f32, 0), assay::UsageError);

    CHECK(FlashAttentionCpu::skip_reason(Dtype::f32, Dtype::f32).empty());
    CHECK(FlashAttentionCpu::skip_reason(Dtype::f32, Dtype::f16).empty());
    CHECK(!FlashAttentionCpu::skip_reason(Dtype::f16, Dtype::f16).empty());
    CHECK(!FlashAttentionCpu::skip_reason(Dtype::bf16, Dtype::f16).empty());
    CHECK(FlashAttentionCpu::available_paths(Dtype::f16, Dtype::f32).empty());

    // Mixed q/kv dtypes are decode-only; the team must match the prepared thread count.
    const std::vector<unsigned> pus = assay::test::allowed_cpus(1);
    ThreadTeam team(pus);
    std::vector<float> q(16 * 8 * 128, 0.5F);
    std::vector<std::uint16_t> kv(16 * 2 * 128, 0x3c00);
    std::vector<float> o(q.size());
    FlashAttentionCpu mixed(ok, Dtype::f32, Dtype::f16, 1);
    CHECK_THROWS_AS(mixed.prefill(Tensors{q.data(), kv.data(), kv.data(), o.data()}, team),
                    assay::UsageError);
    FlashAttentionCpu two(ok, Dtype::f32, Dtype::f32, 2);
    CHECK_THROWS_AS(two.prefill(Tensors{q.data(), q.data(), q.data(), o.data()}, team),
                    assay::UsageError);
}

TEST_CASE("flash attention names the path it runs", "[attention_flash]") {
    const Shape s = shape(1, 8, 2, 128, 16, 16, true);
    const FlashAttentionCpu attn(s, Dtype::f32, Dtype::f32, 1, Path::portable);
    CHECK_THAT(attn.prefill_implementation(), Catch::Contains("portable"));
    CHECK_THAT(attn.prefill_implementation(), Catch::StartsWith("flash prefill fp32"));
    CHECK_THAT(attn.decode_implementation(), Catch::Contains("portable"));
    CHECK_THAT(attn.decode_implementation(), Catch::StartsWith("flash decode split-K"));
    CHECK(attn.decode_chunks() >= 1);
    CHECK(attn.prefill_block_rows() >= 1);
    const std::vector<Path> paths = FlashAttentionCpu::available_paths(Dtype::f32, Dtype::f32);
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f")) {
        CHECK(paths.front() == Path::avx512);
        const FlashAttentionCpu best(s, Dtype::f32, Dtype::f32, 1);
        CHECK_THAT(best.prefill_implementation(), Catch::Contains("avx512f"));
        CHECK_THAT(best.decode_implementation(), Catch::Contains("avx512f"));
    }
    CHECK_THROWS_AS(FlashAttentionCpu(s, Dtype::f32, Dtype::f32, 1, Path::neon), assay::UsageError);
#elif defined(__aarch64__)
    // SVE ranks first only beyond 128 bits (see available_paths).
    const int sve_bits = hardware_sve_bits();
    const bool sve_best = sve_bits == 256 || sve_bits == 512;
    CHECK(paths.front() == (sve_best ? Path::sve : Path::neon));
    CHECK_THROWS_AS(FlashAttentionCpu(s, Dtype::f32, Dtype::f32, 1, Path::avx512),
                    assay::UsageError);
#endif
}

TEST_CASE("flash attention offers SVE at the CPU's vector length", "[attention_flash]") {
    const Shape s = shape(1, 8, 2, 128, 16, 16, true);
    CHECK(std::string(assay::attention::to_string(Path::sve)) == "sve");
    const int bits = hardware_sve_bits();
    INFO("SVE vector length " << bits << " bits, SVE BF16 " << cpu_has_sve_bf16());
    const bool built = bits == 128 || bits == 256 || bits == 512;
    for (const Dtype kv : {Dtype::f32, Dtype::bf16, Dtype::f16}) {
        CHECK(has_path(FlashAttentionCpu::available_paths(Dtype::f32, kv), Path::sve) == built);
    }
    CHECK(has_path(FlashAttentionCpu::available_paths(Dtype::bf16, Dtype::bf16), Path::sve) ==
          (built && cpu_has_sve_bf16()));
    if (!built) {
        // x86-64, aarch64 without SVE, or a vector length with no kernels (1024, 2048 bits).
        CHECK_THROWS_AS(FlashAttentionCpu(s, Dtype::f32, Dtype::f32, 1, Path::sve),
                        assay::UsageError);
        return;
    }
    const std::string name = "sve" + std::to_string(bits);
    const FlashAttentionCpu fp32(s, Dtype::f32, Dtype::f32, 1, Path::sve);
    CHECK_THAT(fp32.prefill_implementation(), Catch::Contains(name));
    CHECK_THAT(fp32.decode_implementation(), Catch::Contains(name));
    const FlashAttentionCpu f16(s, Dtype::f32, Dtype::f16, 1, Path::sve);
    CHECK_THAT(f16.decode_implementation(), Catch::Contains(name));
    if (cpu_has_sve_bf16()) {
        const FlashAttentionCpu bf16(s, Dtype::bf16, Dtype::bf16, 1, Path::sve);
        CHECK_THAT(bf16.prefill_implementation(), Catch::Contains(name + "+bf16"));
    } else {
        CHECK_THAT(fp32.prefill_implementation(), !Catch::Contains("+bf16"));
        CHECK_THROWS_AS(FlashAttentionCpu(s, Dtype::bf16, Dtype::bf16, 1, Path::sve),
                        assay::UsageError);
    }
}

TEST_CASE("flash prefill bf16 covers head dim 256", "[attention_flash]") {
    // The other bf16 prefill cases stop at 128; the P·V loop runs 256 / 64 column blocks here.
    for (const bool causal : {false, true}) {
        check_case(shape(1, 2, 1, 256, 19, 70, causal), Dtype::bf16, Dtype::bf16, false);
    }
}

namespace {

double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

/// Best wall time, and the best CPU time divided by the thread count: on a shared, overloaded
/// machine the second shows what the kernel does while it actually holds the cores.
std::pair<double, double> seconds_of_best(int reps, unsigned threads,
                                          const std::function<void()>& fn) {
    double best = 1e300;
    double best_cpu = 1e300;
    for (int i = 0; i < reps; ++i) {
        const double c0 = cpu_seconds();
        const auto t0 = std::chrono::steady_clock::now();
        fn();
        const auto t1 = std::chrono::steady_clock::now();
        const double c1 = cpu_seconds();
        best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
        best_cpu = std::min(best_cpu, (c1 - c0) / threads);
    }
    return {best, best_cpu};
}

}  // namespace

// Not a unit test: a manual performance check (run with "[.benchmark]").
TEST_CASE("flash attention Llama-8B-like throughput", "[.benchmark][attention_flash_bench]") {
    const char* env = std::getenv("ASSAY_FLASH_BENCH_THREADS");
    const std::vector<unsigned> pus =
        assay::test::allowed_cpus(env != nullptr ? static_cast<unsigned>(std::atoi(env)) : 2U);
    ThreadTeam team(pus);
    const Shape pre = shape(1, 32, 8, 128, 2048, 2048, true);
    const double pairs = 2048.0 * 2049.0 / 2;
    const double flops = 4.0 * 32 * 128 * pairs;
    for (const Dtype dt : {Dtype::f32, Dtype::bf16}) {
        if (!FlashAttentionCpu::skip_reason(dt, dt).empty() ||
            std::getenv("ASSAY_FLASH_BENCH_NO_PREFILL") != nullptr) {
            continue;
        }
        const auto nq = static_cast<std::size_t>(32 * 2048 * 128);
        const auto nkv = static_cast<std::size_t>(8 * 2048 * 128);
        const Tensor q = make_tensor(nq, dt, 1, 4.0F, false);
        const Tensor k = make_tensor(nkv, dt, 2, 1.0F, false);
        const Tensor v = make_tensor(nkv, dt, 3, 1.0F, false);
        std::vector<float> o(nq);
        FlashAttentionCpu attn(pre, dt, dt, team.size());
        const Tensors t{q.data(), k.data(), v.data(), o.data()};
        const auto [sec, cpu] = seconds_of_best(5, team.size(), [&] { attn.prefill(t, team); });
        std::cout << "prefill " << assay::attention::to_string(dt) << " "
                  << attn.prefill_implementation() << " threads=" << team.size() << ": "
                  << sec * 1e3 << " ms, " << flops / sec / 1e9 << " GFLOP/s (by CPU time "
                  << flops / cpu / 1e9 << ")\n";
    }
    const char* kv_env = std::getenv("ASSAY_FLASH_BENCH_KV");
    const std::int64_t kv_len = kv_env != nullptr ? std::atoll(kv_env) : 65536;
    for (const Dtype kv : {Dtype::f32, Dtype::bf16, Dtype::f16}) {
        const Shape dec = shape(1, 32, 8, 128, 1, kv_len, false);
        const auto nkv = static_cast<std::size_t>(8 * kv_len * 128);
        const Tensor q = make_tensor(32 * 128, Dtype::f32, 1, 4.0F);
        const Tensor k = make_tensor(nkv, kv, 2, 1.0F, false);
        const Tensor v = make_tensor(nkv, kv, 3, 1.0F, false);
        std::vector<float> o(32 * 128);
        FlashAttentionCpu attn(dec, Dtype::f32, kv, team.size());
        const Tensors t{q.data(), k.data(), v.data(), o.data()};
        const auto [sec, cpu] = seconds_of_best(10, team.size(), [&] { attn.decode(t, team); });
        const double bytes =
            2.0 * static_cast<double>(nkv) * static_cast<double>(assay::attention::dtype_bytes(kv));
        std::cout << "decode kv " << assay::attention::to_string(kv) << " "
                  << attn.decode_implementation() << " threads=" << team.size() << ": " << sec * 1e3
                  << " ms, " << bytes / sec / 1e9 << " GB/s (by CPU time " << bytes / cpu / 1e9
                  << ")\n";
    }
}
