#include "benches/attention_cases.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <tuple>
#include <utility>

namespace assay {
namespace attention {
namespace {

constexpr double kUnitRoundoff = 1.0 / 16777216.0;  // 2^-24, fp32

std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30U)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27U)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31U);
}

/// Uniform in [-1, 1) from 24 random bits: exactly representable in fp32.
float uniform_pm1(std::uint64_t seed, std::uint64_t index) {
    const std::uint64_t r = splitmix64(seed * 0xD1B54A32D192ED03ULL + index);
    const auto bits = static_cast<std::uint32_t>(r >> 40U);  // 24 bits
    return static_cast<float>(bits) * (2.0F / 16777216.0F) - 1.0F;
}

std::uint32_t float_bits(float f) {
    std::uint32_t u = 0;
    std::memcpy(&u, &f, sizeof u);
    return u;
}

float bits_float(std::uint32_t u) {
    float f = 0;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

/// Relative rounding allowance of P (and exp) in the kernel's compute dtype.
double p_allowance(Dtype compute) {
    switch (compute) {
        case Dtype::f32:
            return 1.0 / 1048576.0;  // 2^-20: fast exp
        case Dtype::bf16:
            return 1.0 / 256.0;  // 2^-8
        case Dtype::f16:
            return 1.0 / 2048.0;  // 2^-11
    }
    return 1.0 / 256.0;
}

/// Relative rounding of a value stored in dtype (0 for fp32 outputs: the kernel writes fp32).
double storage_allowance(Dtype d) {
    return d == Dtype::f32 ? 0.0 : p_allowance(d);
}

std::int64_t visible_keys(const Shape& s, std::int64_t query) {
    if (!s.causal) {
        return s.seq_kv;
    }
    const std::int64_t last = query + (s.seq_kv - s.seq_q);  // last visible key index
    return std::clamp<std::int64_t>(last + 1, 0, s.seq_kv);
}

std::string causal_text(bool causal) {
    return causal ? "true" : "false";
}

AttentionCase make_prefill(const Preset& p, std::int64_t seq, bool causal, Dtype dtype,
                           bool quick) {
    AttentionCase c;
    c.phase = Phase::prefill;
    c.preset = p.name;
    c.shape.batch = 1;
    c.shape.heads_q = p.heads_q;
    c.shape.heads_kv = p.heads_kv;
    c.shape.head_dim = p.head_dim;
    c.shape.seq_q = seq;
    c.shape.seq_kv = seq;
    c.shape.causal = causal;
    c.q_dtype = dtype;
    c.kv_dtype = dtype;
    c.suites = quick ? std::vector<std::string>{"quick", "full"} : std::vector<std::string>{"full"};
    return c;
}

AttentionCase make_decode(const Preset& p, std::int64_t batch, std::int64_t kv_len, Dtype q,
                          Dtype kv, bool quick) {
    AttentionCase c;
    c.phase = Phase::decode;
    c.preset = p.name;
    c.shape.batch = batch;
    c.shape.heads_q = p.heads_q;
    c.shape.heads_kv = p.heads_kv;
    c.shape.head_dim = p.head_dim;
    c.shape.seq_q = 1;
    c.shape.seq_kv = kv_len;
    c.shape.causal = false;
    c.q_dtype = q;
    c.kv_dtype = kv;
    c.suites = quick ? std::vector<std::string>{"quick", "full"} : std::vector<std::string>{"full"};
    return c;
}

}  // namespace

const char* dtype_param(Dtype d) {
    switch (d) {
        case Dtype::f32:
            return "f32";
        case Dtype::bf16:
            return "bf16";
        case Dtype::f16:
            return "f16";
    }
    return "?";
}

std::optional<Dtype> dtype_from_param(const std::string& name) {
    for (const Dtype d : {Dtype::f32, Dtype::bf16, Dtype::f16}) {
        if (name == dtype_param(d)) {
            return d;
        }
    }
    return std::nullopt;
}

std::size_t element_bytes(Dtype d) {
    return d == Dtype::f32 ? 4 : 2;
}

const std::vector<Preset>& presets() {
    static const std::vector<Preset> all = {
        {"llama3_8b", 32, 8, 128},
        {"llama3_70b", 64, 8, 128},
        {"mha_d128", 32, 32, 128},
        {"gqa4_d64", 32, 8, 64},
    };
    return all;
}

std::optional<Preset> find_preset(const std::string& name) {
    for (const Preset& p : presets()) {
        if (name == p.name) {
            return p;
        }
    }
    return std::nullopt;
}

std::vector<AttentionCase> prefill_cases() {
    std::vector<AttentionCase> out;
    const std::vector<Preset>& ps = presets();
    for (const Dtype dtype : {Dtype::f32, Dtype::bf16, Dtype::f16}) {
        for (const std::int64_t seq : {512, 1024, 2048, 4096, 8192, 16384}) {
            for (const bool causal : {true, false}) {
                const bool quick = dtype == Dtype::f32 && causal && (seq == 512 || seq == 2048);
                out.push_back(make_prefill(ps[0], seq, causal, dtype, quick));
            }
        }
        for (const std::int64_t seq : {512, 2048, 8192}) {
            for (const bool causal : {true, false}) {
                out.push_back(make_prefill(ps[1], seq, causal, dtype, false));
            }
            out.push_back(make_prefill(ps[2], seq, true, dtype, false));
            out.push_back(make_prefill(ps[3], seq, true, dtype, false));
        }
    }
    return out;
}

std::vector<AttentionCase> decode_cases() {
    std::vector<AttentionCase> out;
    const std::vector<Preset>& ps = presets();
    const std::pair<Dtype, Dtype> pairs[] = {{Dtype::f32, Dtype::f32},
                                             {Dtype::f32, Dtype::bf16},
                                             {Dtype::f32, Dtype::f16},
                                             {Dtype::bf16, Dtype::bf16},
                                             {Dtype::f16, Dtype::f16}};
    for (const auto& [q, kv] : pairs) {
        for (const std::int64_t kv_len : {1024, 4096, 16384, 65536, 131072}) {
            for (const std::int64_t batch : {1, 8, 64}) {
                // The quick decode case reads 128 MiB of fp32 K+V: beyond the LLC of most
                // hosts, so the quick suite reports a DRAM-bound figure (reports flag it
                // otherwise).
                const bool quick =
                    q == Dtype::f32 && kv == Dtype::f32 && batch == 1 && kv_len == 16384;
                out.push_back(make_decode(ps[0], batch, kv_len, q, kv, quick));
            }
        }
        for (const std::size_t pi : {std::size_t{1}, std::size_t{2}}) {
            for (const std::int64_t kv_len : {4096, 65536}) {
                for (const std::int64_t batch : {1, 8}) {
                    out.push_back(make_decode(ps[pi], batch, kv_len, q, kv, false));
                }
            }
        }
    }
    return out;
}

const char* benchmark_name(Phase phase) {
    return phase == Phase::prefill ? kPrefillBenchmark : kDecodeBenchmark;
}

std::map<std::string, std::string> case_params(const AttentionCase& c) {
    std::map<std::string, std::string> p;
    p["dtype"] = dtype_param(c.q_dtype);
    p["batch"] = std::to_string(c.shape.batch);
    p["heads_q"] = std::to_string(c.shape.heads_q);
    p["heads_kv"] = std::to_string(c.shape.heads_kv);
    p["head_dim"] = std::to_string(c.shape.head_dim);
    p["preset"] = c.preset;
    if (c.phase == Phase::prefill) {
        p["seq"] = std::to_string(c.shape.seq_q);
        p["causal"] = causal_text(c.shape.causal);
    } else {
        p["kv_dtype"] = dtype_param(c.kv_dtype);
        p["kv_len"] = std::to_string(c.shape.seq_kv);
    }
    return p;
}

double unmasked_pairs(const Shape& s) {
    if (!s.causal) {
        return static_cast<double>(s.seq_q) * static_cast<double>(s.seq_kv);
    }
    // Query i sees min(S_kv, max(0, i + S_kv - S_q + 1)) keys; S_q is at most a few 10^4.
    double total = 0;
    for (std::int64_t i = 0; i < s.seq_q; ++i) {
        total += static_cast<double>(visible_keys(s, i));
    }
    return total;
}

double attention_flops(const Shape& s) {
    return 4.0 * static_cast<double>(s.batch) * static_cast<double>(s.heads_q) *
           static_cast<double>(s.head_dim) * unmasked_pairs(s);
}

double kv_bytes(const Shape& s, Dtype kv_dtype) {
    return 2.0 * static_cast<double>(kv_elements(s)) * static_cast<double>(element_bytes(kv_dtype));
}

double decode_bytes(const Shape& s, Dtype q_dtype, Dtype kv_dtype) {
    const auto q = static_cast<double>(q_elements(s));
    return kv_bytes(s, kv_dtype) + q * static_cast<double>(element_bytes(q_dtype)) + q * 4.0;
}

std::size_t q_elements(const Shape& s) {
    return static_cast<std::size_t>(s.batch * s.heads_q * s.seq_q * s.head_dim);
}

std::size_t kv_elements(const Shape& s) {
    return static_cast<std::size_t>(s.batch * s.heads_kv * s.seq_kv * s.head_dim);
}

std::string shape_label(const AttentionCase& c) {
    std::ostringstream os;
    os << 'B' << c.shape.batch << " H" << c.shape.heads_q << '/' << c.shape.heads_kv << " D"
       << c.shape.head_dim;
    if (c.phase == Phase::prefill) {
        os << " S" << c.shape.seq_q << (c.shape.causal ? " causal" : "");
    } else {
        os << " KV" << c.shape.seq_kv;
    }
    return os.str();
}

void check_shape(const Shape& s) {
    if (s.batch <= 0 || s.heads_q <= 0 || s.heads_kv <= 0 || s.head_dim <= 0 || s.seq_q <= 0 ||
        s.seq_kv <= 0) {
        throw std::invalid_argument("attention shape: every size must be positive");
    }
    if (s.heads_q % s.heads_kv != 0) {
        throw std::invalid_argument("attention shape: heads_q must be a multiple of heads_kv");
    }
}

std::uint16_t float_to_bf16_bits(float f) {
    const std::uint32_t u = float_bits(f);
    if ((u & 0x7FFFFFFFU) > 0x7F800000U) {
        return static_cast<std::uint16_t>((u >> 16U) | 0x0040U);  // quiet NaN
    }
    const std::uint32_t rounding = 0x7FFFU + ((u >> 16U) & 1U);
    return static_cast<std::uint16_t>((u + rounding) >> 16U);
}

float bf16_bits_to_float(std::uint16_t b) {
    return bits_float(static_cast<std::uint32_t>(b) << 16U);
}

std::uint16_t float_to_fp16_bits(float f) {
    const std::uint32_t u = float_bits(f);
    const auto sign = static_cast<std::uint16_t>((u >> 16U) & 0x8000U);
    const std::uint32_t abs = u & 0x7FFFFFFFU;
    if (abs > 0x7F800000U) {
        return static_cast<std::uint16_t>(sign | 0x7E00U);
    }
    if (abs >= 0x477FF000U) {  // rounds to >= 65520: overflow to infinity
        return static_cast<std::uint16_t>(sign | 0x7C00U);
    }
    if (abs < 0x38800000U) {  // below 2^-14: subnormal half (or zero)
        // Scale to units of 2^-24 and round to nearest even.
        const float scaled = bits_float(abs) * 16777216.0F;
        const float r = std::nearbyint(scaled);
        return static_cast<std::uint16_t>(sign | static_cast<std::uint16_t>(r));
    }
    const std::uint32_t rebias = abs - 0x38000000U;  // exponent 127 -> 15
    const std::uint32_t rounding = 0x0FFFU + ((rebias >> 13U) & 1U);
    return static_cast<std::uint16_t>(sign | ((rebias + rounding) >> 13U));
}

float fp16_bits_to_float(std::uint16_t h) {
    const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000U) << 16U;
    const std::uint32_t exp = (h >> 10U) & 0x1FU;
    const std::uint32_t mant = h & 0x3FFU;
    if (exp == 0) {
        const float v = static_cast<float>(mant) / 16777216.0F;  // mant · 2^-24
        return sign != 0 ? -v : v;
    }
    if (exp == 0x1F) {
        return bits_float(sign | 0x7F800000U | (mant << 13U));
    }
    return bits_float(sign | ((exp + 112U) << 23U) | (mant << 13U));
}

void fill_random(void* data, Dtype dtype, std::size_t begin, std::size_t end, std::uint64_t seed) {
    switch (dtype) {
        case Dtype::f32: {
            auto* p = static_cast<float*>(data);
            for (std::size_t i = begin; i < end; ++i) {
                p[i] = uniform_pm1(seed, i);
            }
            break;
        }
        case Dtype::bf16: {
            auto* p = static_cast<std::uint16_t*>(data);
            for (std::size_t i = begin; i < end; ++i) {
                p[i] = float_to_bf16_bits(uniform_pm1(seed, i));
            }
            break;
        }
        case Dtype::f16: {
            auto* p = static_cast<std::uint16_t*>(data);
            for (std::size_t i = begin; i < end; ++i) {
                p[i] = float_to_fp16_bits(uniform_pm1(seed, i));
            }
            break;
        }
    }
}

double load_element(const void* data, Dtype dtype, std::size_t index) {
    switch (dtype) {
        case Dtype::f32:
            return static_cast<double>(static_cast<const float*>(data)[index]);
        case Dtype::bf16:
            return static_cast<double>(
                bf16_bits_to_float(static_cast<const std::uint16_t*>(data)[index]));
        case Dtype::f16:
            return static_cast<double>(
                fp16_bits_to_float(static_cast<const std::uint16_t*>(data)[index]));
    }
    return 0;
}

void store_element(void* data, Dtype dtype, std::size_t index, double value) {
    const auto f = static_cast<float>(value);
    switch (dtype) {
        case Dtype::f32:
            static_cast<float*>(data)[index] = f;
            break;
        case Dtype::bf16:
            static_cast<std::uint16_t*>(data)[index] = float_to_bf16_bits(f);
            break;
        case Dtype::f16:
            static_cast<std::uint16_t*>(data)[index] = float_to_fp16_bits(f);
            break;
    }
}

TensorView contiguous_bhsd(const void* data, Dtype dtype, std::int64_t heads, std::int64_t seq,
                           std::int64_t head_dim) {
    TensorView t;
    t.data = data;
    t.dtype = dtype;
    t.stride_seq = head_dim;
    t.stride_head = seq * head_dim;
    t.stride_batch = heads * seq * head_dim;
    return t;
}

std::vector<RowIndex> sample_rows(const Shape& s, std::size_t extra_queries, std::uint64_t seed) {
    std::vector<std::int64_t> batches = {0, s.batch / 2, s.batch - 1};
    std::vector<std::int64_t> heads = {0, s.heads_q - 1};
    const std::int64_t group = s.heads_kv > 0 ? s.heads_q / s.heads_kv : 1;
    if (s.heads_kv > 1) {
        // A head of another KV group than head 0, not the first of its group.
        heads.push_back(std::min(s.heads_q - 1, group + (group > 1 ? 1 : 0)));
    }
    heads.push_back(s.heads_q / 2);
    std::vector<RowIndex> rows;
    std::uint64_t counter = 0;
    for (const std::int64_t b : batches) {
        for (const std::int64_t h : heads) {
            std::vector<std::int64_t> queries = {0, s.seq_q / 2, s.seq_q - 1};
            for (std::size_t e = 0; e < extra_queries; ++e) {
                queries.push_back(static_cast<std::int64_t>(splitmix64(seed + counter++) %
                                                            static_cast<std::uint64_t>(s.seq_q)));
            }
            for (const std::int64_t q : queries) {
                rows.push_back(RowIndex{b, h, q});
            }
        }
    }
    std::sort(rows.begin(), rows.end(), [](const RowIndex& a, const RowIndex& b) {
        return std::tie(a.batch, a.head, a.query) < std::tie(b.batch, b.head, b.query);
    });
    rows.erase(std::unique(rows.begin(), rows.end(),
                           [](const RowIndex& a, const RowIndex& b) {
                               return a.batch == b.batch && a.head == b.head && a.query == b.query;
                           }),
               rows.end());
    return rows;
}

AttentionCheck verify_rows(const Shape& s, Dtype compute_dtype, const TensorView& q,
                           const TensorView& k, const TensorView& v, const TensorView& o,
                           const std::vector<RowIndex>& rows) {
    check_shape(s);
    const std::int64_t d_count = s.head_dim;
    const std::int64_t group = s.heads_q / s.heads_kv;
    const double scale = 1.0 / std::sqrt(static_cast<double>(d_count));
    const double e_p = p_allowance(compute_dtype);
    // Q pre-scaled and rounded to the half dtype (round to nearest: half the P allowance).
    const double e_half = compute_dtype == Dtype::f32 ? 0.0 : p_allowance(compute_dtype) / 2;
    const double e_o = storage_allowance(o.dtype);

    AttentionCheck check;
    check.ok = true;
    std::vector<double> qrow(static_cast<std::size_t>(d_count));
    std::vector<double> scores;
    std::vector<double> acc(static_cast<std::size_t>(d_count));
    std::vector<double> abs_acc(static_cast<std::size_t>(d_count));
    RowIndex worst_at{};
    std::int64_t worst_d = 0;
    double worst_got = 0;
    double worst_want = 0;
    double worst_tol = 0;
    bool non_finite = false;

    for (const RowIndex& r : rows) {
        if (r.batch < 0 || r.batch >= s.batch || r.head < 0 || r.head >= s.heads_q || r.query < 0 ||
            r.query >= s.seq_q) {
            throw std::invalid_argument("verify_rows: row index outside the shape");
        }
        const std::int64_t kvh = r.head / group;
        const std::int64_t q_base =
            r.batch * q.stride_batch + r.head * q.stride_head + r.query * q.stride_seq;
        for (std::int64_t d = 0; d < d_count; ++d) {
            qrow[static_cast<std::size_t>(d)] =
                load_element(q.data, q.dtype, static_cast<std::size_t>(q_base + d));
        }
        const std::int64_t n = visible_keys(s, r.query);
        const std::int64_t k_base = r.batch * k.stride_batch + kvh * k.stride_head;
        const std::int64_t v_base = r.batch * v.stride_batch + kvh * v.stride_head;
        scores.assign(static_cast<std::size_t>(n), 0.0);
        double max_score = -std::numeric_limits<double>::infinity();
        double max_abs_dot = 0;
        for (std::int64_t j = 0; j < n; ++j) {
            double dot = 0;
            double abs_dot = 0;
            const std::int64_t row = k_base + j * k.stride_seq;
            for (std::int64_t d = 0; d < d_count; ++d) {
                const double prod =
                    qrow[static_cast<std::size_t>(d)] *
                    load_element(k.data, k.dtype, static_cast<std::size_t>(row + d));
                dot += prod;
                abs_dot += std::fabs(prod);
            }
            scores[static_cast<std::size_t>(j)] = dot * scale;
            max_score = std::max(max_score, dot * scale);
            max_abs_dot = std::max(max_abs_dot, abs_dot);
        }
        std::fill(acc.begin(), acc.end(), 0.0);
        double sum = 0;
        for (std::int64_t j = 0; j < n; ++j) {
            const double p = std::exp(scores[static_cast<std::size_t>(j)] - max_score);
            scores[static_cast<std::size_t>(j)] = p;
            sum += p;
            const std::int64_t row = v_base + j * v.stride_seq;
            for (std::int64_t d = 0; d < d_count; ++d) {
                acc[static_cast<std::size_t>(d)] +=
                    p * load_element(v.data, v.dtype, static_cast<std::size_t>(row + d));
            }
        }
        // Σ_j p_j |v_jd| for the tolerance (p normalised below).
        std::fill(abs_acc.begin(), abs_acc.end(), 0.0);
        for (std::int64_t j = 0; j < n; ++j) {
            const double p = scores[static_cast<std::size_t>(j)];
            const std::int64_t row = v_base + j * v.stride_seq;
            for (std::int64_t d = 0; d < d_count; ++d) {
                abs_acc[static_cast<std::size_t>(d)] +=
                    p * std::fabs(load_element(v.data, v.dtype, static_cast<std::size_t>(row + d)));
            }
        }
        const double e_s =
            (static_cast<double>(d_count) + 2.0) * kUnitRoundoff * scale * max_abs_dot +
            e_half * scale * max_abs_dot;
        const double e_acc =
            8.0 * std::sqrt(static_cast<double>(std::max<std::int64_t>(n, 1))) * kUnitRoundoff;
        const std::int64_t o_base =
            r.batch * o.stride_batch + r.head * o.stride_head + r.query * o.stride_seq;
        for (std::int64_t d = 0; d < d_count; ++d) {
            const double want = n > 0 ? acc[static_cast<std::size_t>(d)] / sum : 0.0;
            const double weight =
                n > 0 ? abs_acc[static_cast<std::size_t>(d)] / sum + std::fabs(want) : 0.0;
            const double tol =
                2.0 * (2.0 * e_s + e_p + e_acc) * weight + e_o * std::fabs(want) + kUnitRoundoff;
            const double got = load_element(o.data, o.dtype, static_cast<std::size_t>(o_base + d));
            const double err = std::fabs(got - want);
            if (!std::isfinite(got)) {
                non_finite = true;
            }
            const double ratio =
                std::isfinite(got) ? err / tol : std::numeric_limits<double>::infinity();
            if (ratio > check.worst_tolerance_ratio || (!std::isfinite(got) && check.ok)) {
                check.worst_tolerance_ratio = ratio;
                check.worst_abs_error = std::isfinite(got) ? err : ratio;
                worst_at = r;
                worst_d = d;
                worst_got = got;
                worst_want = want;
                worst_tol = tol;
            }
            if (!(ratio <= 1.0)) {
                check.ok = false;
            }
        }
        ++check.rows_checked;
    }
    std::ostringstream os;
    os.precision(3);
    os << "fp64 reference on " << check.rows_checked << " sampled (batch, head, query) rows"
       << (s.causal ? " with the causal mask" : "") << ", compute dtype "
       << dtype_param(compute_dtype) << "; tol = 2(2e_s+e_p+e_acc)·Σp(|v|+|o|)"
       << (e_o > 0 ? "+e_o|o|" : "") << " with e_p=" << e_p
       << ", e_acc=8·sqrt(n)·2^-24; worst |err| " << check.worst_abs_error << " = "
       << check.worst_tolerance_ratio << " of tol";
    if (check.rows_checked > 0 && (check.worst_tolerance_ratio > 0 || non_finite)) {
        os << " at (b=" << worst_at.batch << ", h=" << worst_at.head << ", q=" << worst_at.query
           << ", d=" << worst_d << "): got " << worst_got << ", want " << worst_want << ", tol "
           << worst_tol;
    }
    if (non_finite) {
        os << "; non-finite output";
    }
    check.detail = os.str();
    return check;
}

AttentionCheck verify_sampled(const Shape& s, Dtype q_dtype, Dtype kv_dtype, const void* q,
                              const void* k, const void* v, const float* o) {
    check_shape(s);
    const TensorView qv = contiguous_bhsd(q, q_dtype, s.heads_q, s.seq_q, s.head_dim);
    const TensorView kv = contiguous_bhsd(k, kv_dtype, s.heads_kv, s.seq_kv, s.head_dim);
    const TensorView vv = contiguous_bhsd(v, kv_dtype, s.heads_kv, s.seq_kv, s.head_dim);
    const TensorView ov = contiguous_bhsd(o, Dtype::f32, s.heads_q, s.seq_q, s.head_dim);
    return verify_rows(s, q_dtype, qv, kv, vv, ov, sample_rows(s));
}

}  // namespace attention
}  // namespace assay
