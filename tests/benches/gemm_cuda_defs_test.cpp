// Catalog entries of the cuBLASLt GEMM family: no GPU needed (synthetic GpuInfo, fake runtime).
#include "benches/cuda/gemm_cuda_defs.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include "probes/gpu_peaks.hpp"

#include "probes/probe.hpp"

namespace {

constexpr std::uint64_t kGiB = std::uint64_t{1} << 30;

/// A kernel that must never be made: these tests only look at the defs.
class NeverKernel final : public assay::Kernel {
  public:
    void prepare() override {}
    void run() override {}
    assay::Verification verify() override { return {}; }
    assay::WorkModel work() const override { return {}; }
};

int made = 0;

assay::CudaGemmRuntime fake_runtime() {
    assay::CudaGemmRuntime r;
    r.make_kernel = [](const assay::cuda::GemmProblem&,
                       const assay::cuda::GemmSetup&) -> std::unique_ptr<assay::Kernel> {
        ++made;
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
assay::HostInfo a100_host() {
    return host_with({fake_gpu(0, 8, 0, 108, 1410, 80 * kGiB)});
}

std::vector<assay::BenchmarkDef> defs_for(const assay::HostInfo& h,
                                          const assay::CudaGemmRuntime& r = fake_runtime(),
                                          const assay::CatalogOptions& o = {}) {
    std::vector<assay::BenchmarkDef> defs;
    assay::add_gemm_cuda_defs(h, o, r, defs);
    return defs;
}

const assay::BenchmarkDef& find_square(const std::vector<assay::BenchmarkDef>& defs,
                                       const std::string& dtype, const std::string& size,
                                       const std::string& layout) {
    for (const auto& d : defs) {
        const auto& p = d.bench_case.params;
        if (d.bench_case.benchmark == "gemm.square" && p.at("dtype") == dtype &&
            p.at("m") == size && p.at("layout") == layout) {
            return d;
        }
    }
    FAIL("no square case " << dtype << " " << size << " " << layout);
    throw std::logic_error("unreachable");
}

double context(const assay::BenchmarkDef& d, const std::string& name) {
    for (const auto& m : d.context) {
        if (m.name == name) {
            return m.value;
        }
    }
    return -1;
}

}  // namespace

TEST_CASE("gemm cuda defs: H100 offers every dtype with peaks and factories", "[gemm_cuda]") {
    made = 0;
    const auto defs = defs_for(h100_host());
    std::set<std::string> names;
    for (const auto& d : defs) {
        INFO(d.full_name() << " skip: " << d.skip_reason);
        CHECK(names.insert(d.full_name()).second);  // unique
        CHECK(d.device == "cuda:0");
        CHECK(d.backend == "cublaslt");
        CHECK(d.aarch64 == "yes");
        const bool llm = d.bench_case.benchmark == "gemm.llm";
        CHECK((llm || d.bench_case.benchmark == "gemm.square"));
        CHECK(d.bench_case.params.count("shape") == (llm ? 1U : 0U));
        for (const char* key : {"dtype", "m", "n", "k", "layout"}) {
            CHECK(d.bench_case.params.count(key) == 1);
        }
        // Round trip of the canonical parameters.
        CHECK(assay::Case::parse_params(d.bench_case.canonical_params()) == d.bench_case.params);
        CHECK((d.skip_reason.empty() == static_cast<bool>(d.make)));
    }
    const auto& bf16 = find_square(defs, "bf16", "8192", "nn");
    CHECK(bf16.skip_reason.empty());
    CHECK(context(bf16, "peak_estimate_ops_per_s") == Approx(989.4e12).epsilon(0.02));
    CHECK(context(bf16, "working_set_bytes") == Approx(3.0 * 8192 * 8192 * 2));
    const auto& f64 = find_square(defs, "f64", "4096", "nt");
    CHECK(f64.skip_reason.empty());
    CHECK(context(f64, "peak_estimate_ops_per_s") == Approx(66.9e12).epsilon(0.02));
    const auto& fp8 = find_square(defs, "fp8e4m3", "8192", "nt");
    CHECK(fp8.skip_reason.empty());
    CHECK(context(fp8, "peak_estimate_ops_per_s") == Approx(1979e12).epsilon(0.02));
    CHECK(find_square(defs, "s8s8s32", "2048", "nt").skip_reason.empty());
    // The make factory is the runtime's.
    auto k = bf16.make();
    CHECK(k != nullptr);
    CHECK(made == 1);
}

TEST_CASE("gemm cuda defs: tn-only dtypes and alignment rules skip with reasons", "[gemm_cuda]") {
    const auto defs = defs_for(h100_host());
    const auto& int8_nn = find_square(defs, "s8s8s32", "4096", "nn");
    CHECK(int8_nn.skip_reason.find("TN form") != std::string::npos);
    CHECK_FALSE(int8_nn.make);
    CHECK(find_square(defs, "fp8e4m3", "4096", "nn").skip_reason.find("TN form") !=
          std::string::npos);
    CHECK(find_square(defs, "fp8e4m3", "3000", "nt").skip_reason.find("multiples of 16") !=
          std::string::npos);
    CHECK(find_square(defs, "s8s8s32", "1000", "nt").skip_reason.empty());  // 1000 = 4 x 250
    // Non-power-of-two sizes run for the float dtypes.
    CHECK(find_square(defs, "f16", "1000", "nn").skip_reason.empty());
}

TEST_CASE("gemm cuda defs: A100 has no fp8", "[gemm_cuda]") {
    const auto defs = defs_for(a100_host());
    CHECK(find_square(defs, "fp8e4m3", "8192", "nt").skip_reason ==
          "fp8 needs compute capability >= 8.9");
    const auto& bf16 = find_square(defs, "bf16", "8192", "nn");
    CHECK(bf16.skip_reason.empty());
    CHECK(context(bf16, "peak_estimate_ops_per_s") == Approx(312e12).epsilon(0.01));
    CHECK(find_square(defs, "tf32", "8192", "nn").skip_reason.empty());
}

TEST_CASE("gemm cuda defs: pre-Ampere devices are skipped", "[gemm_cuda]") {
    const auto defs = defs_for(host_with({fake_gpu(0, 7, 0, 80, 1530, 32 * kGiB)}));
    for (const auto& d : defs) {
        CHECK(d.skip_reason.find("below 8.0") != std::string::npos);
    }
}

TEST_CASE("gemm cuda defs: LLM shapes carry the Llama 3 dimensions", "[gemm_cuda]") {
    const auto defs = defs_for(h100_host());
    std::map<std::string, std::pair<std::string, std::string>> nk;  // shape -> (n, k)
    std::set<std::string> tokens;
    for (const auto& d : defs) {
        const auto& p = d.bench_case.params;
        if (d.bench_case.benchmark == "gemm.square") {
            continue;
        }
        CHECK(p.at("m") == p.at("tokens"));
        CHECK((p.at("dtype") == "bf16" || p.at("dtype") == "fp8e4m3"));
        CHECK(d.suites == std::vector<std::string>{"full"});
        nk[p.at("shape")] = {p.at("n"), p.at("k")};
        tokens.insert(p.at("tokens"));
    }
    CHECK(tokens == std::set<std::string>{"1", "16", "128", "2048"});
    using P = std::pair<std::string, std::string>;
    CHECK(nk.at("llama3-8b.q") == P{"4096", "4096"});
    CHECK(nk.at("llama3-8b.kv") == P{"1024", "4096"});
    CHECK(nk.at("llama3-8b.mlp_gate_up") == P{"14336", "4096"});
    CHECK(nk.at("llama3-8b.mlp_down") == P{"4096", "14336"});
    CHECK(nk.at("llama3-70b.q") == P{"8192", "8192"});
    CHECK(nk.at("llama3-70b.kv") == P{"1024", "8192"});
    CHECK(nk.at("llama3-70b.mlp_gate_up") == P{"28672", "8192"});
    CHECK(nk.at("llama3-70b.mlp_down") == P{"8192", "28672"});
    CHECK(nk.at("llama3-8b.o") == P{"4096", "4096"});
    CHECK(nk.at("llama3-70b.o") == P{"8192", "8192"});
    CHECK(nk.size() == 10);
}

TEST_CASE("gemm cuda defs: quick suite is the two headline cases", "[gemm_cuda]") {
    const auto defs = defs_for(h100_host());
    std::set<std::string> quick;
    for (const auto& d : defs) {
        for (const auto& s : d.suites) {
            if (s == "quick") {
                quick.insert(d.bench_case.params.at("dtype") + "/" +
                             d.bench_case.params.at("layout"));
            }
        }
    }
    CHECK(quick == std::set<std::string>{"bf16/nn", "fp8e4m3/nt"});
}

TEST_CASE("gemm cuda defs: memory cap and multiple GPUs", "[gemm_cuda]") {
    // 1 GiB GPU: 8192^2 f64 (1.5 GiB) exceeds half of it.
    const auto small = defs_for(host_with({fake_gpu(0, 9, 0, 132, 1980, kGiB)}));
    CHECK(find_square(small, "f64", "8192", "nn").skip_reason.find("exceeds the cap") !=
          std::string::npos);
    CHECK(find_square(small, "f64", "2048", "nn").skip_reason.empty());
    assay::CatalogOptions o;
    o.max_working_set_bytes = 1 << 20;
    const auto capped = defs_for(h100_host(), fake_runtime(), o);
    CHECK_FALSE(find_square(capped, "bf16", "1024", "nn").skip_reason.empty());
    CHECK(find_square(capped, "bf16", "256", "nn").skip_reason.empty());

    const auto two = defs_for(host_with(
        {fake_gpu(0, 9, 0, 132, 1980, 80 * kGiB), fake_gpu(1, 9, 0, 132, 1980, 80 * kGiB)}));
    std::set<std::string> devices;
    for (const auto& d : two) {
        devices.insert(d.device);
    }
    CHECK(devices == std::set<std::string>{"cuda:0", "cuda:1"});
    CHECK(two.size() == 2 * defs_for(h100_host()).size());
}

TEST_CASE("gemm cuda defs: without GPU or runtime, one skipped entry per dtype says why",
          "[gemm_cuda]") {
    assay::HostInfo none;
    none.gpu.none_reason = "none detected: no NVIDIA driver (libcuda) on this host";
    const auto defs = defs_for(none);
    REQUIRE(defs.size() == 7);
    for (const auto& d : defs) {
        CHECK(d.skip_reason ==
              "no CUDA GPU: none detected: no NVIDIA driver (libcuda) on this host");
        CHECK_FALSE(d.make);
        CHECK(d.bench_case.params.at("m") == "8192");
    }
    assay::CudaGemmRuntime missing;
    missing.unavailable_reason = "cuBLASLt unavailable: libcublasLt.so.13 not found: x";
    const auto no_lt = defs_for(h100_host(), missing);
    REQUIRE(no_lt.size() == 7);
    CHECK(no_lt[0].skip_reason == missing.unavailable_reason);

    // This build's own runtime on a GPU-less host: every entry skipped, with a reason.
    std::vector<assay::BenchmarkDef> mine;
    assay::add_gemm_cuda_defs(assay::HostInfo{}, {}, mine);
    REQUIRE(mine.size() == 7);
    for (const auto& d : mine) {
        CHECK_FALSE(d.skip_reason.empty());
    }
}

TEST_CASE("gemm cuda defs: real topologies without GPUs give skipped entries", "[gemm_cuda]") {
    const std::filesystem::path dir = ASSAY_TOPOLOGY_DIR;
    REQUIRE(std::filesystem::is_directory(dir));
    int hosts = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        if (e.path().extension() != ".xml") {
            continue;
        }
        const auto h =
            assay::probe_host(assay::ProbeOptions{.topology_xml = e.path(), .query_gpus = false});
        std::vector<assay::BenchmarkDef> defs;
        assay::add_gemm_cuda_defs(h, {}, defs);
        INFO(e.path().string());
        CHECK(defs.size() == 7);
        for (const auto& d : defs) {
            CHECK_FALSE(d.skip_reason.empty());
        }
        ++hosts;
    }
    CHECK(hosts > 5);
}
