// The unfused attention reference: GEMM -> masked softmax -> GEMM per (batch, head) through a
// dlopen'ed BLAS (OpenBLAS or BLIS, RTLD_LOCAL as the GEMM backends load them).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>

#include "benches/cpu/attention/attention_inputs.hpp"
#include "benches/cpu/attention/attention_kernels.hpp"
#include "benches/cpu/gemm/gemm_backends.hpp"
#include "benches/cpu/simd.hpp"
#include "benches/thread_team.hpp"
#include "core/error.hpp"

namespace assay {
namespace {

using attention_detail::allocate_bytes;
using attention_detail::Bytes;
using gemm_detail::DlLibrary;
using gemm_detail::kNoTrans;
using gemm_detail::kRowMajor;
using gemm_detail::kTrans;

template <typename Int>
using SgemmFn = void (*)(int, int, int, Int, Int, Int, float, const float*, Int, const float*, Int,
                         float, float*, Int);

/// One BLAS library as the reference uses it: cblas_sgemm and the library's thread count.
struct Blas {
    DlLibrary lib;
    void* sgemm = nullptr;
    bool int64 = false;                      ///< BLIS may be built with 64-bit BLAS integers
    void (*set_threads_int)(int) = nullptr;  // OpenBLAS
    void (*set_threads_i64)(std::int64_t) = nullptr;  // BLIS
    std::string description;
};

const Blas& blas_library(AttentionBlas which) {
    static const Blas* openblas = [] {
        auto* b = new Blas();  // never destroyed: the library stays loaded for the process
        b->lib = gemm_detail::open_library("libopenblas.so.0");
        b->sgemm = b->lib.symbol("cblas_sgemm");
        b->set_threads_int =
            reinterpret_cast<void (*)(int)>(b->lib.symbol("openblas_set_num_threads"));
        std::string config;
        if (auto get = reinterpret_cast<char* (*)()>(b->lib.symbol("openblas_get_config"))) {
            const char* text = get();
            config = text != nullptr ? text : "";
        }
        b->description = fmt::format("OpenBLAS {}", config);
        return b;
    }();
    static const Blas* blis = [] {
        auto* b = new Blas();
        b->lib = gemm_detail::open_library("libblis.so.4");
        b->sgemm = b->lib.symbol("cblas_sgemm");
        b->set_threads_i64 =
            reinterpret_cast<void (*)(std::int64_t)>(b->lib.symbol("bli_thread_set_num_threads"));
        using IntFn = std::int64_t (*)();
        if (auto f = reinterpret_cast<IntFn>(b->lib.symbol("bli_info_get_blas_int_type_size"))) {
            b->int64 = f() == 64;
        }
        std::string version = "?";
        if (auto f =
                reinterpret_cast<const char* (*)()>(b->lib.symbol("bli_info_get_version_str"))) {
            version = f();
        }
        b->description = fmt::format("BLIS {}", version);
        return b;
    }();
    return which == AttentionBlas::openblas ? *openblas : *blis;
}

template <typename Int>
void call_sgemm(const Blas& b, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                float alpha, const float* a, std::int64_t lda, const float* bm, std::int64_t ldb,
                float* c, std::int64_t ldc) {
    reinterpret_cast<SgemmFn<Int>>(b.sgemm)(
        kRowMajor, kNoTrans, trans_b ? kTrans : kNoTrans, static_cast<Int>(m), static_cast<Int>(n),
        static_cast<Int>(k), alpha, a, static_cast<Int>(lda), bm, static_cast<Int>(ldb), 0.0F, c,
        static_cast<Int>(ldc));
}

void sgemm(const Blas& b, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
           const float* a, std::int64_t lda, const float* bm, std::int64_t ldb, float* c,
           std::int64_t ldc) {
    if (b.int64) {
        call_sgemm<std::int64_t>(b, trans_b, m, n, k, alpha, a, lda, bm, ldb, c, ldc);
    } else {
        call_sgemm<int>(b, trans_b, m, n, k, alpha, a, lda, bm, ldb, c, ldc);
    }
}

constexpr std::size_t kLanes = 16;

/// In-place softmax of row[0, n) (fp32, exp by range reduction and a degree-6 polynomial,
/// ~2e-7 relative: written so GCC vectorises it, the fair baseline a BLAS user would write),
/// then zeroes row[n, width) (masked keys). n >= 1.
ASSAY_KERNEL_CLONES void softmax_row(float* row, std::int64_t n, std::int64_t width) {
    float maxes[kLanes];
    std::fill(maxes, maxes + kLanes, -INFINITY);
    const auto count = static_cast<std::size_t>(n);
    std::size_t i = 0;
    for (; i + kLanes <= count; i += kLanes) {
        for (std::size_t l = 0; l < kLanes; ++l) {
            maxes[l] = row[i + l] > maxes[l] ? row[i + l] : maxes[l];
        }
    }
    float m = -INFINITY;
    for (; i < count; ++i) {
        m = row[i] > m ? row[i] : m;
    }
    for (const float x : maxes) {
        m = x > m ? x : m;
    }
    float sums[kLanes] = {};
    constexpr float kLog2e = 1.44269504088896341F;
    constexpr float kLn2Hi = 0.693359375F;
    constexpr float kLn2Lo = -2.12194440e-4F;
    constexpr float kRound = 12582912.0F;  // 1.5·2^23: adding it rounds to an integer
    for (i = 0; i < count; i += kLanes) {
        const std::size_t lanes = std::min(kLanes, count - i);
        for (std::size_t l = 0; l < kLanes; ++l) {
            if (l < lanes) {
                float x = row[i + l] - m;  // <= 0
                x = x < -87.0F ? -87.0F : x;
                const float big = x * kLog2e + kRound;
                const float nf = big - kRound;
                std::int32_t ni = 0;
                std::memcpy(&ni, &big, sizeof ni);
                ni -= 0x4B400000;  // the integer in big's low mantissa bits
                const float r = x - nf * kLn2Hi - nf * kLn2Lo;
                float p = 1.9875691500e-4F;
                p = p * r + 1.3981999507e-3F;
                p = p * r + 8.3334519073e-3F;
                p = p * r + 4.1665795894e-2F;
                p = p * r + 1.6666665459e-1F;
                p = p * r + 5.0000001201e-1F;
                p = p * r * r + r + 1.0F;
                std::int32_t bits = 0;
                std::memcpy(&bits, &p, sizeof bits);
                bits += ni * (1 << 23);
                float e = 0;
                std::memcpy(&e, &bits, sizeof e);
                row[i + l] = e;
                sums[l] += e;
            }
        }
    }
    float sum = 0;
    for (const float s : sums) {
        sum += s;
    }
    const float inv = 1.0F / sum;
    for (i = 0; i < count; ++i) {
        row[i] *= inv;
    }
    std::fill(row + n, row + width, 0.0F);
}

}  // namespace

const char* to_string(AttentionBlas blas) {
    return blas == AttentionBlas::openblas ? "openblas" : "blis";
}

std::vector<AttentionBlas> attention_blas_all() {
    return {AttentionBlas::openblas, AttentionBlas::blis};
}

std::string attention_blas_skip_reason(AttentionBlas blas) {
    const Blas& b = blas_library(blas);
    if (b.lib.handle == nullptr) {
        return gemm_detail::library_missing_reason(b.lib);
    }
    if (b.sgemm == nullptr) {
        return fmt::format("{} lacks cblas_sgemm", b.lib.soname);
    }
    return {};
}

std::uint64_t fused_working_set_bytes(const attention::AttentionCase& c) {
    const attention::Shape& s = c.shape;
    return attention::q_elements(s) * attention::element_bytes(c.q_dtype) +
           2 * attention::kv_elements(s) * attention::element_bytes(c.kv_dtype) +
           attention::q_elements(s) * sizeof(float);
}

std::uint64_t unfused_working_set_bytes(const attention::AttentionCase& c, unsigned threads) {
    const attention::Shape& s = c.shape;
    const std::uint64_t io =
        (2 * attention::q_elements(s) + 2 * attention::kv_elements(s)) * sizeof(float);
    const auto scores =
        static_cast<std::uint64_t>(s.seq_q) * static_cast<std::uint64_t>(s.seq_kv) * sizeof(float);
    return io + std::uint64_t{std::max(1U, threads)} * scores;
}

struct UnfusedAttentionKernel::Impl {
    attention::AttentionCase c;
    AttentionBlas blas = AttentionBlas::openblas;
    std::vector<unsigned> pus;
    std::uint64_t seed = 0;
    std::unique_ptr<ThreadTeam> team;
    Bytes q, k, v, o;
    std::vector<Bytes> scores;  ///< one S_q×S_kv matrix per worker
    std::string implementation;
    bool prepared = false;
    bool ran = false;
};

UnfusedAttentionKernel::UnfusedAttentionKernel(attention::AttentionCase c, AttentionBlas blas,
                                               std::vector<unsigned> pus, std::uint64_t seed)
    : impl_(std::make_unique<Impl>()) {
    if (c.phase != attention::Phase::prefill || c.q_dtype != attention::Dtype::f32 ||
        c.kv_dtype != attention::Dtype::f32) {
        throw UsageError("unfused attention reference: fp32 prefill only");
    }
    attention::check_shape(c.shape);
    if (pus.empty()) {
        throw UsageError("unfused attention reference: no PUs to run on");
    }
    impl_->c = std::move(c);
    impl_->blas = blas;
    impl_->pus = std::move(pus);
    impl_->seed = seed;
}

UnfusedAttentionKernel::~UnfusedAttentionKernel() = default;

void UnfusedAttentionKernel::prepare() {
    Impl& im = *impl_;
    if (const std::string reason = attention_blas_skip_reason(im.blas); !reason.empty()) {
        throw Error(reason);
    }
    const Blas& b = blas_library(im.blas);
    // Heads run in parallel on the pinned team, each with a single-threaded sgemm: no library
    // pool threads float outside the placement, and every (batch, head) is the same size.
    if (b.set_threads_int != nullptr) {
        b.set_threads_int(1);
    }
    if (b.set_threads_i64 != nullptr) {
        b.set_threads_i64(1);
    }
    const attention::Shape& s = im.c.shape;
    if (!im.team) {
        im.team = std::make_unique<ThreadTeam>(im.pus);
    }
    const std::size_t nq = attention::q_elements(s);
    const std::size_t nkv = attention::kv_elements(s);
    im.q = allocate_bytes(nq * sizeof(float));
    im.k = allocate_bytes(nkv * sizeof(float));
    im.v = allocate_bytes(nkv * sizeof(float));
    im.o = allocate_bytes(nq * sizeof(float));
    attention_detail::team_fill_random(*im.team, im.q.get(), attention::Dtype::f32, nq, im.seed);
    attention_detail::team_fill_random(*im.team, im.k.get(), attention::Dtype::f32, nkv,
                                       im.seed + 1);
    attention_detail::team_fill_random(*im.team, im.v.get(), attention::Dtype::f32, nkv,
                                       im.seed + 2);
    attention_detail::team_zero(*im.team, static_cast<float*>(im.o.get()), nq);
    const auto score_elements =
        static_cast<std::size_t>(s.seq_q) * static_cast<std::size_t>(s.seq_kv);
    im.scores.clear();
    im.scores.resize(im.team->size());
    for (Bytes& m : im.scores) {
        m = allocate_bytes(score_elements * sizeof(float));
    }
    im.team->run([&im, score_elements](unsigned t, unsigned) {
        auto* m = static_cast<float*>(im.scores[t].get());
        std::fill(m, m + score_elements, 0.0F);  // first touch by the worker that uses it
    });
    im.implementation = fmt::format(
        "unfused fp32: per (batch, head) cblas_sgemm Q·Kᵀ (full S_q×S_kv) -> masked softmax -> "
        "cblas_sgemm P·V; heads in parallel over {} pinned threads, 1-thread BLAS; {} ({}); "
        "FLOP = 4·B·H·D·unmasked (q, k) pairs",
        im.team->size(), b.description, b.lib.resolved_path);
    im.prepared = true;
    im.ran = false;
}

void UnfusedAttentionKernel::run() {
    Impl& im = *impl_;
    if (!im.prepared) {
        throw Error("unfused attention reference: run() before prepare()");
    }
    const Blas& b = blas_library(im.blas);
    const attention::Shape s = im.c.shape;
    const std::int64_t d = s.head_dim;
    const std::int64_t group = s.heads_q / s.heads_kv;
    const auto scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
    const auto* q = static_cast<const float*>(im.q.get());
    const auto* k = static_cast<const float*>(im.k.get());
    const auto* v = static_cast<const float*>(im.v.get());
    auto* o = static_cast<float*>(im.o.get());
    const std::int64_t items = s.batch * s.heads_q;
    im.team->run([&](unsigned t, unsigned n) {
        float* p = static_cast<float*>(im.scores[t].get());
        for (std::int64_t w = t; w < items; w += n) {
            const std::int64_t batch = w / s.heads_q;
            const std::int64_t head = w % s.heads_q;
            const std::int64_t kvh = head / group;
            const float* qh = q + (batch * s.heads_q + head) * s.seq_q * d;
            const float* kh = k + (batch * s.heads_kv + kvh) * s.seq_kv * d;
            const float* vh = v + (batch * s.heads_kv + kvh) * s.seq_kv * d;
            float* oh = o + (batch * s.heads_q + head) * s.seq_q * d;
            sgemm(b, true, s.seq_q, s.seq_kv, d, scale, qh, d, kh, d, p, s.seq_kv);
            for (std::int64_t i = 0; i < s.seq_q; ++i) {
                const std::int64_t visible =
                    s.causal ? std::clamp<std::int64_t>(i + s.seq_kv - s.seq_q + 1, 0, s.seq_kv)
                             : s.seq_kv;
                float* row = p + i * s.seq_kv;
                if (visible == 0) {
                    std::fill(row, row + s.seq_kv, 0.0F);
                } else {
                    softmax_row(row, visible, s.seq_kv);
                }
            }
            sgemm(b, false, s.seq_q, d, s.seq_kv, 1.0F, p, s.seq_kv, vh, d, oh, d);
        }
    });
    im.ran = true;
}

Verification UnfusedAttentionKernel::verify() {
    const Impl& im = *impl_;
    if (!im.ran) {
        return Verification{false, "unfused attention reference: verify() before run()"};
    }
    const attention::AttentionCheck check = attention::verify_sampled(
        im.c.shape, attention::Dtype::f32, attention::Dtype::f32, im.q.get(), im.k.get(),
        im.v.get(), static_cast<const float*>(im.o.get()));
    return Verification{check.ok, check.detail};
}

WorkModel UnfusedAttentionKernel::work() const {
    WorkModel w;
    w.flops = attention::attention_flops(impl_->c.shape);
    return w;
}

std::string UnfusedAttentionKernel::implementation() const {
    return impl_->implementation;
}

void UnfusedAttentionKernel::corrupt_output_for_test(std::size_t index, float delta) {
    Impl& im = *impl_;
    if (!im.o || index >= attention::q_elements(im.c.shape)) {
        throw UsageError("unfused attention reference: corrupt_output_for_test index out of range");
    }
    static_cast<float*>(im.o.get())[index] += delta;
}

}  // namespace assay
