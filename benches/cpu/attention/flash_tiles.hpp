#pragma once
/// Private to the fused CPU attention: the tile algorithms, written once against a small vector
/// trait `V` and instantiated by each ISA file with its own compile flags (so every call inlines).
///
/// V provides: F (W fp32 lanes), W, zero, set1, load, store, fma(a, b, c) = a·b + c, mul, max,
/// exp2 (exactly 0 for -inf), hmax, hsum, mask_rows(x, limit, j) (lane r → -inf when
/// limit[r] <= j), mask_tail(x, valid) (lanes ≥ valid → -inf), load_bf16 / load_f16 (W values
/// widened to fp32). With kBf16: FB (2W bf16), bcast_pair, load_pairs, dot2(acc, a, b) (acc += a
/// pairs · b pairs), store_pairs(dst, lo, hi) (round both rows to bf16 and interleave per lane),
/// interleave_rows(r0, r1, dst) (W bf16 of two rows into W pairs).
///
/// Prefill keeps Sᵀ (keys × query rows): the query rows run along the vector lanes, so the
/// online-softmax max/sum are vertical vector ops, the K tile is read straight from the input
/// (no transpose) and only Qᵀ is packed, once per work item.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "benches/cpu/attention/flash_kernels.hpp"

// Everything here has internal linkage (anonymous namespace): each ISA file compiles it with its
// own -m flags, and a shared inline/template copy picked by the linker could otherwise run
// AVX-512 code on a CPU without it. For the same reason no std:: algorithm templates are used.
namespace assay::attention::detail {
namespace {

inline std::int64_t min64(std::int64_t a, std::int64_t b) {
    return a < b ? a : b;
}

inline void fill_zero(float* p, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) {
        p[i] = 0;
    }
}

inline float bf16_to_f32(std::uint16_t b) {
    const std::uint32_t bits = std::uint32_t{b} << 16;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

/// Round to nearest even (inputs are finite here).
inline std::uint16_t f32_to_bf16(float f) {
    std::uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    bits += 0x7fffU + ((bits >> 16) & 1U);
    return static_cast<std::uint16_t>(bits >> 16);
}

/// IEEE binary16 → fp32, subnormals included (software: no F16C/FP16 assumption).
inline float f16_to_f32(std::uint16_t h) {
    const std::uint32_t sign = (std::uint32_t{h} & 0x8000U) << 16;
    const std::uint32_t exp = (std::uint32_t{h} >> 10) & 0x1fU;
    const std::uint32_t man = std::uint32_t{h} & 0x3ffU;
    float f;
    if (exp == 0) {
        f = static_cast<float>(man) * 5.9604644775390625e-08F;  // man · 2^-24, exact
        std::uint32_t bits;
        std::memcpy(&bits, &f, sizeof bits);
        bits |= sign;
        std::memcpy(&f, &bits, sizeof f);
        return f;
    }
    std::uint32_t bits = sign;
    if (exp == 31) {
        bits |= 0x7f800000U | (man << 13);
    } else {
        bits |= ((exp + 112U) << 23) | (man << 13);
    }
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

inline float load_scalar(Dtype d, const void* base, std::int64_t i) {
    switch (d) {
        case Dtype::f32:
            return static_cast<const float*>(base)[i];
        case Dtype::bf16:
            return bf16_to_f32(static_cast<const std::uint16_t*>(base)[i]);
        case Dtype::f16:
            return f16_to_f32(static_cast<const std::uint16_t*>(base)[i]);
    }
    return 0;
}

inline std::int64_t round_up(std::int64_t x, std::int64_t m) {
    return (x + m - 1) / m * m;
}

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// ---------------------------------------------------------------------------------------------
// Prefill micro-kernels
// ---------------------------------------------------------------------------------------------

/// Sᵀ[RK keys][NV·W rows] = K[RK][D] · Qᵀ[D][NV·W] (fp32).
template <class V, int RK, int NV>
inline void qk_micro_f32(const float* k, std::int64_t d_len, const float* qt, std::int64_t ldq,
                         float* st) {
    typename V::F acc[RK][NV];
    for (int r = 0; r < RK; ++r) {
        for (int v = 0; v < NV; ++v) {
            acc[r][v] = V::zero();
        }
    }
    for (std::int64_t d = 0; d < d_len; ++d) {
        typename V::F b[NV];
        for (int v = 0; v < NV; ++v) {
            b[v] = V::load(qt + d * ldq + v * V::W);
        }
        for (int r = 0; r < RK; ++r) {
            const typename V::F a = V::set1(k[r * d_len + d]);
            for (int v = 0; v < NV; ++v) {
                acc[r][v] = V::fma(a, b[v], acc[r][v]);
            }
        }
    }
    for (int r = 0; r < RK; ++r) {
        for (int v = 0; v < NV; ++v) {
            V::store(st + r * ldq + v * V::W, acc[r][v]);
        }
    }
}

/// Same with bf16 K rows and Qᵀ as bf16 pairs [D/2][ldq] (AVX512-BF16 / BFDOT semantics).
template <class V, int RK, int NV>
inline void qk_micro_bf16(const std::uint16_t* k, std::int64_t d_len, const std::uint32_t* qt,
                          std::int64_t ldq, float* st) {
    typename V::F acc[RK][NV];
    for (int r = 0; r < RK; ++r) {
        for (int v = 0; v < NV; ++v) {
            acc[r][v] = V::zero();
        }
    }
    for (std::int64_t dp = 0; dp < d_len / 2; ++dp) {
        typename V::FB b[NV];
        for (int v = 0; v < NV; ++v) {
            b[v] = V::load_pairs(qt + dp * ldq + v * V::W);
        }
        for (int r = 0; r < RK; ++r) {
            std::uint32_t pair;
            std::memcpy(&pair, k + r * d_len + 2 * dp, sizeof pair);
            const typename V::FB a = V::bcast_pair(pair);
            for (int v = 0; v < NV; ++v) {
                acc[r][v] = V::dot2(acc[r][v], a, b[v]);
            }
        }
    }
    for (int r = 0; r < RK; ++r) {
        for (int v = 0; v < NV; ++v) {
            V::store(st + r * ldq + v * V::W, acc[r][v]);
        }
    }
}

/// O[RM rows][NV·W cols] = O·alpha + Pᵀ(rows)ᵀ · V[kc][cols] (fp32; P read as pt[j·ldp + r]).
template <class V, int RM, int NV>
inline void pv_micro_f32(const float* pt, std::int64_t ldp, const float* vv, std::int64_t d_len,
                         std::int64_t kc, float* o, const float* alpha) {
    typename V::F acc[RM][NV];
    for (int r = 0; r < RM; ++r) {
        const typename V::F a = V::set1(alpha[r]);
        for (int v = 0; v < NV; ++v) {
            acc[r][v] = V::mul(V::load(o + r * d_len + v * V::W), a);
        }
    }
    for (std::int64_t j = 0; j < kc; ++j) {
        typename V::F b[NV];
        for (int v = 0; v < NV; ++v) {
            b[v] = V::load(vv + j * d_len + v * V::W);
        }
        for (int r = 0; r < RM; ++r) {
            const typename V::F a = V::set1(pt[j * ldp + r]);
            for (int v = 0; v < NV; ++v) {
                acc[r][v] = V::fma(a, b[v], acc[r][v]);
            }
        }
    }
    for (int r = 0; r < RM; ++r) {
        for (int v = 0; v < NV; ++v) {
            V::store(o + r * d_len + v * V::W, acc[r][v]);
        }
    }
}

/// bf16: P as pairs pp[jp·ldp + r], V as pairs vp[(jp·D + d)·2 + e].
template <class V, int RM, int NV>
inline void pv_micro_bf16(const std::uint32_t* pp, std::int64_t ldp, const std::uint32_t* vp,
                          std::int64_t d_len, std::int64_t pairs, float* o, const float* alpha) {
    typename V::F acc[RM][NV];
    for (int r = 0; r < RM; ++r) {
        const typename V::F a = V::set1(alpha[r]);
        for (int v = 0; v < NV; ++v) {
            acc[r][v] = V::mul(V::load(o + r * d_len + v * V::W), a);
        }
    }
    for (std::int64_t jp = 0; jp < pairs; ++jp) {
        typename V::FB b[NV];
        for (int v = 0; v < NV; ++v) {
            b[v] = V::load_pairs(vp + jp * d_len + v * V::W);
        }
        for (int r = 0; r < RM; ++r) {
            const typename V::FB a = V::bcast_pair(pp[jp * ldp + r]);
            for (int v = 0; v < NV; ++v) {
                acc[r][v] = V::dot2(acc[r][v], a, b[v]);
            }
        }
    }
    for (int r = 0; r < RM; ++r) {
        for (int v = 0; v < NV; ++v) {
            V::store(o + r * d_len + v * V::W, acc[r][v]);
        }
    }
}

/// Micro-tile sizes: 6 × 4 vectors = 24 accumulators (AVX-512 and NEON both have 32 registers).
inline constexpr int kMicroRows = 6;
inline constexpr int kMicroVecs = 4;

template <class V, bool Bf16, int RK>
inline void qk_rows(const void* k, std::int64_t d_len, const void* qt, std::int64_t ldq,
                    float* st) {
    const std::int64_t vecs = ldq / V::W;
    std::int64_t c = 0;
    for (; c + kMicroVecs <= vecs; c += kMicroVecs) {
        if constexpr (Bf16) {
            qk_micro_bf16<V, RK, kMicroVecs>(static_cast<const std::uint16_t*>(k), d_len,
                                             static_cast<const std::uint32_t*>(qt) + c * V::W, ldq,
                                             st + c * V::W);
        } else {
            qk_micro_f32<V, RK, kMicroVecs>(static_cast<const float*>(k), d_len,
                                            static_cast<const float*>(qt) + c * V::W, ldq,
                                            st + c * V::W);
        }
    }
    for (; c < vecs; ++c) {
        if constexpr (Bf16) {
            qk_micro_bf16<V, RK, 1>(static_cast<const std::uint16_t*>(k), d_len,
                                    static_cast<const std::uint32_t*>(qt) + c * V::W, ldq,
                                    st + c * V::W);
        } else {
            qk_micro_f32<V, RK, 1>(static_cast<const float*>(k), d_len,
                                   static_cast<const float*>(qt) + c * V::W, ldq, st + c * V::W);
        }
    }
}

/// Sᵀ[kc][ldq] for the K tile (kc rows of D elements from the input).
template <class V, bool Bf16>
inline void qk_tile(const void* k, std::int64_t kc, std::int64_t d_len, const void* qt,
                    std::int64_t ldq, float* st) {
    using E = std::conditional_t<Bf16, std::uint16_t, float>;
    const E* kk = static_cast<const E*>(k);
    std::int64_t j = 0;
    for (; j + kMicroRows <= kc; j += kMicroRows) {
        qk_rows<V, Bf16, kMicroRows>(kk + j * d_len, d_len, qt, ldq, st + j * ldq);
    }
    const E* kr = kk + j * d_len;
    float* sr = st + j * ldq;
    switch (kc - j) {
        case 5:
            qk_rows<V, Bf16, 5>(kr, d_len, qt, ldq, sr);
            break;
        case 4:
            qk_rows<V, Bf16, 4>(kr, d_len, qt, ldq, sr);
            break;
        case 3:
            qk_rows<V, Bf16, 3>(kr, d_len, qt, ldq, sr);
            break;
        case 2:
            qk_rows<V, Bf16, 2>(kr, d_len, qt, ldq, sr);
            break;
        case 1:
            qk_rows<V, Bf16, 1>(kr, d_len, qt, ldq, sr);
            break;
        default:
            break;
    }
}

template <class V, bool Bf16, int RM>
inline void pv_rows(const void* p, std::int64_t ldp, const void* vv, std::int64_t d_len,
                    std::int64_t kc, float* o, const float* alpha) {
    // head_dim is a multiple of 64, so of kMicroVecs·W for every V.
    for (std::int64_t c = 0; c < d_len; c += kMicroVecs * V::W) {
        if constexpr (Bf16) {
            pv_micro_bf16<V, RM, kMicroVecs>(static_cast<const std::uint32_t*>(p), ldp,
                                             static_cast<const std::uint32_t*>(vv) + c, d_len,
                                             (kc + 1) / 2, o + c, alpha);
        } else {
            pv_micro_f32<V, RM, kMicroVecs>(static_cast<const float*>(p), ldp,
                                            static_cast<const float*>(vv) + c, d_len, kc, o + c,
                                            alpha);
        }
    }
}

/// O[rows][D] = O·alpha + P·V over the tile's kc keys.
template <class V, bool Bf16>
inline void pv_tile(const void* p, std::int64_t ldp, const void* vv, std::int64_t d_len,
                    std::int64_t kc, std::int64_t rows, float* o, const float* alpha) {
    using P = std::conditional_t<Bf16, std::uint32_t, float>;
    const P* pr = static_cast<const P*>(p);
    std::int64_t r = 0;
    for (; r + kMicroRows <= rows; r += kMicroRows) {
        pv_rows<V, Bf16, kMicroRows>(pr + r, ldp, vv, d_len, kc, o + r * d_len, alpha + r);
    }
    switch (rows - r) {
        case 5:
            pv_rows<V, Bf16, 5>(pr + r, ldp, vv, d_len, kc, o + r * d_len, alpha + r);
            break;
        case 4:
            pv_rows<V, Bf16, 4>(pr + r, ldp, vv, d_len, kc, o + r * d_len, alpha + r);
            break;
        case 3:
            pv_rows<V, Bf16, 3>(pr + r, ldp, vv, d_len, kc, o + r * d_len, alpha + r);
            break;
        case 2:
            pv_rows<V, Bf16, 2>(pr + r, ldp, vv, d_len, kc, o + r * d_len, alpha + r);
            break;
        case 1:
            pv_rows<V, Bf16, 1>(pr + r, ldp, vv, d_len, kc, o + r * d_len, alpha + r);
            break;
        default:
            break;
    }
}

/// Online softmax over the tile's Sᵀ[kc][ldq], in place (Sᵀ becomes Pᵀ, fp32). Updates m, l and
/// sets alpha = 2^(m_old - m_new) per row. `limit` null: no masking.
template <class V>
inline void softmax_tile_t(float* st, std::int64_t kc, std::int64_t ldq, std::int64_t j0,
                           const std::int32_t* limit, float scale_log2, float* m, float* l,
                           float* alpha) {
    const typename V::F scale = V::set1(scale_log2);
    const typename V::F neg_inf = V::set1(kNegInf);
    for (std::int64_t r = 0; r < ldq; r += V::W) {
        typename V::F mx = neg_inf;
        for (std::int64_t j = 0; j < kc; ++j) {
            typename V::F x = V::load(st + j * ldq + r);
            if (limit != nullptr) {
                x = V::mask_rows(x, limit + r, j0 + j);
                V::store(st + j * ldq + r, x);
            }
            mx = V::max(mx, x);
        }
        const typename V::F m_old = V::load(m + r);
        const typename V::F m_new = V::max(m_old, V::mul(mx, scale));
        // A row that has seen only masked keys keeps m = -inf; use 0 so exp2 gives exact zeros.
        const typename V::F m_use = V::finite_or_zero(m_new);
        const typename V::F a = V::exp2(V::sub(m_old, m_use));
        typename V::F sum = V::zero();
        const typename V::F neg_m = V::sub(V::zero(), m_use);
        for (std::int64_t j = 0; j < kc; ++j) {
            const typename V::F p = V::exp2(V::fma(V::load(st + j * ldq + r), scale, neg_m));
            V::store(st + j * ldq + r, p);
            sum = V::add(sum, p);
        }
        V::store(m + r, m_new);
        V::store(alpha + r, a);
        V::store(l + r, V::fma(V::load(l + r), a, sum));
    }
}

/// One prefill work item (see PrefillJob), on scratch `s`.
template <class V, bool Bf16>
void prefill_item(const PrefillJob& job, std::int64_t item, const PrefillScratch& s) {
    const Shape& sh = job.shape;
    const std::int64_t d_len = sh.head_dim;
    const std::int64_t g = sh.heads_q / sh.heads_kv;
    const std::int64_t br = job.block_rows;
    const std::int64_t nqb = (sh.seq_q + br - 1) / br;
    const std::int64_t groups = sh.batch * sh.heads_kv;
    const std::int64_t bkv = item % groups;
    // Items run in order of decreasing cost (causal: late query blocks see more keys).
    const std::int64_t qb = nqb - 1 - item / groups;
    const std::int64_t b = bkv / sh.heads_kv;
    const std::int64_t kvh = bkv % sh.heads_kv;
    const std::int64_t q0 = qb * br;
    const std::int64_t nq = min64(br, sh.seq_q - q0);
    const std::int64_t rows = g * nq;
    const std::int64_t ldq = round_up(rows, kRowPad);
    const std::int64_t off = sh.seq_kv - sh.seq_q;

    // Pack Qᵀ (pad rows are zero: their scores are 0, harmless, and never written out).
    using E = std::conditional_t<Bf16, std::uint16_t, float>;
    const E* qin = static_cast<const E*>(job.q);
    for (std::int64_t r = 0; r < ldq; ++r) {
        const E* src = nullptr;
        if (r < rows) {
            const std::int64_t h = kvh * g + r / nq;
            src = qin + ((b * sh.heads_q + h) * sh.seq_q + q0 + r % nq) * d_len;
        }
        if constexpr (Bf16) {
            auto* qt = static_cast<std::uint32_t*>(s.qt);
            for (std::int64_t dp = 0; dp < d_len / 2; ++dp) {
                std::uint32_t pair = 0;
                if (src != nullptr) {
                    std::memcpy(&pair, src + 2 * dp, sizeof pair);
                }
                qt[dp * ldq + r] = pair;
            }
        } else {
            auto* qt = static_cast<float*>(s.qt);
            for (std::int64_t d = 0; d < d_len; ++d) {
                qt[d * ldq + r] = src != nullptr ? src[d] : 0.0F;
            }
        }
        s.limit[r] =
            static_cast<std::int32_t>(sh.causal && r < rows ? q0 + r % nq + off + 1 : sh.seq_kv);
        s.m[r] = kNegInf;
        s.l[r] = 0;
    }
    fill_zero(s.o, rows * d_len);

    const std::int64_t kv_end = sh.causal ? min64(sh.seq_kv, q0 + nq + off) : sh.seq_kv;
    const E* kin = static_cast<const E*>(job.k) + bkv * sh.seq_kv * d_len;
    const E* vin = static_cast<const E*>(job.v) + bkv * sh.seq_kv * d_len;
    for (std::int64_t j0 = 0; j0 < kv_end; j0 += kPrefillKvBlock) {
        const std::int64_t kc = min64(kPrefillKvBlock, kv_end - j0);
        // Only tiles crossing the diagonal need the mask: the first row sees keys < q0+off+1.
        const bool masked = sh.causal && j0 + kc > q0 + off + 1;
        qk_tile<V, Bf16>(kin + j0 * d_len, kc, d_len, s.qt, ldq, s.st);
        softmax_tile_t<V>(s.st, kc, ldq, j0, masked ? s.limit : nullptr, job.scale_log2, s.m, s.l,
                          s.alpha);
        if constexpr (Bf16) {
            const std::int64_t pairs = (kc + 1) / 2;
            for (std::int64_t jp = 0; jp < pairs; ++jp) {
                const float* lo = s.st + 2 * jp * ldq;
                const bool has_hi = 2 * jp + 1 < kc;
                for (std::int64_t r = 0; r < ldq; r += V::W) {
                    V::store_pairs(s.pp + jp * ldq + r, V::load(lo + r),
                                   has_hi ? V::load(lo + ldq + r) : V::zero());
                }
                const E* v0 = vin + (j0 + 2 * jp) * d_len;
                std::uint32_t* dst = s.vp + jp * d_len;
                if (has_hi) {
                    for (std::int64_t d = 0; d < d_len; d += V::W) {
                        V::interleave_rows(v0 + d, v0 + d_len + d, dst + d);
                    }
                } else {
                    for (std::int64_t d = 0; d < d_len; ++d) {
                        dst[d] = v0[d];
                    }
                }
            }
            pv_tile<V, true>(s.pp, ldq, s.vp, d_len, kc, rows, s.o, s.alpha);
        } else {
            pv_tile<V, false>(s.st, ldq, vin + j0 * d_len, d_len, kc, rows, s.o, s.alpha);
        }
    }

    for (std::int64_t r = 0; r < rows; ++r) {
        const std::int64_t h = kvh * g + r / nq;
        float* dst = job.o + ((b * sh.heads_q + h) * sh.seq_q + q0 + r % nq) * d_len;
        const float inv = 1.0F / s.l[r];
        const float* src = s.o + r * d_len;
        for (std::int64_t d = 0; d < d_len; ++d) {
            dst[d] = src[d] * inv;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Decode
// ---------------------------------------------------------------------------------------------
//
// Decode is a stream: every K and V byte is read once from DRAM, and each KV element feeds only
// g = heads_q / heads_kv query rows (2·g FLOP per element). At fp32 KV and g = 4 that is 2 FLOP
// per byte, so on a core with one 512-bit FMA and one 512-bit load per cycle (Zen 4) the kernel
// needs over half the core's FMA peak just to keep up with DRAM, and may not spend many more
// loads than FMAs. Measured on Zen 4 (B=1, 32/8 heads, 64k fp32 KV; a harness pairing each run
// with a plain read of the same buffers, one thread = the per-core bound that a quiet host
// shows, two threads = this VM's usual contended DRAM):
//  - the hardware prefetchers are what reach full bandwidth (a plain read: ~30 GB/s per core),
//    and only while the demand stream is strictly sequential and never pauses for long. A
//    d-outer walk over 4 keys at a time (lines 0, 8, 16, 24, 1, 9, ... of a 2 KiB block), a
//    second pass over a 32 KiB tile from cache, or K and V interleaved finely all cost a third
//    of the bandwidth; software prefetch caps a core near 19 GB/s and slows a sequential walk;
//  - so where a query row fits in 16 vector registers (decode_walks_sequentially) K and V are
//    walked key after key, in 1024-key tiles (long single-stream phases: 0.69-0.73 of the read
//    per core at 64-key tiles, 0.72-0.84 at 1024), every row group taking its turn on each
//    8-key block (4 KiB) while it is in L1. Q·Kᵀ keeps two q rows in registers and loads the
//    other two (3 loads per 4 FMAs) and reduces 2 keys × 4 rows at once (hsum8_pairs, stored
//    from registers); P·V keeps 2 rows × 8 vectors per block. Against the d-outer kernel with
//    software prefetch: 0.64-0.67 → 0.72-0.80 of the read per core, 0.84-0.86 → 0.88-0.95 on
//    two contended threads, in-cache 31 → 40 GB/s per core;
//  - with narrow vectors (a q row needs more than 16 registers) the d-outer blocks stay: Q·Kᵀ
//    runs 4 rows × 4 keys per step with the 4 query vectors loaded once per step, and the tile
//    kDecodePrefetchKeys ahead is software-prefetched into L2 in rising order (0.63 → 0.87 of
//    the read on two contended threads, against no prefetch).

template <class V, Dtype Kv>
inline typename V::F load_kv(const void* base, std::int64_t i) {
    if constexpr (Kv == Dtype::f32) {
        return V::load(static_cast<const float*>(base) + i);
    } else if constexpr (Kv == Dtype::bf16) {
        return V::load_bf16(static_cast<const std::uint16_t*>(base) + i);
    } else {
        return V::load_f16(static_cast<const std::uint16_t*>(base) + i);
    }
}

/// Runs f(row, integral_constant<RB>) over `rows` rows in groups of kMax, then 2, then 1.
template <int kMax, class F>
inline void for_row_groups(std::int64_t rows, F&& f) {
    std::int64_t r = 0;
    for (; rows - r >= kMax; r += kMax) {
        f(r, std::integral_constant<int, kMax>{});
    }
    if constexpr (kMax > 2) {
        for (; rows - r >= 2; r += 2) {
            f(r, std::integral_constant<int, 2>{});
        }
    }
    for (; r < rows; ++r) {
        f(r, std::integral_constant<int, 1>{});
    }
}

/// s[r·stride + c] = horizontal sum of v[2r + c] for r < rows (≤ 4), c < 2: the trait's own
/// hsum8_pairs where it has one (stores straight from registers), else hsum16 over the 8 vectors
/// and 8 zeros.
template <class V>
inline void hsum8_pairs(const typename V::F* v, float* s, std::int64_t stride, int rows) {
    if constexpr (requires { V::hsum8_pairs(v, s, stride, rows); }) {
        V::hsum8_pairs(v, s, stride, rows);
    } else {
        typename V::F all[16];
        for (int i = 0; i < 16; ++i) {
            all[i] = i < 8 ? v[i] : V::zero();
        }
        float sums[16];
        V::hsum16(all, sums);
        for (int r = 0; r < rows; ++r) {
            s[r * stride] = sums[2 * r];
            s[r * stride + 1] = sums[2 * r + 1];
        }
    }
}

/// Query rows of a ≤4-row group whose q vectors the sequential Q·Kᵀ keeps in registers (at most
/// 16 vectors of them); 0 when one row alone is wider than 16 vectors (128-bit vectors at
/// D ≥ 128), where decode takes the d-outer path with software prefetch instead.
template <class V, int D>
inline constexpr int kDecodeQRegRows = !decode_walks_sequentially(D, V::W) ? 0
                                       : 16 / (D / V::W) < 4               ? 16 / (D / V::W)
                                                                           : 4;

/// Keys per block of the sequential decode path: every row group runs over one block (4 KiB of
/// fp32 K at D=128) before the next block is read, so the demand stream never pauses for long.
inline constexpr std::int64_t kDecodeSeqBlockKeys = 8;

/// s[r][j..j+n) = q[r] · K[j..j+n) for RB ≤ 4 rows, n even, K read key after key in address
/// order. Each K vector is loaded once and feeds RB FMAs; the first kDecodeQRegRows rows' q stay
/// in registers, the others are loaded from L1 (so at D=128 on AVX-512: 3 loads per 4 FMAs). Two
/// keys × RB rows of dot products are reduced together (hsum8_pairs).
template <class V, Dtype Kv, int D, int RB>
inline void decode_qk_pairs(const float* q, const void* k, std::int64_t j, std::int64_t n,
                            float* s) {
    constexpr int kVec = D / V::W;
    constexpr int kRegRows = kDecodeQRegRows<V, D> < RB ? kDecodeQRegRows<V, D> : RB;
    static_assert(RB <= 4 && kRegRows >= 1);
    typename V::F qv[kRegRows][kVec];
    for (int r = 0; r < kRegRows; ++r) {
        for (int v = 0; v < kVec; ++v) {
            qv[r][v] = V::load(q + r * D + v * V::W);
        }
    }
    for (std::int64_t jj = j; jj < j + n; jj += 2) {
        typename V::F acc[8];
        for (int i = 0; i < 8; ++i) {
            acc[i] = V::zero();
        }
        for (int c = 0; c < 2; ++c) {
            for (int v = 0; v < kVec; ++v) {
                const typename V::F x = load_kv<V, Kv>(k, (jj + c) * D + v * V::W);
                for (int r = 0; r < RB; ++r) {
                    const typename V::F qr =
                        r < kRegRows ? qv[r < kRegRows ? r : 0][v] : V::load(q + r * D + v * V::W);
                    acc[r * 2 + c] = V::fma(qr, x, acc[r * 2 + c]);
                }
            }
        }
        hsum8_pairs<V>(acc, s + jj, kDecodeScoreStride, RB);
    }
}

/// acc[r][c] += p[r][j] · V[j][d0 + c·W ..] for RB rows and CV column vectors: one key of P·V,
/// each V vector loaded once and used RB times.
template <class V, Dtype Kv, int D, int RB, int CV>
inline void decode_pv_key(const float* p, const void* vv, std::int64_t j, std::int64_t d0,
                          typename V::F (&acc)[RB][CV]) {
    typename V::F pr[RB];
    for (int r = 0; r < RB; ++r) {
        pr[r] = V::set1(p[r * kDecodeScoreStride + j]);
    }
    for (int c = 0; c < CV; ++c) {
        const typename V::F x = load_kv<V, Kv>(vv, j * D + d0 + c * V::W);
        for (int r = 0; r < RB; ++r) {
            acc[r][c] = V::fma(pr[r], x, acc[r][c]);
        }
    }
}

/// Prefetches bytes [from, from + bytes) into L2 (locality 2 = prefetcht1 on x86, PLDL2KEEP on
/// aarch64), one request per cache line, in rising order.
inline void prefetch_l2(const unsigned char* from, std::int64_t bytes) {
    for (std::int64_t off = 0; off < bytes; off += 64) {
        __builtin_prefetch(from + off, 0, 2);
    }
}

/// o[r][..] = o[r][..]·alpha[r] (alpha may be null: no scaling) + Σ_j p[r][j] · V[j][..] for RB
/// rows over keys [j, j + n), V read row after row; the RB × CV accumulators are loaded from o
/// (in L1) and stored back per column chunk. Each V vector is loaded once and used RB times.
/// With Ahead, each V row `ahead` bytes on (the tile kDecodePrefetchKeys ahead) is prefetched
/// into L2 as the first column chunk reads the same row of this tile.
template <class V, Dtype Kv, int D, int RB, bool Ahead = false>
inline void decode_pv_keys(const float* p, const void* vv, std::int64_t j, std::int64_t n, float* o,
                           const float* alpha, const unsigned char* ahead = nullptr) {
    constexpr int kVec = D / V::W;
    constexpr int kCv = 16 / RB < kVec ? 16 / RB : kVec;
    constexpr std::int64_t kRowBytes = D * (Kv == Dtype::f32 ? 4 : 2);
    static_assert(kVec % kCv == 0);
    for (int d0 = 0; d0 < D; d0 += kCv * V::W) {
        typename V::F acc[RB][kCv];
        for (int r = 0; r < RB; ++r) {
            const typename V::F a = V::set1(alpha != nullptr ? alpha[r] : 1.0F);
            for (int c = 0; c < kCv; ++c) {
                acc[r][c] = V::load(o + r * D + d0 + c * V::W);
                if (alpha != nullptr) {
                    acc[r][c] = V::mul(acc[r][c], a);
                }
            }
        }
        for (std::int64_t jj = j; jj < j + n; ++jj) {
            if constexpr (Ahead) {
                if (d0 == 0) {
                    prefetch_l2(ahead + jj * kRowBytes, kRowBytes);
                }
            }
            decode_pv_key<V, Kv, D, RB, kCv>(p, vv, jj, d0, acc);
        }
        for (int r = 0; r < RB; ++r) {
            for (int c = 0; c < kCv; ++c) {
                V::store(o + r * D + d0 + c * V::W, acc[r][c]);
            }
        }
    }
}

/// s[r][j + c] = q[r] · K[j + c] for RB rows × KB keys (RB·KB = 16 accumulators), D/W steps of
/// RB query loads + KB key loads + 16 FMAs; the 16 dot products are reduced together (hsum16).
/// With Ahead, the same bytes of the tile kDecodePrefetchKeys ahead (`ahead`) are prefetched
/// into L2 step by step, one request per cache line, mirroring this block's K reads.
template <class V, Dtype Kv, int D, int RB, bool Ahead>
inline void decode_qk_block(const float* q, const void* k, std::int64_t j, float* s,
                            const unsigned char* ahead) {
    constexpr int kKb = 16 / RB;
    constexpr std::int64_t kStepBytes = V::W * (Kv == Dtype::f32 ? 4 : 2);
    typename V::F acc[16];
    for (int i = 0; i < 16; ++i) {
        acc[i] = V::zero();
    }
    for (int d = 0; d < D; d += V::W) {
        typename V::F qv[RB];
        for (int r = 0; r < RB; ++r) {
            qv[r] = V::load(q + r * D + d);
        }
        for (int c = 0; c < kKb; ++c) {
            const typename V::F kv = load_kv<V, Kv>(k, (j + c) * D + d);
            if constexpr (Ahead) {
                const std::int64_t at = (j * D + (d / V::W * kKb + c) * V::W) * kStepBytes / V::W;
                if (at % 64 == 0) {
                    __builtin_prefetch(ahead + at, 0, 2);
                }
            }
            for (int r = 0; r < RB; ++r) {
                acc[r * kKb + c] = V::fma(qv[r], kv, acc[r * kKb + c]);
            }
        }
    }
    float out[16];
    V::hsum16(acc, out);
    for (int r = 0; r < RB; ++r) {
        for (int c = 0; c < kKb; ++c) {
            s[r * kDecodeScoreStride + j + c] = out[r * kKb + c];
        }
    }
}

/// One key, RB rows (the keys of a tile past its last whole block).
template <class V, Dtype Kv, int D, int RB>
inline void decode_qk_one(const float* q, const void* k, std::int64_t j, float* s) {
    typename V::F acc[RB];
    for (int r = 0; r < RB; ++r) {
        acc[r] = V::zero();
    }
    for (int d = 0; d < D; d += V::W) {
        const typename V::F kv = load_kv<V, Kv>(k, j * D + d);
        for (int r = 0; r < RB; ++r) {
            acc[r] = V::fma(V::load(q + r * D + d), kv, acc[r]);
        }
    }
    for (int r = 0; r < RB; ++r) {
        s[r * kDecodeScoreStride + j] = V::hsum(acc[r]);
    }
}

template <class V, Dtype Kv, int D, int RB, bool Ahead>
inline void decode_qk_rows(const float* q, const void* k, std::int64_t kc, float* s,
                           const unsigned char* ahead) {
    constexpr int kKb = 16 / RB;
    std::int64_t j = 0;
    for (; j + kKb <= kc; j += kKb) {
        decode_qk_block<V, Kv, D, RB, Ahead>(q, k, j, s, ahead);
    }
    for (; j < kc; ++j) {
        decode_qk_one<V, Kv, D, RB>(q, k, j, s);
    }
}

/// One decode work item at head dim D: partial softmax state of its rows over its kv chunk.
template <class V, Dtype Kv, int D>
void decode_item_d(const DecodeJob& job, std::int64_t item, const DecodeScratch& s) {
    const Shape& sh = job.shape;
    const std::int64_t g = sh.heads_q / sh.heads_kv;
    const std::int64_t rows = g * sh.seq_q;
    const std::int64_t bkv = item / job.chunks;
    const std::int64_t chunk = item % job.chunks;
    const std::int64_t b = bkv / sh.heads_kv;
    const std::int64_t kvh = bkv % sh.heads_kv;
    const std::int64_t c0 = chunk * job.chunk_len;
    const std::int64_t c1 = min64(sh.seq_kv, c0 + job.chunk_len);
    const std::int64_t off = sh.seq_kv - sh.seq_q;

    for (std::int64_t r = 0; r < rows; ++r) {
        const std::int64_t h = kvh * g + r / sh.seq_q;
        const std::int64_t i = r % sh.seq_q;
        const std::int64_t base = ((b * sh.heads_q + h) * sh.seq_q + i) * D;
        for (std::int64_t d = 0; d < D; ++d) {
            s.q[r * D + d] = load_scalar(job.q_dtype, job.q, base + d);
        }
        s.limit[r] = static_cast<std::int32_t>(sh.causal ? i + off + 1 : sh.seq_kv);
        s.m[r] = kNegInf;
        s.l[r] = 0;
    }
    fill_zero(s.o, rows * D);

    constexpr std::int64_t kEs = Kv == Dtype::f32 ? 4 : 2;
    constexpr std::int64_t kRowBytes = D * kEs;
    const auto* kbase = static_cast<const unsigned char*>(job.k) + bkv * sh.seq_kv * kRowBytes;
    const auto* vbase = static_cast<const unsigned char*>(job.v) + bkv * sh.seq_kv * kRowBytes;
    const typename V::F neg_inf = V::set1(kNegInf);
    // Online softmax of one tile's scores (keys [j0, j0 + kc), rows of kDecodeScoreStride at sb,
    // in place): keys past a row's causal limit or the tile's end are masked, the scores become
    // P, and m, l and alpha (the factor the row's O must be scaled by before this tile's P·V) are
    // updated.
    const auto softmax_tile = [&](std::int64_t j0, std::int64_t kc, float* sb) {
        const std::int64_t width = (kc + V::W - 1) / V::W * V::W;
        for (std::int64_t r = 0; r < rows; ++r) {
            float* sr = sb + r * kDecodeScoreStride;
            const std::int64_t valid = min64(kc, s.limit[r] - j0);
            typename V::F mx = neg_inf;
            for (std::int64_t j = 0; j < width; j += V::W) {
                const typename V::F x = V::mask_tail(V::load(sr + j), valid - j);
                V::store(sr + j, x);
                mx = V::max(mx, x);
            }
            const float tile_max = V::hmax(mx) * job.scale_log2;
            const float m_new = s.m[r] > tile_max ? s.m[r] : tile_max;
            const float m_use = m_new == kNegInf ? 0.0F : m_new;
            typename V::F sum = V::zero();
            const typename V::F scale = V::set1(job.scale_log2);
            const typename V::F neg_m = V::set1(-m_use);
            for (std::int64_t j = 0; j < width; j += V::W) {
                const typename V::F p = V::exp2(V::fma(V::load(sr + j), scale, neg_m));
                V::store(sr + j, p);
                sum = V::add(sum, p);
            }
            // The C function, not std::exp2's inline wrapper (see the note on linkage above).
            const float a = ::exp2f(s.m[r] - m_use);
            s.alpha[r] = a;
            s.l[r] = s.l[r] * a + V::hsum(sum);
            s.m[r] = m_new;
        }
    };
    constexpr int kPvRows = D / V::W >= 8 ? 2 : 4;

    if constexpr (kDecodeQRegRows < V, D >> 0) {
        // Sequential walk, hardware prefetch (see the decode notes above).
        // Keys [j, j + n) of the tile at j0 (n ≤ kDecodeSeqBlockKeys).
        const auto qk_keys = [&](std::int64_t j0, float* sb, std::int64_t j, std::int64_t n) {
            const unsigned char* kt = kbase + j0 * kRowBytes;
            const std::int64_t pairs = n - n % 2;
            if (pairs > 0) {
                for_row_groups<4>(rows, [&](std::int64_t r, auto rb) {
                    decode_qk_pairs<V, Kv, D, decltype(rb)::value>(s.q + r * D, kt, j, pairs,
                                                                   sb + r * kDecodeScoreStride);
                });
            }
            if (pairs < n) {
                for_row_groups<4>(rows, [&](std::int64_t r, auto rb) {
                    decode_qk_one<V, Kv, D, decltype(rb)::value>(s.q + r * D, kt, j + pairs,
                                                                 sb + r * kDecodeScoreStride);
                });
            }
        };
        const auto pv_keys = [&](std::int64_t j0, const float* sb, std::int64_t j, std::int64_t n) {
            const unsigned char* vt = vbase + j0 * kRowBytes;
            for_row_groups<kPvRows>(rows, [&](std::int64_t r, auto rb) {
                decode_pv_keys<V, Kv, D, decltype(rb)::value>(sb + r * kDecodeScoreStride, vt, j, n,
                                                              s.o + r * D,
                                                              j == 0 ? s.alpha + r : nullptr);
            });
        };
        for (std::int64_t j0 = c0; j0 < c1; j0 += kDecodeSeqTileKeys) {
            const std::int64_t kc = min64(kDecodeSeqTileKeys, c1 - j0);
            for (std::int64_t j = 0; j < kc; j += kDecodeSeqBlockKeys) {
                qk_keys(j0, s.s, j, min64(kDecodeSeqBlockKeys, kc - j));
            }
            softmax_tile(j0, kc, s.s);
            for (std::int64_t j = 0; j < kc; j += kDecodeSeqBlockKeys) {
                pv_keys(j0, s.s, j, min64(kDecodeSeqBlockKeys, kc - j));
            }
        }
    } else {
        // Narrow vectors (q rows do not fit in registers): d-outer blocks, software prefetch.
        for (std::int64_t j0 = c0; j0 < c1; j0 += kDecodeKvBlock) {
            const std::int64_t kc = min64(kDecodeKvBlock, c1 - j0);
            const unsigned char* kt = kbase + j0 * kRowBytes;
            const unsigned char* vt = vbase + j0 * kRowBytes;
            // The tile kDecodePrefetchKeys ahead, within this chunk (the next chunk belongs to
            // another work item, maybe on another core). Only whole tiles are prefetched (the
            // last tile of a chunk is the only short one).
            const bool ahead = j0 + kDecodePrefetchKeys + kc <= c1;
            const auto qk = [&](auto pre) {
                for_row_groups<4>(rows, [&](std::int64_t r, auto rb) {
                    constexpr bool kAhead = decltype(pre)::value;
                    if (kAhead && r == 0) {
                        decode_qk_rows<V, Kv, D, decltype(rb)::value, true>(
                            s.q + r * D, kt, kc, s.s + r * kDecodeScoreStride,
                            kt + kDecodePrefetchKeys * kRowBytes);
                    } else {
                        decode_qk_rows<V, Kv, D, decltype(rb)::value, false>(
                            s.q + r * D, kt, kc, s.s + r * kDecodeScoreStride, nullptr);
                    }
                });
            };
            if (ahead) {
                qk(std::true_type{});
            } else {
                qk(std::false_type{});
            }
            softmax_tile(j0, kc, s.s);
            for_row_groups<kPvRows>(rows, [&](std::int64_t r, auto rb) {
                constexpr int kRb = decltype(rb)::value;
                if (ahead && r == 0) {
                    decode_pv_keys<V, Kv, D, kRb, true>(s.s + r * kDecodeScoreStride, vt, 0, kc,
                                                        s.o + r * D, s.alpha + r,
                                                        vt + kDecodePrefetchKeys * kRowBytes);
                } else {
                    decode_pv_keys<V, Kv, D, kRb>(s.s + r * kDecodeScoreStride, vt, 0, kc,
                                                  s.o + r * D, s.alpha + r);
                }
            });
        }
    }

    float* part = job.partial + item * rows * (2 + D);
    for (std::int64_t r = 0; r < rows; ++r) {
        float* dst = part + r * (2 + D);
        dst[0] = s.m[r];
        dst[1] = s.l[r];
        for (std::int64_t d = 0; d < D; ++d) {
            dst[2 + d] = s.o[r * D + d];
        }
    }
}

/// One decode work item (head_dim is 64, 128 or 256: FlashAttentionCpu checks it).
template <class V, Dtype Kv>
void decode_item(const DecodeJob& job, std::int64_t item, const DecodeScratch& s) {
    switch (job.shape.head_dim) {
        case 64:
            decode_item_d<V, Kv, 64>(job, item, s);
            break;
        case 128:
            decode_item_d<V, Kv, 128>(job, item, s);
            break;
        default:
            decode_item_d<V, Kv, 256>(job, item, s);
            break;
    }
}

/// The kernel set of one vector trait (bf16 prefill only when V has it).
template <class V>
KernelSet make_kernel_set(const char* name) {
    KernelSet k;
    k.name = name;
    k.vector_floats = V::W;
    k.prefill_f32 = &prefill_item<V, false>;
    if constexpr (V::kBf16) {
        k.prefill_bf16 = &prefill_item<V, true>;
    }
    k.decode_kv_f32 = &decode_item<V, Dtype::f32>;
    k.decode_kv_bf16 = &decode_item<V, Dtype::bf16>;
    k.decode_kv_f16 = &decode_item<V, Dtype::f16>;
    return k;
}

}  // namespace
}  // namespace assay::attention::detail
