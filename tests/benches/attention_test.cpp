#include <sched.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "benches/attention_cases.hpp"
#include "benches/cpu/attention/attention_defs.hpp"
#include "benches/cpu/attention/attention_kernels.hpp"
#include "core/error.hpp"
#include "probes/probe.hpp"

namespace at = assay::attention;

namespace {

std::vector<unsigned> allowed_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::vector<unsigned> out;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        for (unsigned c = 0; c < CPU_SETSIZE; ++c) {
            if (CPU_ISSET(c, &set)) {
                out.push_back(c);
            }
        }
    }
    return out;
}

at::Shape make_shape(std::int64_t b, std::int64_t h, std::int64_t hkv, std::int64_t d,
                     std::int64_t sq, std::int64_t skv, bool causal) {
    at::Shape s;
    s.batch = b;
    s.heads_q = h;
    s.heads_kv = hkv;
    s.head_dim = d;
    s.seq_q = sq;
    s.seq_kv = skv;
    s.causal = causal;
    return s;
}

/// Seeded inputs of a shape in the flash_cpu.hpp layout.
struct Inputs {
    at::Shape s;
    at::Dtype q_dtype;
    at::Dtype kv_dtype;
    std::vector<std::uint8_t> q, k, v;
    Inputs(const at::Shape& shape, at::Dtype qd, at::Dtype kvd)
        : s(shape),
          q_dtype(qd),
          kv_dtype(kvd),
          q(at::q_elements(shape) * at::element_bytes(qd)),
          k(at::kv_elements(shape) * at::element_bytes(kvd)),
          v(at::kv_elements(shape) * at::element_bytes(kvd)) {
        at::fill_random(q.data(), qd, 0, at::q_elements(shape), 11);
        at::fill_random(k.data(), kvd, 0, at::kv_elements(shape), 12);
        at::fill_random(v.data(), kvd, 0, at::kv_elements(shape), 13);
    }
};

/// An independent fp32 attention written the textbook way (masked by `mask_causal`, which a test
/// may set differently from the shape to produce a wrong answer); every row is computed.
std::vector<float> naive_attention(const Inputs& in, bool mask_causal) {
    const at::Shape& s = in.s;
    std::vector<float> o(at::q_elements(s));
    const std::int64_t d = s.head_dim;
    const float scale = 1.0F / std::sqrt(static_cast<float>(d));
    for (std::int64_t b = 0; b < s.batch; ++b) {
        for (std::int64_t h = 0; h < s.heads_q; ++h) {
            const std::int64_t kvh = h / (s.heads_q / s.heads_kv);
            for (std::int64_t i = 0; i < s.seq_q; ++i) {
                const auto qi = static_cast<std::size_t>(((b * s.heads_q + h) * s.seq_q + i) * d);
                std::vector<float> p(static_cast<std::size_t>(s.seq_kv), 0.0F);
                float m = -INFINITY;
                const std::int64_t n =
                    mask_causal ? std::min(s.seq_kv, i + s.seq_kv - s.seq_q + 1) : s.seq_kv;
                for (std::int64_t j = 0; j < n; ++j) {
                    const auto kj =
                        static_cast<std::size_t>(((b * s.heads_kv + kvh) * s.seq_kv + j) * d);
                    float dot = 0;
                    for (std::int64_t x = 0; x < d; ++x) {
                        dot +=
                            static_cast<float>(at::load_element(in.q.data(), in.q_dtype,
                                                                qi + static_cast<std::size_t>(x)) *
                                               at::load_element(in.k.data(), in.kv_dtype,
                                                                kj + static_cast<std::size_t>(x)));
                    }
                    p[static_cast<std::size_t>(j)] = dot * scale;
                    m = std::max(m, dot * scale);
                }
                float sum = 0;
                for (std::int64_t j = 0; j < n; ++j) {
                    p[static_cast<std::size_t>(j)] = std::exp(p[static_cast<std::size_t>(j)] - m);
                    sum += p[static_cast<std::size_t>(j)];
                }
                for (std::int64_t x = 0; x < d; ++x) {
                    float acc = 0;
                    for (std::int64_t j = 0; j < n; ++j) {
                        const auto vj =
                            static_cast<std::size_t>(((b * s.heads_kv + kvh) * s.seq_kv + j) * d);
                        acc += p[static_cast<std::size_t>(j)] *
                               static_cast<float>(at::load_element(
                                   in.v.data(), in.kv_dtype, vj + static_cast<std::size_t>(x)));
                    }
                    o[qi + static_cast<std::size_t>(x)] = acc / sum;
                }
            }
        }
    }
    return o;
}

at::AttentionCheck check(const Inputs& in, const std::vector<float>& o) {
    return at::verify_sampled(in.s, in.q_dtype, in.kv_dtype, in.q.data(), in.k.data(), in.v.data(),
                              o.data());
}

assay::HostInfo load(const std::string& file) {
    assay::ProbeOptions options;
    options.topology_xml = std::string(ASSAY_TOPOLOGY_DIR) + "/" + file;
    options.query_gpus = false;
    return assay::probe_host(options);
}

const assay::Metric* context(const assay::BenchmarkDef& d, const std::string& name) {
    for (const auto& m : d.context) {
        if (m.name == name) {
            return &m;
        }
    }
    return nullptr;
}

bool in_suite(const assay::BenchmarkDef& d, const std::string& suite) {
    return std::find(d.suites.begin(), d.suites.end(), suite) != d.suites.end();
}

}  // namespace

TEST_CASE("attention cases: presets, canonical params, quick set", "[attention]") {
    REQUIRE(at::find_preset("llama3_8b").has_value());
    CHECK(at::find_preset("llama3_8b")->heads_q == 32);
    CHECK(at::find_preset("llama3_8b")->heads_kv == 8);
    CHECK(at::find_preset("llama3_70b")->heads_q == 64);
    CHECK_FALSE(at::find_preset("gpt5").has_value());
    std::set<std::int64_t> ratios;
    std::set<std::int64_t> dims;
    for (const at::Preset& p : at::presets()) {
        ratios.insert(p.heads_q / p.heads_kv);
        dims.insert(p.head_dim);
    }
    CHECK(ratios == std::set<std::int64_t>{1, 4, 8});
    CHECK(dims == std::set<std::int64_t>{64, 128});

    std::set<std::string> ids;
    std::size_t quick = 0;
    std::set<std::int64_t> seqs;
    std::set<std::int64_t> kv_lens;
    std::set<std::int64_t> batches;
    auto all = at::prefill_cases();
    const auto decode = at::decode_cases();
    all.insert(all.end(), decode.begin(), decode.end());
    for (const at::AttentionCase& c : all) {
        const auto p = at::case_params(c);
        std::string id = at::benchmark_name(c.phase);
        for (const auto& [k, v] : p) {
            id += "," + k + "=" + v;
        }
        CAPTURE(id);
        CHECK(ids.insert(id).second);
        CHECK(at::dtype_from_param(p.at("dtype")) == c.q_dtype);
        CHECK(p.at("preset") == c.preset);
        CHECK(p.at("batch") == std::to_string(c.shape.batch));
        CHECK_NOTHROW(at::check_shape(c.shape));
        if (c.phase == at::Phase::prefill) {
            CHECK(p.size() == 8);
            CHECK(c.shape.seq_q == c.shape.seq_kv);
            CHECK((p.at("causal") == "true" || p.at("causal") == "false"));
            CHECK(c.q_dtype == c.kv_dtype);
            seqs.insert(c.shape.seq_q);
        } else {
            CHECK(p.size() == 8);
            CHECK(p.at("kv_len") == std::to_string(c.shape.seq_kv));
            CHECK(c.shape.seq_q == 1);
            CHECK_FALSE(c.shape.causal);
            kv_lens.insert(c.shape.seq_kv);
            batches.insert(c.shape.batch);
        }
        if (std::find(c.suites.begin(), c.suites.end(), "quick") != c.suites.end()) {
            ++quick;
            CHECK(c.q_dtype == at::Dtype::f32);
        }
    }
    CHECK(quick == 3);
    CHECK(*seqs.begin() == 512);
    CHECK(*seqs.rbegin() == 16384);
    CHECK(*kv_lens.begin() == 1024);
    CHECK(*kv_lens.rbegin() == 131072);
    CHECK(*batches.begin() == 1);
    CHECK(*batches.rbegin() == 64);
}

TEST_CASE("attention conventions: FLOP and byte counts on hand-computed shapes", "[attention]") {
    // 3x3 non-causal: 9 pairs; causal: 1 + 2 + 3 = 6.
    CHECK(at::unmasked_pairs(make_shape(1, 2, 1, 4, 3, 3, false)) == 9);
    CHECK(at::unmasked_pairs(make_shape(1, 2, 1, 4, 3, 3, true)) == 6);
    CHECK(at::attention_flops(make_shape(1, 2, 1, 4, 3, 3, false)) == 4.0 * 2 * 4 * 9);
    CHECK(at::attention_flops(make_shape(1, 2, 1, 4, 3, 3, true)) == 4.0 * 2 * 4 * 6);
    // Bottom-right causal with S_q=2 < S_kv=4: query 0 sees 3 keys, query 1 all 4.
    CHECK(at::unmasked_pairs(make_shape(1, 1, 1, 4, 2, 4, true)) == 7);
    // S_q=4 > S_kv=2: queries 0, 1 see nothing, 2 sees 1, 3 sees 2.
    CHECK(at::unmasked_pairs(make_shape(1, 1, 1, 4, 4, 2, true)) == 3);
    // Llama-3-8B S=2048 causal: 4·32·128·2048·2049/2.
    CHECK(at::attention_flops(make_shape(1, 32, 8, 128, 2048, 2048, true)) ==
          4.0 * 32 * 128 * (2048.0 * 2049.0 / 2.0));
    // K and V of B=2, H_kv=2, S=5, D=4: 2·2·2·5·4 elements.
    CHECK(at::kv_bytes(make_shape(2, 4, 2, 4, 1, 5, false), at::Dtype::f32) == 640);
    CHECK(at::kv_bytes(make_shape(2, 4, 2, 4, 1, 5, false), at::Dtype::bf16) == 320);
    // Decode B=1, H=4, H_kv=2, D=4, KV 8, q fp32 / kv bf16: 256 KV + 64 Q + 64 O.
    CHECK(at::decode_bytes(make_shape(1, 4, 2, 4, 1, 8, false), at::Dtype::f32, at::Dtype::bf16) ==
          384);
    CHECK_THROWS(at::check_shape(make_shape(1, 6, 4, 4, 1, 8, false)));
    CHECK_THROWS(at::check_shape(make_shape(1, 4, 2, 4, 0, 8, false)));
}

TEST_CASE("attention inputs: conversions, seeded and split-invariant fill", "[attention]") {
    CHECK(at::float_to_bf16_bits(1.0F) == 0x3F80);
    CHECK(at::bf16_bits_to_float(0xC040) == -3.0F);
    // 1 + 2^-8 is a tie between 1 and 1 + 2^-7: rounds to even (1).
    CHECK(at::float_to_bf16_bits(1.00390625F) == 0x3F80);
    CHECK(at::float_to_bf16_bits(1.01171875F) == 0x3F82);  // 1 + 3·2^-8: tie, rounds up to even
    CHECK(at::float_to_fp16_bits(1.0F) == 0x3C00);
    CHECK(at::float_to_fp16_bits(65504.0F) == 0x7BFF);
    CHECK(at::float_to_fp16_bits(1e6F) == 0x7C00);
    CHECK(at::fp16_bits_to_float(0x3555) == Approx(0.33325195).epsilon(1e-7));
    for (const float x : {0.5F, -0.7F, 3.0e-5F, 1.0e-7F, -2.5e-6F}) {
        CAPTURE(x);
        CHECK(std::fabs(at::fp16_bits_to_float(at::float_to_fp16_bits(x)) - x) <=
              std::max(std::fabs(x) * 0.0005F, 3.0e-8F));
        CHECK(std::fabs(at::bf16_bits_to_float(at::float_to_bf16_bits(x)) - x) <=
              std::fabs(x) * 0.004F);
    }

    for (const at::Dtype d : {at::Dtype::f32, at::Dtype::bf16, at::Dtype::f16}) {
        std::vector<std::uint8_t> whole(1000 * at::element_bytes(d));
        std::vector<std::uint8_t> split(whole.size());
        at::fill_random(whole.data(), d, 0, 1000, 5);
        at::fill_random(split.data(), d, 0, 333, 5);
        at::fill_random(split.data(), d, 333, 1000, 5);
        CHECK(whole == split);
        double sum_abs = 0;
        for (std::size_t i = 0; i < 1000; ++i) {
            const double x = at::load_element(whole.data(), d, i);
            CHECK(x >= -1.0);
            CHECK(x <= 1.0);
            sum_abs += std::fabs(x);
        }
        CHECK(sum_abs / 1000 == Approx(0.5).margin(0.05));
        std::vector<std::uint8_t> other(whole.size());
        at::fill_random(other.data(), d, 0, 1000, 6);
        CHECK(other != whole);
    }
}

TEST_CASE("attention verification: sampled rows cover first, middle and last queries",
          "[attention]") {
    const at::Shape s = make_shape(4, 8, 2, 64, 100, 100, true);
    const auto rows = at::sample_rows(s);
    std::set<std::int64_t> batches, heads, queries;
    for (const at::RowIndex& r : rows) {
        batches.insert(r.batch);
        heads.insert(r.head);
        queries.insert(r.query);
    }
    CHECK(batches.count(0) == 1);
    CHECK(batches.count(3) == 1);
    CHECK(heads.count(0) == 1);
    CHECK(heads.count(7) == 1);
    CHECK(heads.size() >= 3);
    CHECK(queries.count(0) == 1);
    CHECK(queries.count(50) == 1);
    CHECK(queries.count(99) == 1);
    // Heads in at least two KV groups.
    std::set<std::int64_t> groups;
    for (const std::int64_t h : heads) {
        groups.insert(h / 4);
    }
    CHECK(groups.size() >= 2);
}

TEST_CASE("attention verification: passes a correct output, fails corrupted and unmasked ones",
          "[attention]") {
    for (const bool causal : {true, false}) {
        for (const at::Dtype d : {at::Dtype::f32, at::Dtype::bf16}) {
            CAPTURE(causal, at::dtype_param(d));
            const Inputs in(make_shape(2, 4, 2, 64, 77, 77, causal), d, d);
            std::vector<float> o = naive_attention(in, causal);
            const at::AttentionCheck good = check(in, o);
            INFO(good.detail);
            CHECK(good.ok);
            CHECK(good.rows_checked >= 9);
            CHECK(good.worst_tolerance_ratio < 1.0);
            CHECK(good.detail.find("worst |err|") != std::string::npos);

            // One element of the last query row of the last (batch, head): a sampled row.
            std::vector<float> bad = o;
            // fp32 tolerances are ~1e-5 here, bf16 ones ~1e-2 (P rounded to bf16).
            bad[bad.size() - 3] += d == at::Dtype::f32 ? 1e-3F : 0.1F;
            const at::AttentionCheck corrupted = check(in, bad);
            CHECK_FALSE(corrupted.ok);
            CHECK(corrupted.worst_tolerance_ratio > 1.0);
            CHECK(corrupted.detail.find("b=1, h=3, q=76, d=61") != std::string::npos);

            bad = o;
            bad[5] = NAN;
            CHECK_FALSE(check(in, bad).ok);
        }
    }
    // The causal mask is checked: a non-causal answer fails a causal shape and vice versa.
    const Inputs causal(make_shape(1, 2, 1, 64, 64, 64, true), at::Dtype::f32, at::Dtype::f32);
    CHECK_FALSE(check(causal, naive_attention(causal, false)).ok);
    const Inputs full(make_shape(1, 2, 1, 64, 64, 64, false), at::Dtype::f32, at::Dtype::f32);
    CHECK_FALSE(check(full, naive_attention(full, true)).ok);
    // Chunked prefill (S_q < S_kv) with the bottom-right mask.
    const Inputs chunk(make_shape(1, 4, 4, 64, 16, 80, true), at::Dtype::f32, at::Dtype::f32);
    CHECK(check(chunk, naive_attention(chunk, true)).ok);
    // Decode: fp32 query against an fp16 KV cache.
    const Inputs dec(make_shape(3, 8, 2, 128, 1, 300, false), at::Dtype::f32, at::Dtype::f16);
    CHECK(check(dec, naive_attention(dec, false)).ok);
}

TEST_CASE("attention verification: strided layouts and half-precision outputs", "[attention]") {
    // [B][S][H][D] layout (as CUDA kernels often use), O stored in bf16.
    const at::Shape s = make_shape(2, 4, 2, 64, 40, 40, true);
    const Inputs in(s, at::Dtype::f32, at::Dtype::f32);
    const std::vector<float> o = naive_attention(in, true);
    // Re-pack Q, K, V and O into BSHD.
    auto to_bshd = [](const std::vector<std::uint8_t>& src, std::int64_t b, std::int64_t h,
                      std::int64_t seq, std::int64_t d) {
        std::vector<float> out(src.size() / 4);
        const auto* f = reinterpret_cast<const float*>(src.data());
        for (std::int64_t ib = 0; ib < b; ++ib)
            for (std::int64_t ih = 0; ih < h; ++ih)
                for (std::int64_t is = 0; is < seq; ++is)
                    for (std::int64_t id = 0; id < d; ++id)
                        out[static_cast<std::size_t>(((ib * seq + is) * h + ih) * d + id)] =
                            f[static_cast<std::size_t>(((ib * h + ih) * seq + is) * d + id)];
        return out;
    };
    const auto q = to_bshd(in.q, 2, 4, 40, 64);
    const auto k = to_bshd(in.k, 2, 2, 40, 64);
    const auto v = to_bshd(in.v, 2, 2, 40, 64);
    std::vector<std::uint16_t> ob(o.size());
    for (std::int64_t ib = 0; ib < 2; ++ib)
        for (std::int64_t ih = 0; ih < 4; ++ih)
            for (std::int64_t is = 0; is < 40; ++is)
                for (std::int64_t id = 0; id < 64; ++id)
                    ob[static_cast<std::size_t>(((ib * 40 + is) * 4 + ih) * 64 + id)] =
                        at::float_to_bf16_bits(
                            o[static_cast<std::size_t>(((ib * 4 + ih) * 40 + is) * 64 + id)]);
    auto view = [](const void* p, at::Dtype d, std::int64_t h, std::int64_t seq) {
        at::TensorView t;
        t.data = p;
        t.dtype = d;
        t.stride_seq = h * 64;
        t.stride_head = 64;
        t.stride_batch = seq * h * 64;
        return t;
    };
    const auto rows = at::sample_rows(s);
    const at::AttentionCheck ok = at::verify_rows(
        s, at::Dtype::bf16, view(q.data(), at::Dtype::f32, 4, 40),
        view(k.data(), at::Dtype::f32, 2, 40), view(v.data(), at::Dtype::f32, 2, 40),
        view(ob.data(), at::Dtype::bf16, 4, 40), rows);
    INFO(ok.detail);
    CHECK(ok.ok);
    // Reading the BSHD buffers as BHSD must fail.
    const at::AttentionCheck wrong = at::verify_rows(
        s, at::Dtype::bf16, at::contiguous_bhsd(q.data(), at::Dtype::f32, 4, 40, 64),
        at::contiguous_bhsd(k.data(), at::Dtype::f32, 2, 40, 64),
        at::contiguous_bhsd(v.data(), at::Dtype::f32, 2, 40, 64),
        view(ob.data(), at::Dtype::bf16, 4, 40), rows);
    CHECK_FALSE(wrong.ok);
}

TEST_CASE("attention unfused reference: both BLAS agree with the fp64 reference", "[attention]") {
    const std::vector<unsigned> cpus = allowed_cpus();
    REQUIRE_FALSE(cpus.empty());
    for (const assay::AttentionBlas blas : assay::attention_blas_all()) {
        const std::string reason = assay::attention_blas_skip_reason(blas);
        if (!reason.empty()) {
            // Unavailable here: the reason names the library ("libblis.so.4 not found: ..."),
            // and the kernel refuses to prepare with it.
            CAPTURE(assay::to_string(blas), reason);
            CHECK_THAT(reason, Catch::Contains(assay::to_string(blas), Catch::CaseSensitive::No));
            at::AttentionCase c;
            c.phase = at::Phase::prefill;
            c.preset = "test";
            c.shape = make_shape(2, 4, 2, 64, 130, 130, false);
            assay::UnfusedAttentionKernel kernel(c, blas, {cpus.front()});
            CHECK_THROWS_WITH(kernel.prepare(), reason);
            continue;
        }
        for (const bool causal : {true, false}) {
            for (const std::vector<unsigned>& pus : {std::vector<unsigned>{cpus.front()}, cpus}) {
                CAPTURE(assay::to_string(blas), causal, pus.size());
                at::AttentionCase c;
                c.phase = at::Phase::prefill;
                c.preset = "test";
                c.shape = make_shape(2, 4, 2, 64, 130, 130, causal);
                assay::UnfusedAttentionKernel kernel(c, blas, pus);
                kernel.prepare();
                kernel.run();
                const assay::Verification v = kernel.verify();
                INFO(v.detail);
                CHECK(v.ok);
                CHECK(kernel.work().flops == at::attention_flops(c.shape));
                CHECK(kernel.work().bytes_stream == 0);
                CHECK(kernel.implementation().find("unmasked") != std::string::npos);
                // Flat index of (b=0, h=0, q=0, d=0): a sampled row.
                kernel.corrupt_output_for_test(0);
                CHECK_FALSE(kernel.verify().ok);
                // A fresh run repairs it.
                kernel.run();
                CHECK(kernel.verify().ok);
            }
        }
    }
    at::AttentionCase bf16;
    bf16.shape = make_shape(1, 2, 2, 64, 16, 16, false);
    bf16.q_dtype = at::Dtype::bf16;
    bf16.kv_dtype = at::Dtype::bf16;
    CHECK_THROWS_AS(assay::UnfusedAttentionKernel(bf16, assay::AttentionBlas::openblas, {0}),
                    assay::UsageError);
}

TEST_CASE("attention defs on real topologies: unique names, skip xor kernel, context",
          "[attention]") {
    std::size_t files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(ASSAY_TOPOLOGY_DIR)) {
        if (entry.path().extension() != ".xml") {
            continue;
        }
        ++files;
        const std::string file = entry.path().filename().string();
        CAPTURE(file);
        const assay::HostInfo host = load(file);
        std::vector<assay::BenchmarkDef> defs;
        assay::add_attention_cpu_defs(host, {}, defs);
        REQUIRE(defs.size() > 50);
        std::set<std::string> names;
        std::set<std::string> backends;
        std::size_t quick = 0;
        for (const auto& d : defs) {
            CAPTURE(d.full_name());
            CHECK(names.insert(d.full_name()).second);
            CHECK(d.device == "cpu");
            CHECK(d.bench_case.family() == "attention");
            CHECK(d.aarch64 == "yes");
            backends.insert(d.backend);
            const auto& p = d.bench_case.params;
            CHECK(p.size() == 8);
            CHECK(p.count("placement") == 0);  // params line up with the CUDA cases
            if (d.backend != "cpu.flash") {
                CHECK(d.bench_case.benchmark == "attention.prefill");
                CHECK(p.at("dtype") == "f32");
            }
            CHECK(d.skip_reason.empty() == static_cast<bool>(d.make));
            if (d.make) {
                REQUIRE(context(d, "threads") != nullptr);
                CHECK(context(d, "threads")->value >= 1);
                REQUIRE(context(d, "flops_per_run.unmasked_pairs") != nullptr);
                CHECK(context(d, "flops_per_run.unmasked_pairs")->value > 0);
                REQUIRE(context(d, "kv_bytes") != nullptr);
                CHECK(d.sampling.max_seconds.has_value());
                if (d.bench_case.benchmark == "attention.decode") {
                    // The LLC the decode figure is judged against, and whether K+V fit in it.
                    REQUIRE(context(d, "llc_bytes") != nullptr);
                    const double llc = context(d, "llc_bytes")->value;
                    CHECK(llc > 0);
                    const bool fits = context(d, "kv_bytes")->value <= llc;
                    CHECK((context(d, "kv_fits_in_llc") != nullptr) == fits);
                    if (p.at("kv_len") == "1024" && p.at("batch") == "1") {
                        CHECK(fits);  // 8 MiB of fp32 K+V: inside every LLC in the corpus
                    }
                    if (p.at("kv_len") == "131072" && p.at("batch") == "64") {
                        CHECK_FALSE(fits);
                    }
                } else {
                    CHECK(context(d, "llc_bytes") == nullptr);
                }
            }
            if (in_suite(d, "quick")) {
                ++quick;
                CHECK(d.backend == "cpu.flash");
            }
        }
        CHECK(quick == 3);
        CHECK(backends ==
              std::set<std::string>{"cpu.flash", "cpu.unfused.openblas", "cpu.unfused.blis"});
    }
    CHECK(files > 0);
}

TEST_CASE("attention defs: the working-set cap skips large cases with a reason", "[attention]") {
    const std::string file =
        std::filesystem::directory_iterator(ASSAY_TOPOLOGY_DIR)->path().filename().string();
    assay::HostInfo host;
    for (const auto& entry : std::filesystem::directory_iterator(ASSAY_TOPOLOGY_DIR)) {
        if (entry.path().extension() == ".xml") {
            host = load(entry.path().filename().string());
            break;
        }
    }
    assay::CatalogOptions options;
    options.max_working_set_bytes = std::uint64_t{64} << 20;
    std::vector<assay::BenchmarkDef> defs;
    assay::add_attention_cpu_defs(host, options, defs);
    std::size_t capped = 0;
    for (const auto& d : defs) {
        if (d.skip_reason.find("exceeds the cap") != std::string::npos) {
            ++capped;
            CHECK_FALSE(d.make);
        }
        // Decode B=1 KV 1024 fp32 (8 MiB of K/V) fits 64 MiB: never capped.
        if (d.bench_case.benchmark == "attention.decode" &&
            d.bench_case.params.at("kv_len") == "1024" && d.bench_case.params.at("batch") == "1") {
            CHECK(d.skip_reason.find("exceeds the cap") == std::string::npos);
        }
    }
    CHECK(capped > 10);
    (void)file;
}
