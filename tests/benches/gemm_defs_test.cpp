#include "benches/cpu/gemm/gemm_defs.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <set>
#include <string>

#include "benches/cpu/gemm/gemm_cpu.hpp"
#include "probes/probe.hpp"

namespace {

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

}  // namespace

TEST_CASE("gemm defs on real topologies: unique names, small quick set, canonical params",
          "[gemm]") {
    for (const auto& entry : std::filesystem::directory_iterator(ASSAY_TOPOLOGY_DIR)) {
        if (entry.path().extension() != ".xml") {
            continue;
        }
        const std::string file = entry.path().filename().string();
        CAPTURE(file);
        const assay::HostInfo host = load(file);
        std::vector<assay::BenchmarkDef> defs;
        assay::add_gemm_cpu_defs(host, {}, defs);
        REQUIRE(defs.size() > 100);

        std::set<std::string> names;
        std::size_t quick = 0;
        for (const auto& d : defs) {
            CAPTURE(d.full_name());
            CHECK(names.insert(d.full_name()).second);
            CHECK(d.device == "cpu");
            CHECK(d.bench_case.family() == "gemm");
            CHECK(d.aarch64 == "yes");
            const auto& p = d.bench_case.params;
            REQUIRE(p.count("dtype") == 1);
            CHECK(assay::gemm_dtype_from_name(p.at("dtype")).has_value());
            CHECK((p.at("layout") == "nn" || p.at("layout") == "nt"));
            CHECK(p.count("m") == 1);
            CHECK(p.count("n") == 1);
            CHECK(p.count("k") == 1);
            CHECK(p.count("placement") == 1);
            if (d.bench_case.benchmark == "gemm.square") {
                CHECK(p.size() == 6);
                CHECK(p.at("m") == p.at("n"));
                CHECK(p.at("n") == p.at("k"));
            } else {
                REQUIRE(d.bench_case.benchmark == "gemm.llm");
                CHECK(p.size() == 8);
                CHECK(p.at("tokens") == p.at("m"));
                CHECK(p.at("layout") == "nt");
                CHECK(p.at("shape").rfind("llama3-", 0) == 0);
            }
            // Exactly one of: runnable (with its thread count) or skipped with a reason.
            CHECK(d.skip_reason.empty() == static_cast<bool>(d.make));
            if (d.make) {
                REQUIRE(context(d, "threads") != nullptr);
                CHECK(context(d, "threads")->value >= 1);
                CHECK(d.sampling.max_seconds.has_value());
            }
            if (std::find(d.suites.begin(), d.suites.end(), "quick") != d.suites.end()) {
                ++quick;
                CHECK(p.at("dtype") == "f32");
                CHECK(p.at("m") == "1024");
                CHECK(p.at("placement") == "all_cores");
            }
        }
        CHECK(quick == 3);  // one per backend
    }
}

TEST_CASE("gemm defs: placements, skip reasons, memory cap and peak share", "[gemm]") {
    assay::HostInfo host = load("64amd64-4s2n4ca2co.xml");
    assay::PeakEstimate peak;
    peak.dtype = "fp32";
    peak.ops_per_second = 1e12;
    host.peaks.push_back(peak);
    std::vector<assay::BenchmarkDef> defs;
    assay::CatalogOptions options;
    options.max_working_set_bytes = std::uint64_t{512} << 20;
    assay::add_gemm_cpu_defs(host, options, defs);

    std::set<std::string> placements;
    bool saw_cap_skip = false, saw_peak = false, saw_dtype_skip = false;
    for (const auto& d : defs) {
        CAPTURE(d.full_name(), d.skip_reason);
        placements.insert(d.bench_case.params.at("placement"));
        const auto ws = 2 * std::stoull(d.bench_case.params.at("k"));
        (void)ws;
        if (d.skip_reason.find("exceeds the cap") != std::string::npos) {
            saw_cap_skip = true;
            CHECK(d.bench_case.params.at("m") != "256");
        }
        if (d.backend == "onednn" && d.bench_case.params.at("dtype") == "f16" &&
            !d.skip_reason.empty()) {
            saw_dtype_skip = true;
        }
        if (const auto* m = context(d, "peak_estimate_ops_per_s")) {
            saw_peak = true;
            CHECK(d.bench_case.params.at("dtype") == "f32");
            const double threads = context(d, "threads")->value;
            CHECK(m->value == Approx(1e12 * threads / host.topology.cores));
        }
        if (d.make && d.bench_case.params.at("dtype") != "f32") {
            CHECK(context(d, "peak_estimate_ops_per_s") == nullptr);
        }
    }
    CHECK(placements == std::set<std::string>{"one_core", "numa0_cores", "all_cores"});
    CHECK(saw_cap_skip);  // 8192^2 x 3 x 4 bytes = 768 MiB > 512 MiB
    CHECK(saw_peak);
    (void)saw_dtype_skip;  // f16 depends on the CPU running the test
}

TEST_CASE("gemm defs: a kernel made from the catalog runs and verifies", "[gemm]") {
    assay::HostInfo host = load("kvm-2core-spr-amx.xml");
    std::vector<assay::BenchmarkDef> defs;
    assay::add_gemm_cpu_defs(host, {}, defs);
    const assay::BenchmarkDef* runnable = nullptr;
    std::size_t candidates = 0;
    for (const auto& d : defs) {
        const auto& p = d.bench_case.params;
        if (p.at("m") != "1024" || p.at("placement") != "one_core") {
            continue;
        }
        ++candidates;
        CAPTURE(d.full_name(), d.skip_reason);
        if (d.make) {
            runnable = runnable != nullptr ? runnable : &d;
        } else {
            // Skipped: with the backend's own reason for this dtype here (it names the library).
            const auto dtype = assay::gemm_dtype_from_name(p.at("dtype"));
            REQUIRE(dtype.has_value());
            CHECK(d.skip_reason == assay::gemm_backend_skip_reason(d.backend, *dtype));
            CHECK_FALSE(d.skip_reason.empty());
        }
    }
    REQUIRE(candidates > 0);
#if defined(__x86_64__) || defined(__aarch64__)
    // OpenBLAS and BLIS are installed for both architectures in this project's environment.
    REQUIRE(runnable != nullptr);
#endif
    if (runnable != nullptr) {
        auto kernel = runnable->make();
        kernel->prepare();
        kernel->run();
        const auto v = kernel->verify();
        INFO(runnable->full_name() << ": " << v.detail);
        CHECK(v.ok);
    }
}
