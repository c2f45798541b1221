// Catalog entries of the CUDA attention suite: no GPU needed (synthetic GpuInfo, fake runtime),
// and the host copy of the device input generator against the CPU suite's fill_random.
#include "benches/cuda/attention_cuda_defs.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "benches/attention_cases.hpp"
#include "benches/cuda/attention_cuda.hpp"
#include "probes/gpu_peaks.hpp"
#include "probes/probe.hpp"

namespace {

using assay::attention::AttentionCase;
using assay::attention::Dtype;
using assay::attention::Phase;

constexpr std::uint64_t kGiB = std::uint64_t{1} << 30;

/// A kernel that is only made, never run: these tests look at the defs.
class NeverKernel final : public assay::Kernel {
  public:
    void prepare() override {}
    void run() override {}
    assay::Verification verify() override { return {}; }
    assay::WorkModel work() const override { return {}; }
};

int made = 0;
int made_device = -1;
int made_cudnn = 0;

assay::CudaAttentionRuntime fake_runtime() {
    assay::CudaAttentionRuntime r;
    r.make_kernel = [](const AttentionCase&, int device) -> std::unique_ptr<assay::Kernel> {
        ++made;
        made_device = device;
        return std::make_unique<NeverKernel>();
    };
    r.make_cudnn_kernel = [](const AttentionCase&, int device) -> std::unique_ptr<assay::Kernel> {
        ++made_cudnn;
        made_device = device;
        return std::make_unique<NeverKernel>();
    };
    return r;
}

assay::GpuInfo fake_gpu(int index, int major, int minor, int sms, double mhz,
                        std::uint64_t memory) {
    assay::GpuInfo g;
    g.index = index;
    g.name = "fake";
    g.cc_major = major;
    g.cc_minor = minor;
    g.sm_count = sms;
    g.sm_clock_mhz = mhz;
    g.memory_bytes = memory;
    g.peaks = assay::gpu_peak_estimates(g);  // as the probe fills them
    return g;
}

assay::HostInfo host_with(std::vector<assay::GpuInfo> gpus) {
    assay::HostInfo h;
    h.gpu.gpus = std::move(gpus);
    return h;
}

assay::HostInfo h100_host() {
    return host_with({fake_gpu(0, 9, 0, 132, 1980, 80 * kGiB)});
}

std::vector<assay::BenchmarkDef> defs_for(const assay::HostInfo& h,
                                          const assay::CudaAttentionRuntime& r = fake_runtime(),
                                          const assay::CatalogOptions& o = {}) {
    std::vector<assay::BenchmarkDef> defs;
    assay::add_attention_cuda_defs(h, o, r, defs);
    return defs;
}

const assay::BenchmarkDef* find_def(const std::vector<assay::BenchmarkDef>& defs,
                                    const std::string& benchmark, const assay::Params& subset,
                                    const std::string& backend = "cuda.flash") {
    for (const auto& d : defs) {
        if (d.bench_case.benchmark != benchmark || d.backend != backend) {
            continue;
        }
        bool all = true;
        for (const auto& [k, v] : subset) {
            const auto it = d.bench_case.params.find(k);
            all = all && it != d.bench_case.params.end() && it->second == v;
        }
        if (all) {
            return &d;
        }
    }
    return nullptr;
}

double context(const assay::BenchmarkDef& d, const std::string& name) {
    for (const auto& m : d.context) {
        if (m.name == name) {
            return m.value;
        }
    }
    return -1;
}

const assay::Params kHeadlinePrefill = {
    {"preset", "llama3_8b"}, {"seq", "4096"}, {"causal", "true"}, {"dtype", "bf16"}};

}  // namespace

TEST_CASE("attention cuda defs: H100 lists every bf16/f16 case with the CPU suite's params",
          "[attention_cuda]") {
    made = 0;
    const auto defs = defs_for(h100_host());
    // The expected set: exactly the shared cases whose Q and KV are both bf16 or both f16.
    std::set<std::string> expected;
    for (const auto& list : {assay::attention::prefill_cases(), assay::attention::decode_cases()}) {
        for (const AttentionCase& c : list) {
            if (c.q_dtype == c.kv_dtype && c.q_dtype != Dtype::f32) {
                expected.insert(assay::Case{assay::attention::benchmark_name(c.phase),
                                            assay::attention::case_params(c)}
                                    .id());
            }
        }
    }
    REQUIRE(expected.size() > 20);
    std::set<std::string> flash;
    std::set<std::string> cudnn_ids;
    std::set<std::string> names;
    for (const auto& d : defs) {
        INFO(d.full_name() << " skip: " << d.skip_reason);
        CHECK(names.insert(d.full_name()).second);  // unique
        CHECK(d.device == "cuda:0");
        CHECK(d.aarch64 == "yes");
        CHECK((d.skip_reason.empty() == static_cast<bool>(d.make)));
        CHECK(d.bench_case.params.at("dtype") != "f32");
        if (d.backend == "cuda.flash") {
            flash.insert(d.bench_case.id());
            // 80 GiB holds every listed case within half the device memory.
            CHECK(d.skip_reason.empty());
        } else {
            CHECK(d.backend == "cuda.cudnn");
            cudnn_ids.insert(d.bench_case.id());
            CHECK(d.skip_reason.empty());
            CHECK(context(d, "working_set_bytes") > 0);
            if (d.bench_case.benchmark == "attention.decode") {
                CHECK(d.suites == std::vector<std::string>{"full"});
            }
        }
    }
    CHECK(flash == expected);
    // cuDNN takes every case the flash backend lists, with the same params.
    CHECK(cudnn_ids == expected);

    const auto* prefill = find_def(defs, "attention.prefill", kHeadlinePrefill);
    REQUIRE(prefill != nullptr);
    CHECK(prefill->bench_case.params.at("heads_q") == "32");
    CHECK(prefill->bench_case.params.at("heads_kv") == "8");
    CHECK(prefill->bench_case.params.at("head_dim") == "128");
    CHECK(context(*prefill, "peak_estimate_ops_per_s") == Approx(989.4e12).epsilon(0.02));
    // Causal S=4096: 4 * 32 * 128 * 4096 * 4097 / 2.
    CHECK(context(*prefill, "flops_per_run.unmasked_pairs") ==
          Approx(4.0 * 32 * 128 * 4096.0 * 4097.0 / 2.0));
    CHECK(std::find(prefill->suites.begin(), prefill->suites.end(), "quick") !=
          prefill->suites.end());
    auto k = prefill->make();
    CHECK(k != nullptr);
    CHECK(made == 1);
    CHECK(made_device == 0);

    const auto* decode = find_def(defs, "attention.decode",
                                  {{"preset", "llama3_8b"},
                                   {"batch", "8"},
                                   {"kv_len", "16384"},
                                   {"dtype", "bf16"},
                                   {"kv_dtype", "bf16"}});
    REQUIRE(decode != nullptr);
    CHECK(decode->skip_reason.empty());
    // K and V: 2 * 8 batches * 8 KV heads * 16384 * 128 * 2 bytes.
    CHECK(context(*decode, "kv_bytes") == Approx(2.0 * 8 * 8 * 16384 * 128 * 2));
    CHECK(context(*decode, "working_set_bytes") > context(*decode, "kv_bytes"));

    const auto* cudnn = find_def(defs, "attention.prefill", kHeadlinePrefill, "cuda.cudnn");
    REQUIRE(cudnn != nullptr);
    CHECK(cudnn->bench_case == prefill->bench_case);
    CHECK(cudnn->full_name() != prefill->full_name());
    CHECK(context(*cudnn, "peak_estimate_ops_per_s") ==
          context(*prefill, "peak_estimate_ops_per_s"));
    CHECK(context(*cudnn, "flops_per_run.unmasked_pairs") ==
          context(*prefill, "flops_per_run.unmasked_pairs"));
    // Q, K, V and O in bf16: (2 * 32 + 2 * 8) heads * 4096 * 128 * 2 bytes.
    CHECK(context(*cudnn, "working_set_bytes") == Approx(80.0 * 4096 * 128 * 2));
    made_cudnn = 0;
    CHECK(cudnn->make() != nullptr);
    CHECK(made_cudnn == 1);
    const auto* cudnn_decode =
        find_def(defs, "attention.decode",
                 {{"preset", "llama3_8b"}, {"batch", "8"}, {"kv_len", "16384"}, {"dtype", "bf16"}},
                 "cuda.cudnn");
    REQUIRE(cudnn_decode != nullptr);
    CHECK(cudnn_decode->bench_case == decode->bench_case);

    // The f16 twin uses the fp16 peak; the quick suite is the bf16 headline prefill (both
    // backends) and decode.
    assay::Params f16 = kHeadlinePrefill;
    f16["dtype"] = "f16";
    const auto* half = find_def(defs, "attention.prefill", f16);
    REQUIRE(half != nullptr);
    CHECK(context(*half, "peak_estimate_ops_per_s") > 0);
    std::set<std::string> quick;
    for (const auto& d : defs) {
        if (std::count(d.suites.begin(), d.suites.end(), "quick") > 0) {
            quick.insert(d.bench_case.benchmark + "@" + d.backend);
        }
    }
    CHECK(quick == std::set<std::string>{"attention.prefill@cuda.flash",
                                         "attention.prefill@cuda.cudnn",
                                         "attention.decode@cuda.flash"});
}

TEST_CASE("attention cuda defs: memory cap, old devices and several GPUs", "[attention_cuda]") {
    // A 1 GiB GPU cannot hold the batch-64 128k-token KV cache (34 GB).
    const auto small = defs_for(host_with({fake_gpu(0, 9, 0, 132, 1980, kGiB)}));
    const auto* big = find_def(
        small, "attention.decode",
        {{"preset", "llama3_8b"}, {"batch", "64"}, {"kv_len", "131072"}, {"dtype", "bf16"}});
    REQUIRE(big != nullptr);
    CHECK(big->skip_reason.find("exceeds the cap") != std::string::npos);
    CHECK_FALSE(big->make);
    const auto* tiny =
        find_def(small, "attention.decode",
                 {{"preset", "llama3_8b"}, {"batch", "1"}, {"kv_len", "1024"}, {"dtype", "bf16"}});
    REQUIRE(tiny != nullptr);
    CHECK(tiny->skip_reason.empty());

    const auto volta = defs_for(host_with({fake_gpu(0, 7, 0, 80, 1530, 32 * kGiB)}));
    std::set<std::string> volta_backends;
    for (const auto& d : volta) {
        volta_backends.insert(d.backend);
        CHECK(d.skip_reason.find("below 8.0") != std::string::npos);
        CHECK_FALSE(d.make);
    }
    CHECK(volta_backends == std::set<std::string>{"cuda.flash", "cuda.cudnn"});

    // cuDNN missing: only the cuda.cudnn entries are skipped, with the loader's reason.
    auto no_cudnn = fake_runtime();
    no_cudnn.cudnn_unavailable_reason =
        "cuDNN unavailable: libcudnn.so.9 not found: libcudnn.so.9: cannot open shared object file";
    std::size_t skipped_cudnn = 0;
    for (const auto& d : defs_for(h100_host(), no_cudnn)) {
        if (d.backend == "cuda.cudnn") {
            CHECK(d.skip_reason == no_cudnn.cudnn_unavailable_reason);
            CHECK_FALSE(d.make);
            ++skipped_cudnn;
        } else {
            CHECK(d.skip_reason.empty());
        }
    }
    CHECK(skipped_cudnn > 20);

    const auto two = defs_for(host_with(
        {fake_gpu(0, 9, 0, 132, 1980, 80 * kGiB), fake_gpu(1, 8, 0, 108, 1410, 80 * kGiB)}));
    std::set<std::string> devices;
    for (const auto& d : two) {
        devices.insert(d.device);
    }
    CHECK(devices == std::set<std::string>{"cuda:0", "cuda:1"});
    CHECK(two.size() == 2 * defs_for(h100_host()).size());
}

TEST_CASE("attention cuda defs: without a GPU or CUDA, the headline entries say why",
          "[attention_cuda]") {
    assay::HostInfo none;
    none.gpu.none_reason = "none detected: no NVIDIA driver (libcuda) on this host";
    const auto defs = defs_for(none);
    // The bf16 quick cases: prefill and decode on cuda.flash.
    REQUIRE(defs.size() == 2);
    CHECK(defs[0].bench_case.benchmark == "attention.prefill");
    CHECK(defs[1].bench_case.benchmark == "attention.decode");
    for (const auto& d : defs) {
        CHECK(d.backend == "cuda.flash");
        CHECK(d.bench_case.params.at("dtype") == "bf16");
        CHECK(d.skip_reason ==
              "no CUDA GPU: none detected: no NVIDIA driver (libcuda) on this host");
        CHECK_FALSE(d.make);
        CHECK(d.device == "cuda:0");
    }
    assay::CudaAttentionRuntime missing;
    missing.unavailable_reason = "built without CUDA (ASSAY_CUDA=OFF or nvcc not found)";
    const auto off = defs_for(h100_host(), missing);
    REQUIRE(off.size() == 2);
    CHECK(off[0].skip_reason == missing.unavailable_reason);

    // This build's own runtime on a GPU-less host: every entry skipped, with a reason.
    std::vector<assay::BenchmarkDef> mine;
    assay::add_attention_cuda_defs(assay::HostInfo{}, {}, mine);
    REQUIRE(mine.size() == 2);
    for (const auto& d : mine) {
        CHECK_FALSE(d.skip_reason.empty());
    }

    // Real topologies (no GPUs queried) give the same skipped entries.
    const std::filesystem::path dir = ASSAY_TOPOLOGY_DIR;
    int hosts = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        if (e.path().extension() != ".xml" || hosts >= 3) {
            continue;
        }
        const auto h =
            assay::probe_host(assay::ProbeOptions{.topology_xml = e.path(), .query_gpus = false});
        std::vector<assay::BenchmarkDef> from_xml;
        assay::add_attention_cuda_defs(h, {}, from_xml);
        INFO(e.path().string());
        CHECK(from_xml.size() == 2);
        ++hosts;
    }
    CHECK(hosts == 3);
}

TEST_CASE("attention cuda: problems outside the kernels are refused with a reason",
          "[attention_cuda]") {
    AttentionCase c;
    c.phase = Phase::prefill;
    c.shape = {1, 32, 8, 128, 512, 512, true};
    c.q_dtype = Dtype::f32;
    c.kv_dtype = Dtype::f32;
    std::string why;
    CHECK_FALSE(assay::cuda_attention_problem(c, why));
    CHECK(why.find("both bf16 or both f16") != std::string::npos);

    c.q_dtype = Dtype::bf16;
    c.kv_dtype = Dtype::bf16;
    const auto ok = assay::cuda_attention_problem(c, why);
    REQUIRE(ok);
    CHECK(why.empty());
    CHECK(ok->dtype == assay::cuda::AttnDtype::bf16);
    CHECK_FALSE(ok->decode);
    CHECK(ok->causal);
    CHECK(ok->seq_kv == 512);

    c.shape.head_dim = 256;
    CHECK_FALSE(assay::cuda_attention_problem(c, why));
    CHECK(why.find("head_dim 64 and 128") != std::string::npos);

    c.phase = Phase::decode;
    c.shape = {1, 64, 4, 128, 1, 4096, false};  // GQA group 16
    CHECK_FALSE(assay::cuda_attention_problem(c, why));
    CHECK(why.find("up to 8") != std::string::npos);
    c.shape.heads_kv = 8;
    CHECK(assay::cuda_attention_problem(c, why));
    c.shape.seq_q = 2;
    CHECK_FALSE(assay::cuda_attention_problem(c, why));
    CHECK(why.find("one query token") != std::string::npos);
}

TEST_CASE("attention cuda: the device input generator matches the CPU suite's fill_random",
          "[attention_cuda]") {
    constexpr std::size_t kCount = std::size_t{1} << 20;
    for (const auto& [dtype, cuda_dtype] : {std::pair{Dtype::bf16, assay::cuda::AttnDtype::bf16},
                                            std::pair{Dtype::f16, assay::cuda::AttnDtype::f16}}) {
        for (const std::uint64_t seed : {std::uint64_t{0xA77E}, std::uint64_t{0xA77E + 2}}) {
            std::vector<std::uint16_t> cpu(kCount);
            assay::attention::fill_random(cpu.data(), dtype, 0, kCount, seed);
            std::size_t mismatches = 0;
            std::size_t tiny = 0;  // fp16 subnormals (|x| < 2^-14) exercise the rounding path
            for (std::size_t i = 0; i < kCount; ++i) {
                const std::uint16_t bits = assay::cuda::attn_input_bits(cuda_dtype, seed, i);
                mismatches += bits != cpu[i] ? 1 : 0;
                tiny += (bits & 0x7C00U) == 0 ? 1 : 0;
            }
            INFO(assay::attention::dtype_param(dtype) << " seed " << seed);
            CHECK(mismatches == 0);
            if (dtype == Dtype::f16) {
                CHECK(tiny > 0);
            }
        }
    }
    // Different seeds give different tensors (Q, K and V are not the same numbers).
    int same = 0;
    for (std::uint64_t i = 0; i < 64; ++i) {
        same += assay::cuda::attn_input_bits(assay::cuda::AttnDtype::bf16, 1, i) ==
                        assay::cuda::attn_input_bits(assay::cuda::AttnDtype::bf16, 2, i)
                    ? 1
                    : 0;
    }
    CHECK(same < 8);
}
