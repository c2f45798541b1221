#include "benches/cpu/attention/flash_cpu.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <new>

#include "benches/cpu/attention/flash_kernels.hpp"
#include "benches/thread_team.hpp"
#include "core/error.hpp"

#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#endif

namespace assay::attention {

const char* to_string(Dtype d) {
    switch (d) {
        case Dtype::f32:
            return "fp32";
        case Dtype::bf16:
            return "bf16";
        case Dtype::f16:
            return "fp16";
    }
    return "?";
}

std::size_t dtype_bytes(Dtype d) {
    return d == Dtype::f32 ? 4 : 2;
}

const char* to_string(Path p) {
    switch (p) {
        case Path::best:
            return "best";
        case Path::portable:
            return "portable";
        case Path::avx512:
            return "avx512";
        case Path::neon:
            return "neon";
        case Path::sve:
            return "sve";
    }
    return "?";
}

namespace {

using detail::kDecodeKvBlock;
using detail::kDecodePrefetchKeys;
using detail::KernelSet;
using detail::kPrefillKvBlock;
using detail::kRowPad;

/// Query rows a prefill work item aims for (g heads × Br positions): Qᵀ (64 KiB fp32 at D=128)
/// and the output accumulator stay in L2 while a K/V tile streams through L1.
constexpr std::int64_t kPrefillRows = 128;
/// Decode splits each (batch, kv head) into at least this many work items per thread overall,
/// so the atomic work queue can even out a noisy neighbour.
constexpr std::int64_t kDecodeItemsPerThread = 4;

bool cpu_has_avx512f() {
#if defined(__x86_64__)
    // __builtin_cpu_supports also checks that the OS saves the ZMM state (XCR0).
    return __builtin_cpu_supports("avx512f") != 0;
#else
    return false;
#endif
}

bool cpu_has_x86_bf16() {
#if defined(__x86_64__)
    return cpu_has_avx512f() && __builtin_cpu_supports("avx512bf16") != 0;
#else
    return false;
#endif
}

bool cpu_has_arm_bf16() {
#if defined(__aarch64__) && defined(__linux__) && defined(HWCAP2_BF16)
    return (getauxval(AT_HWCAP2) & HWCAP2_BF16) != 0;
#else
    return false;
#endif
}

/// The SVE vector length of the calling thread in bits, 0 without SVE. Read from the kernel
/// (PR_SVE_GET_VL) rather than with CNTB so that this file needs no +sve target. Threads inherit
/// it, so the team's threads run at the length read here unless one of them changes its own.
int cpu_sve_bits() {
#if defined(__aarch64__) && defined(__linux__) && defined(HWCAP_SVE) && defined(PR_SVE_GET_VL)
    if ((getauxval(AT_HWCAP) & HWCAP_SVE) == 0) {
        return 0;
    }
    const int vl = prctl(PR_SVE_GET_VL, 0, 0, 0, 0);
    return vl < 0 ? 0 : (vl & PR_SVE_VL_LEN_MASK) * 8;
#else
    return 0;
#endif
}

bool cpu_has_sve_bf16() {
#if defined(__aarch64__) && defined(__linux__) && defined(HWCAP2_SVEBF16)
    return cpu_sve_bits() != 0 && (getauxval(AT_HWCAP2) & HWCAP2_SVEBF16) != 0;
#else
    return false;
#endif
}

/// Whether this build has SVE kernels for the CPU's vector length (fixed-length code: one file
/// each for 128, 256 and 512 bits; 1024 and 2048 bits get none, and NEON stays the best path).
bool sve_kernels_match() {
#if defined(__aarch64__)
    const int bits = cpu_sve_bits();
    return bits == 128 || bits == 256 || bits == 512;
#else
    return false;
#endif
}

bool pair_supported(Dtype q, Dtype kv) {
    return q == Dtype::f32 || (q == Dtype::bf16 && kv == Dtype::bf16);
}

/// Whether `path` can run the pair here (portable runs everything, bf16 emulated).
bool path_runs(Path path, Dtype q, Dtype kv) {
    (void)kv;  // every kv dtype runs wherever its q dtype does
    switch (path) {
        case Path::portable:
            return true;
        case Path::avx512:
            return cpu_has_avx512f() && (q != Dtype::bf16 || cpu_has_x86_bf16());
        case Path::neon:
#if defined(__aarch64__)
            return q != Dtype::bf16 || cpu_has_arm_bf16();
#else
            return false;
#endif
        case Path::sve:
            return sve_kernels_match() && (q != Dtype::bf16 || cpu_has_sve_bf16());
        case Path::best:
            break;
    }
    return false;
}

/// Why `path` cannot run q here (call only when path_runs is false).
std::string path_missing(Path path, Dtype q) {
    switch (path) {
        case Path::avx512:
            return cpu_has_avx512f() ? "no AVX512-BF16" : "no AVX-512F";
        case Path::neon:
#if defined(__aarch64__)
            return "no BF16 (FEAT_BF16)";
#else
            return "not an aarch64 build";
#endif
        case Path::sve: {
#if defined(__aarch64__)
            const int bits = cpu_sve_bits();
            if (bits == 0) {
                return "no SVE";
            }
            if (!sve_kernels_match()) {
                return fmt::format(
                    "SVE vector length {} bits; SVE kernels exist for 128, 256 and 512", bits);
            }
            return q == Dtype::bf16 ? "no SVE BF16" : "";
#else
            (void)q;
            return "not an aarch64 build";
#endif
        }
        default:
            return "";
    }
}

KernelSet kernels_for(Path path) {
    switch (path) {
#if defined(__x86_64__)
        case Path::avx512: {
            KernelSet k = detail::avx512_kernels();
            if (cpu_has_x86_bf16()) {
                k.prefill_bf16 = detail::avx512_bf16_prefill();
                k.name = "avx512f+avx512bf16";
            }
            return k;
        }
#endif
#if defined(__aarch64__)
        case Path::neon: {
            KernelSet k = detail::neon_kernels();
            if (cpu_has_arm_bf16()) {
                k.prefill_bf16 = detail::neon_bf16_prefill();
                k.name = "neon+bf16";
            }
            return k;
        }
        case Path::sve: {
            const int bits = cpu_sve_bits();
            KernelSet k = bits == 512   ? detail::sve512_kernels()
                          : bits == 256 ? detail::sve256_kernels()
                                        : detail::sve128_kernels();
            if (cpu_has_sve_bf16()) {
                k.prefill_bf16 = bits == 512   ? detail::sve512_bf16_prefill()
                                 : bits == 256 ? detail::sve256_bf16_prefill()
                                               : detail::sve128_bf16_prefill();
                k.name = bits == 512 ? "sve512+bf16" : bits == 256 ? "sve256+bf16" : "sve128+bf16";
            }
            return k;
        }
#endif
        default:
            return detail::portable_kernels();
    }
}

struct FreeDeleter {
    void operator()(void* p) const noexcept { std::free(p); }
};

/// Zeroed, 64-byte aligned scratch of `bytes`.
std::unique_ptr<unsigned char, FreeDeleter> alloc_scratch(std::size_t bytes) {
    bytes = (bytes + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, bytes == 0 ? 64 : bytes);
    if (p == nullptr) {
        throw std::bad_alloc();
    }
    std::fill_n(static_cast<unsigned char*>(p), bytes, static_cast<unsigned char>(0));
    return std::unique_ptr<unsigned char, FreeDeleter>(static_cast<unsigned char*>(p));
}

}  // namespace

std::string FlashAttentionCpu::skip_reason(Dtype q_dtype, Dtype kv_dtype) {
    if (!pair_supported(q_dtype, kv_dtype)) {
        return fmt::format(
            "q {} with kv {} is not supported (prefill: fp32/fp32 or bf16/bf16; decode also fp32 "
            "q with bf16 or fp16 kv)",
            to_string(q_dtype), to_string(kv_dtype));
    }
    if (q_dtype == Dtype::bf16 && !cpu_has_x86_bf16() && !cpu_has_arm_bf16()) {
        return "bf16 needs AVX512-BF16 or AMX on x86, or BF16 (FEAT_BF16) on aarch64";
    }
    return {};
}

std::vector<Path> FlashAttentionCpu::available_paths(Dtype q_dtype, Dtype kv_dtype) {
    std::vector<Path> out;
    if (!pair_supported(q_dtype, kv_dtype)) {
        return out;
    }
    // SVE ranks above NEON only beyond 128 bits. At 128 bits an SVE instruction does the same
    // work as a NEON one and the 128-bit SVE cores (Neoverse V2: Graviton 4, Grace) feed both
    // through the same four 128-bit FP pipes, so the mature NEON path stays best there. At 256
    // bits (Neoverse V1: Graviton 3) peak FMA throughput is equal too (2×256 vs 4×128 bits per
    // cycle), but the same FLOPs take half the instructions, loads and broadcasts; at 512 bits
    // (A64FX: 2×512-bit FMA, 2×128 for NEON) SVE has the higher peak. Not measured here.
    const bool sve_first = cpu_sve_bits() > 128;
    const Path order[] = {Path::avx512, sve_first ? Path::sve : Path::neon,
                          sve_first ? Path::neon : Path::sve};
    for (Path p : order) {
        if (path_runs(p, q_dtype, kv_dtype)) {
            out.push_back(p);
        }
    }
    out.push_back(Path::portable);
    return out;
}

struct FlashAttentionCpu::Impl {
    Shape shape;
    Dtype q_dtype = Dtype::f32;
    Dtype kv_dtype = Dtype::f32;
    unsigned threads = 1;
    KernelSet kernels;
    std::int64_t block_rows = 1;
    std::int64_t rows_pad = kRowPad;
    std::int64_t chunks = 1;
    std::int64_t chunk_len = 1;
    float scale_log2 = 0;
    std::vector<std::unique_ptr<unsigned char, FreeDeleter>> buffers;
    std::vector<detail::PrefillScratch> prefill_scratch;
    std::vector<detail::DecodeScratch> decode_scratch;
    std::unique_ptr<unsigned char, FreeDeleter> partial;
    std::atomic<std::int64_t> next{0};

    std::int64_t group() const { return shape.heads_q / shape.heads_kv; }
    std::int64_t prefill_items() const {
        return shape.batch * shape.heads_kv * ((shape.seq_q + block_rows - 1) / block_rows);
    }
    std::int64_t decode_items() const { return shape.batch * shape.heads_kv * chunks; }
    void ensure_prefill_scratch();
    void ensure_decode_scratch();
};

FlashAttentionCpu::FlashAttentionCpu(const Shape& shape, Dtype q_dtype, Dtype kv_dtype,
                                     unsigned threads, Path path)
    : impl_(std::make_unique<Impl>()) {
    const Shape& s = shape;
    if (s.batch <= 0 || s.heads_q <= 0 || s.heads_kv <= 0 || s.seq_q <= 0 || s.seq_kv <= 0) {
        throw UsageError(fmt::format(
            "attention shape: sizes must be positive (batch {}, heads {}/{}, seq {}/{})", s.batch,
            s.heads_q, s.heads_kv, s.seq_q, s.seq_kv));
    }
    if (s.heads_q % s.heads_kv != 0) {
        throw UsageError(fmt::format("attention shape: heads_q {} is not a multiple of heads_kv {}",
                                     s.heads_q, s.heads_kv));
    }
    if (s.head_dim != 64 && s.head_dim != 128 && s.head_dim != 256) {
        throw UsageError(
            fmt::format("attention shape: head_dim {} is not 64, 128 or 256", s.head_dim));
    }
    if (s.seq_kv > std::numeric_limits<std::int32_t>::max() - s.seq_q) {
        throw UsageError(fmt::format("attention shape: seq_kv {} is too long", s.seq_kv));
    }
    if (s.causal && s.seq_q > s.seq_kv) {
        throw UsageError(fmt::format(
            "attention shape: causal with seq_q {} > seq_kv {} leaves query rows with no key",
            s.seq_q, s.seq_kv));
    }
    if (threads == 0) {
        throw UsageError("attention: threads must be at least 1");
    }
    if (!pair_supported(q_dtype, kv_dtype)) {
        throw UsageError(skip_reason(q_dtype, kv_dtype));
    }
    if (path == Path::best) {
        const std::string reason = skip_reason(q_dtype, kv_dtype);
        if (!reason.empty()) {
            throw UsageError(reason);
        }
        path = available_paths(q_dtype, kv_dtype).front();
    } else if (!path_runs(path, q_dtype, kv_dtype)) {
        throw UsageError(fmt::format("attention: path {} cannot run q {} / kv {} on this CPU ({})",
                                     to_string(path), to_string(q_dtype), to_string(kv_dtype),
                                     path_missing(path, q_dtype)));
    }

    Impl& im = *impl_;
    im.shape = s;
    im.q_dtype = q_dtype;
    im.kv_dtype = kv_dtype;
    im.threads = threads;
    im.kernels = kernels_for(path);
    im.scale_log2 =
        static_cast<float>(1.4426950408889634 / std::sqrt(static_cast<double>(s.head_dim)));

    const std::int64_t g = im.group();
    im.block_rows = std::min(s.seq_q, std::max<std::int64_t>(1, kPrefillRows / g));
    im.rows_pad = (g * im.block_rows + kRowPad - 1) / kRowPad * kRowPad;

    const std::int64_t groups = s.batch * s.heads_kv;
    std::int64_t chunks =
        std::max<std::int64_t>(threads, (kDecodeItemsPerThread * threads + groups - 1) / groups);
    chunks = std::min(chunks, (s.seq_kv + kDecodeKvBlock - 1) / kDecodeKvBlock);
    chunks = std::max<std::int64_t>(chunks, 1);
    im.chunk_len = (s.seq_kv + chunks - 1) / chunks;
    im.chunks = (s.seq_kv + im.chunk_len - 1) / im.chunk_len;
}

namespace {

/// Carves 64-byte aligned pieces out of one allocation; run twice (measure, then place).
class Carver {
  public:
    explicit Carver(unsigned char* base) : base_(base) {}
    template <class T>
    T* take(std::int64_t count) {
        unsigned char* p = base_ == nullptr ? nullptr : base_ + at_;
        at_ += (static_cast<std::size_t>(count) * sizeof(T) + 63) / 64 * 64;
        return reinterpret_cast<T*>(p);
    }
    std::size_t bytes() const { return at_; }

  private:
    unsigned char* base_;
    std::size_t at_ = 0;
};

detail::PrefillScratch carve_prefill(Carver& c, std::int64_t mp, std::int64_t d) {
    detail::PrefillScratch ps;
    ps.qt = c.take<float>(d * mp);
    ps.st = c.take<float>(kPrefillKvBlock * mp);
    ps.pp = c.take<std::uint32_t>(kPrefillKvBlock / 2 * mp);
    ps.vp = c.take<std::uint32_t>(kPrefillKvBlock / 2 * d);
    ps.o = c.take<float>(mp * d);
    ps.m = c.take<float>(mp);
    ps.l = c.take<float>(mp);
    ps.alpha = c.take<float>(mp);
    ps.limit = c.take<std::int32_t>(mp);
    return ps;
}

detail::DecodeScratch carve_decode(Carver& c, std::int64_t rows, std::int64_t d) {
    detail::DecodeScratch ds;
    ds.q = c.take<float>(rows * d);
    ds.s = c.take<float>(rows * detail::kDecodeScoreStride);
    ds.o = c.take<float>(rows * d);
    ds.m = c.take<float>(rows);
    ds.l = c.take<float>(rows);
    ds.alpha = c.take<float>(rows);
    ds.limit = c.take<std::int32_t>(rows);
    return ds;
}

}  // namespace

// Scratch is allocated on the first prefill() / decode() (the same object may serve only one of
// them, and decode's per-row state for a long prefill would be large), never inside later calls.
void FlashAttentionCpu::Impl::ensure_prefill_scratch() {
    if (!prefill_scratch.empty()) {
        return;
    }
    Carver measure(nullptr);
    (void)carve_prefill(measure, rows_pad, shape.head_dim);
    for (unsigned t = 0; t < threads; ++t) {
        buffers.push_back(alloc_scratch(measure.bytes()));
        Carver place(buffers.back().get());
        prefill_scratch.push_back(carve_prefill(place, rows_pad, shape.head_dim));
    }
}

void FlashAttentionCpu::Impl::ensure_decode_scratch() {
    if (!decode_scratch.empty()) {
        return;
    }
    const std::int64_t rows = group() * shape.seq_q;
    Carver measure(nullptr);
    (void)carve_decode(measure, rows, shape.head_dim);
    for (unsigned t = 0; t < threads; ++t) {
        buffers.push_back(alloc_scratch(measure.bytes()));
        Carver place(buffers.back().get());
        decode_scratch.push_back(carve_decode(place, rows, shape.head_dim));
    }
    partial = alloc_scratch(static_cast<std::size_t>(decode_items() * rows * (2 + shape.head_dim)) *
                            sizeof(float));
}

FlashAttentionCpu::~FlashAttentionCpu() = default;

void FlashAttentionCpu::prefill(const Tensors& t, ThreadTeam& team) {
    Impl& im = *impl_;
    if (team.size() != im.threads) {
        throw UsageError(fmt::format("attention prefill: team has {} threads, prepared for {}",
                                     team.size(), im.threads));
    }
    if (im.q_dtype != im.kv_dtype) {
        throw UsageError(fmt::format("attention prefill: q {} and kv {} must match",
                                     to_string(im.q_dtype), to_string(im.kv_dtype)));
    }
    const detail::PrefillFn fn =
        im.q_dtype == Dtype::f32 ? im.kernels.prefill_f32 : im.kernels.prefill_bf16;
    if (fn == nullptr) {
        throw UsageError(fmt::format("attention prefill: {} {} not available in path {}",
                                     to_string(im.q_dtype), "prefill", im.kernels.name));
    }
    if (t.q == nullptr || t.k == nullptr || t.v == nullptr || t.o == nullptr) {
        throw UsageError("attention prefill: null tensor");
    }
    detail::PrefillJob job;
    job.shape = im.shape;
    job.q = t.q;
    job.k = t.k;
    job.v = t.v;
    job.o = t.o;
    job.block_rows = im.block_rows;
    job.scale_log2 = im.scale_log2;
    im.ensure_prefill_scratch();
    const std::int64_t items = im.prefill_items();
    im.next.store(0);
    team.run([&](unsigned index, unsigned /*size*/) {
        const detail::PrefillScratch& s = im.prefill_scratch[index];
        for (std::int64_t i = im.next.fetch_add(1); i < items; i = im.next.fetch_add(1)) {
            fn(job, i, s);
        }
    });
}

void FlashAttentionCpu::decode(const Tensors& t, ThreadTeam& team) {
    Impl& im = *impl_;
    if (team.size() != im.threads) {
        throw UsageError(fmt::format("attention decode: team has {} threads, prepared for {}",
                                     team.size(), im.threads));
    }
    if (t.q == nullptr || t.k == nullptr || t.v == nullptr || t.o == nullptr) {
        throw UsageError("attention decode: null tensor");
    }
    im.ensure_decode_scratch();
    detail::DecodeFn fn = nullptr;
    switch (im.kv_dtype) {
        case Dtype::f32:
            fn = im.kernels.decode_kv_f32;
            break;
        case Dtype::bf16:
            fn = im.kernels.decode_kv_bf16;
            break;
        case Dtype::f16:
            fn = im.kernels.decode_kv_f16;
            break;
    }
    const Shape& sh = im.shape;
    detail::DecodeJob job;
    job.shape = sh;
    job.q_dtype = im.q_dtype;
    job.q = t.q;
    job.k = t.k;
    job.v = t.v;
    job.chunks = im.chunks;
    job.chunk_len = im.chunk_len;
    job.scale_log2 = im.scale_log2;
    job.partial = reinterpret_cast<float*>(im.partial.get());
    const std::int64_t items = im.decode_items();
    im.next.store(0);
    team.run([&](unsigned index, unsigned /*size*/) {
        const detail::DecodeScratch& s = im.decode_scratch[index];
        for (std::int64_t i = im.next.fetch_add(1); i < items; i = im.next.fetch_add(1)) {
            fn(job, i, s);
        }
    });

    // Reduce the chunks' partial states: weights 2^(m_c - max m), then normalise.
    const std::int64_t d_len = sh.head_dim;
    const std::int64_t g = im.group();
    const std::int64_t rows = g * sh.seq_q;
    const std::int64_t total = sh.batch * sh.heads_kv * rows;
    const std::int64_t stride = 2 + d_len;
    team.run([&](unsigned index, unsigned size) {
        for (std::int64_t x = index; x < total; x += size) {
            const std::int64_t bkv = x / rows;
            const std::int64_t r = x % rows;
            const float* first = job.partial + (bkv * im.chunks * rows + r) * stride;
            float m = -std::numeric_limits<float>::infinity();
            for (std::int64_t c = 0; c < im.chunks; ++c) {
                m = std::max(m, first[c * rows * stride]);
            }
            const std::int64_t b = bkv / sh.heads_kv;
            const std::int64_t h = (bkv % sh.heads_kv) * g + r / sh.seq_q;
            float* out = t.o + ((b * sh.heads_q + h) * sh.seq_q + r % sh.seq_q) * d_len;
            std::fill_n(out, d_len, 0.0F);
            float l = 0;
            for (std::int64_t c = 0; c < im.chunks; ++c) {
                const float* p = first + c * rows * stride;
                if (p[0] == -std::numeric_limits<float>::infinity()) {
                    continue;  // this chunk saw no visible key for the row
                }
                const float w = std::exp2(p[0] - m);
                l += w * p[1];
                for (std::int64_t d = 0; d < d_len; ++d) {
                    out[d] += w * p[2 + d];
                }
            }
            const float inv = 1.0F / l;
            for (std::int64_t d = 0; d < d_len; ++d) {
                out[d] *= inv;
            }
        }
    });
}

std::int64_t FlashAttentionCpu::prefill_block_rows() const {
    return impl_->block_rows;
}

std::int64_t FlashAttentionCpu::kv_block() const {
    return kPrefillKvBlock;
}

std::int64_t FlashAttentionCpu::decode_chunks() const {
    return impl_->chunks;
}

std::string FlashAttentionCpu::prefill_implementation() const {
    const Impl& im = *impl_;
    return fmt::format("flash prefill {} {} Br={} Bc={} ({} q heads per kv head stacked)",
                       to_string(im.q_dtype), im.kernels.name, im.block_rows, kPrefillKvBlock,
                       im.group());
}

std::string FlashAttentionCpu::decode_implementation() const {
    const Impl& im = *impl_;
    const std::string walk =
        detail::decode_walks_sequentially(im.shape.head_dim, im.kernels.vector_floats)
            ? fmt::format("tile={} keys, sequential K/V walk (hardware prefetch)",
                          detail::kDecodeSeqTileKeys)
            : fmt::format("tile={} keys, L2 prefetch {} keys ahead", kDecodeKvBlock,
                          kDecodePrefetchKeys);
    return fmt::format("flash decode split-K q {} kv {} {} chunks={} per (batch, kv head), {}",
                       to_string(im.q_dtype), to_string(im.kv_dtype), im.kernels.name, im.chunks,
                       walk);
}

}  // namespace assay::attention
