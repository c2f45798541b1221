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

inline constexpr int kDecodeRowGroup = 4;
/// Decode streams K and V once from DRAM. While the scores of a K tile are computed, the V rows
/// of the same keys are prefetched in rising address order for the P·V pass that follows.
/// Measured on Zen 4 (B=1, 32/8 heads, 64k fp32 KV): prefetching V one or two tiles ahead, or K
/// ahead too, was no faster or slower; larger tiles (64 keys) no faster either.
inline constexpr bool kDecodeSoftwarePrefetch = true;

template <Dtype Kv>
inline void prefetch_kv(const void* base, std::int64_t i) {
    __builtin_prefetch(static_cast<const unsigned char*>(base) +
                       i * static_cast<std::int64_t>(Kv == Dtype::f32 ? 4 : 2));
}

/// s[r][j] = q[r] · K[j] for RB rows × KB keys at once (RB·KB = 16 accumulators; q fp32
/// [rows][D] from L1, K tile from memory, each K vector widened once and used RB times). The 16
/// dot products are reduced together (V::hsum16), far cheaper than 16 horizontal sums.
template <class V, Dtype Kv, int RB, int KB>
inline void decode_qk_block(const float* q, const void* k, const void* vv, std::int64_t j,
                            std::int64_t d_len, float* s) {
    static_assert(RB * KB == 16);
    typename V::F acc[16];
    for (int i = 0; i < 16; ++i) {
        acc[i] = V::zero();
    }
    // Key by key, each key's row read front to back: the addresses of a tile rise monotonically,
    // which the hardware stream prefetchers follow (a column-wise walk over the tile's rows —
    // 16 rows 512 B apart, stepping 64 B — was seen to defeat them: 15 GB/s against 56 GB/s
    // STREAM sum on Zen 4). The V rows of the same keys are prefetched in the same rising order
    // for the P·V pass that follows.
    for (int c = 0; c < KB; ++c) {
        for (std::int64_t d = 0; d < d_len; d += V::W) {
            const typename V::F kv = load_kv<V, Kv>(k, (j + c) * d_len + d);
            if constexpr (kDecodeSoftwarePrefetch) {
                prefetch_kv<Kv>(vv, (j + c) * d_len + d);
            }
            for (int r = 0; r < RB; ++r) {
                acc[r * KB + c] = V::fma(V::load(q + r * d_len + d), kv, acc[r * KB + c]);
            }
        }
    }
    float out[16];
    V::hsum16(acc, out);
    for (int r = 0; r < RB; ++r) {
        for (int c = 0; c < KB; ++c) {
            s[r * kDecodeKvBlock + j + c] = out[r * KB + c];
        }
    }
}

/// One key, RB rows (tile tails).
template <class V, Dtype Kv, int RB>
inline void decode_qk_one(const float* q, const void* k, std::int64_t j, std::int64_t d_len,
                          float* s) {
    typename V::F acc[RB];
    for (int r = 0; r < RB; ++r) {
        acc[r] = V::zero();
    }
    for (std::int64_t d = 0; d < d_len; d += V::W) {
        const typename V::F kv = load_kv<V, Kv>(k, j * d_len + d);
        for (int r = 0; r < RB; ++r) {
            acc[r] = V::fma(V::load(q + r * d_len + d), kv, acc[r]);
        }
    }
    for (int r = 0; r < RB; ++r) {
        s[r * kDecodeKvBlock + j] = V::hsum(acc[r]);
    }
}

template <class V, Dtype Kv, int RB>
inline void decode_qk_rows(const float* q, const void* k, const void* vv, std::int64_t kc,
                           std::int64_t d_len, float* s) {
    constexpr int kKb = 16 / RB;
    std::int64_t j = 0;
    for (; j + kKb <= kc; j += kKb) {
        decode_qk_block<V, Kv, RB, kKb>(q, k, vv, j, d_len, s);
    }
    for (; j < kc; ++j) {
        decode_qk_one<V, Kv, RB>(q, k, j, d_len, s);
    }
}

/// o[r][cols] = o·alpha[r] + Σ_j p[r][j] V[j][cols] for RB rows, 4 vectors of columns at a time
/// (RB·4 accumulators; each V vector widened once and used RB times).
template <class V, Dtype Kv, int RB>
inline void decode_pv_rows(const float* p, const void* vv, std::int64_t kc, std::int64_t d_len,
                           float* o, const float* alpha) {
    constexpr int kNv = 4;
    for (std::int64_t d = 0; d < d_len; d += kNv * V::W) {
        typename V::F acc[RB][kNv];
        for (int r = 0; r < RB; ++r) {
            const typename V::F a = V::set1(alpha[r]);
            for (int c = 0; c < kNv; ++c) {
                acc[r][c] = V::mul(V::load(o + r * d_len + d + c * V::W), a);
            }
        }
        for (std::int64_t j = 0; j < kc; ++j) {
            typename V::F x[kNv];
            for (int c = 0; c < kNv; ++c) {
                x[c] = load_kv<V, Kv>(vv, j * d_len + d + c * V::W);
            }
            for (int r = 0; r < RB; ++r) {
                const typename V::F pr = V::set1(p[r * kDecodeKvBlock + j]);
                for (int c = 0; c < kNv; ++c) {
                    acc[r][c] = V::fma(pr, x[c], acc[r][c]);
                }
            }
        }
        for (int r = 0; r < RB; ++r) {
            for (int c = 0; c < kNv; ++c) {
                V::store(o + r * d_len + d + c * V::W, acc[r][c]);
            }
        }
    }
}

template <class V, Dtype Kv, bool Pv>
inline void decode_rows(std::int64_t rows, const float* q_or_p, const void* kv, const void* kv_next,
                        std::int64_t kc, std::int64_t d_len, float* s_or_o, const float* alpha) {
    std::int64_t r = 0;
    const auto call = [&](auto rb) {
        constexpr int kRb = decltype(rb)::value;
        if constexpr (Pv) {
            decode_pv_rows<V, Kv, kRb>(q_or_p + r * kDecodeKvBlock, kv, kc, d_len,
                                       s_or_o + r * d_len, alpha + r);
        } else {
            decode_qk_rows<V, Kv, kRb>(q_or_p + r * d_len, kv, kv_next, kc, d_len,
                                       s_or_o + r * kDecodeKvBlock);
        }
        r += kRb;
    };
    while (rows - r >= kDecodeRowGroup) {
        call(std::integral_constant<int, kDecodeRowGroup>{});
    }
    switch (rows - r) {
        case 3:
            call(std::integral_constant<int, 2>{});
            call(std::integral_constant<int, 1>{});
            break;
        case 2:
            call(std::integral_constant<int, 2>{});
            break;
        case 1:
            call(std::integral_constant<int, 1>{});
            break;
        default:
            break;
    }
}

/// One decode work item: partial softmax state of its rows over its kv chunk.
template <class V, Dtype Kv>
void decode_item(const DecodeJob& job, std::int64_t item, const DecodeScratch& s) {
    const Shape& sh = job.shape;
    const std::int64_t d_len = sh.head_dim;
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
        const std::int64_t base = ((b * sh.heads_q + h) * sh.seq_q + i) * d_len;
        for (std::int64_t d = 0; d < d_len; ++d) {
            s.q[r * d_len + d] = load_scalar(job.q_dtype, job.q, base + d);
        }
        s.limit[r] = static_cast<std::int32_t>(sh.causal ? i + off + 1 : sh.seq_kv);
        s.m[r] = kNegInf;
        s.l[r] = 0;
    }
    fill_zero(s.o, rows * d_len);

    const std::int64_t es = static_cast<std::int64_t>(dtype_bytes(Kv));
    const auto* kbase = static_cast<const unsigned char*>(job.k) + bkv * sh.seq_kv * d_len * es;
    const auto* vbase = static_cast<const unsigned char*>(job.v) + bkv * sh.seq_kv * d_len * es;
    const typename V::F neg_inf = V::set1(kNegInf);
    for (std::int64_t j0 = c0; j0 < c1; j0 += kDecodeKvBlock) {
        const std::int64_t kc = min64(kDecodeKvBlock, c1 - j0);
        const void* kt = kbase + j0 * d_len * es;
        const void* vt = vbase + j0 * d_len * es;
        decode_rows<V, Kv, false>(rows, s.q, kt, vt, kc, d_len, s.s, nullptr);
        for (std::int64_t r = 0; r < rows; ++r) {
            float* sr = s.s + r * kDecodeKvBlock;
            const std::int64_t valid = min64(kc, s.limit[r] - j0);
            typename V::F mx = neg_inf;
            for (std::int64_t j = 0; j < kDecodeKvBlock; j += V::W) {
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
            for (std::int64_t j = 0; j < kDecodeKvBlock; j += V::W) {
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
        decode_rows<V, Kv, true>(rows, s.s, vt, nullptr, kc, d_len, s.o, s.alpha);
    }

    float* part = job.partial + item * rows * (2 + d_len);
    for (std::int64_t r = 0; r < rows; ++r) {
        float* dst = part + r * (2 + d_len);
        dst[0] = s.m[r];
        dst[1] = s.l[r];
        for (std::int64_t d = 0; d < d_len; ++d) {
            dst[2 + d] = s.o[r * d_len + d];
        }
    }
}

/// The kernel set of one vector trait (bf16 prefill only when V has it).
template <class V>
KernelSet make_kernel_set(const char* name) {
    KernelSet k;
    k.name = name;
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
