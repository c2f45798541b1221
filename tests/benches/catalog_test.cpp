#include "benches/catalog.hpp"

#include "benches/cpu/stream_kernels.hpp"
#include "benches/cpu/stream_triad.hpp"
#include "probes/probe.hpp"
#include "tests/probes/topology_without_caches.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <optional>
#include <set>
#include <string>

namespace {

constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;
constexpr std::uint64_t kGiB = kMiB << 10;

assay::HostInfo two_core_host() {
    assay::HostInfo h;
    h.topology.packages = 1;
    h.topology.cores = 2;
    h.topology.pus = 4;
    for (unsigned c = 0; c < 2; ++c) {
        assay::CoreInfo core;
        core.logical_index = c;
        core.pu_os_indices = {c, c + 2};  // SMT siblings numbered after all cores
        h.topology.core_list.push_back(core);
    }
    assay::CacheLevel l1d;
    l1d.level = 1;
    l1d.type = "data";
    l1d.size_bytes = 48 * 1024;
    l1d.instances = 2;
    l1d.cores_per_instance = 1;
    assay::CacheLevel l2;
    l2.level = 2;
    l2.type = "unified";
    l2.size_bytes = 1 * kMiB;
    l2.instances = 2;
    l2.cores_per_instance = 1;
    assay::CacheLevel l3;
    l3.level = 3;
    l3.type = "unified";
    l3.size_bytes = 32 * kMiB;
    l3.instances = 1;
    l3.cores_per_instance = 2;
    h.topology.caches = {l1d, l2, l3};
    h.topology.numa_memory_bytes = 16 * kGiB;
    h.topology.os_available_memory_bytes = 8 * kGiB;
    return h;
}

/// The original stream.triad case (regular stores, no `stores` param) on `placement`.
const assay::BenchmarkDef* find(const std::vector<assay::BenchmarkDef>& defs,
                                const std::string& placement) {
    for (const auto& d : defs) {
        if (d.bench_case.benchmark == "stream.triad" && d.bench_case.params.count("stores") == 0 &&
            d.bench_case.params.at("placement") == placement) {
            return &d;
        }
    }
    return nullptr;
}

const assay::BenchmarkDef* find_case(const std::vector<assay::BenchmarkDef>& defs,
                                     const std::string& id) {
    for (const auto& d : defs) {
        if (d.device == "cpu" && d.bench_case.id() == id) {
            return &d;
        }
    }
    return nullptr;
}

double context(const assay::BenchmarkDef& d, const std::string& name, double missing = -1) {
    for (const auto& m : d.context) {
        if (m.name == name) {
            return m.value;
        }
    }
    return missing;
}

}  // namespace

TEST_CASE("catalog sizes stream.triad at >= 4x LLC with one thread per core",
          "[benches][catalog]") {
    const auto defs = assay::build_catalog(two_core_host());
    const auto* all = find(defs, "all_cores");
    const auto* one = find(defs, "one_core");
    REQUIRE(all != nullptr);
    REQUIRE(one != nullptr);

    CHECK(all->full_name() ==
          "stream.triad/dtype=f64,placement=all_cores,size=dram@cpu:cpu.native");
    CHECK(all->suites == std::vector<std::string>{"quick", "full"});
    CHECK(one->suites == std::vector<std::string>{"full"});
    CHECK(all->aarch64 == "yes");
    CHECK(all->skip_reason.empty());
    REQUIRE(all->make);

    CHECK(context(*all, "threads") == 2);
    CHECK(context(*one, "threads") == 1);
    const double array_bytes = context(*all, "array_bytes");
    CHECK(array_bytes >= 4.0 * 32 * kMiB);
    CHECK(std::fmod(array_bytes, 2 * 64) == 0);
    CHECK(context(*all, "working_set_bytes") == 3 * array_bytes);
    CHECK(context(*all, "llc_bytes") == 32.0 * kMiB);
    CHECK(context(*all, "working_set_below_4x_llc", 0) == 0);
    CHECK(context(*all, "llc_bytes_assumed", 0) == 0);
    for (const auto& m : all->context) {
        CHECK(m.direction == assay::Direction::none);
    }
}

TEST_CASE("catalog places the all_cores kernel on the first PU of each core",
          "[benches][catalog]") {
    // make() builds a kernel without pinning or allocating (that happens in prepare()).
    const auto defs = assay::build_catalog(two_core_host());
    const auto* all = find(defs, "all_cores");
    const auto* one = find(defs, "one_core");
    REQUIRE(all != nullptr);
    REQUIRE(one != nullptr);
    auto k_all = all->make();
    auto k_one = one->make();
    const auto* triad_all = dynamic_cast<const assay::StreamTriadKernel*>(k_all.get());
    const auto* triad_one = dynamic_cast<const assay::StreamTriadKernel*>(k_one.get());
    REQUIRE(triad_all != nullptr);
    REQUIRE(triad_one != nullptr);
    CHECK(triad_all->pus() == std::vector<unsigned>{0, 1});
    CHECK(triad_one->pus() == std::vector<unsigned>{0});
    CHECK(static_cast<double>(triad_all->elements()) * 8 == context(*all, "array_bytes"));
    CHECK(k_all->work().bytes_stream == 3 * context(*all, "array_bytes"));
}

TEST_CASE("catalog skips with a reason when the topology has no cores", "[benches][catalog]") {
    assay::HostInfo h = two_core_host();
    h.topology.core_list.clear();
    const auto defs = assay::build_catalog(h);
    REQUIRE(!defs.empty());
    for (const auto& d : defs) {
        if (d.device != "cpu") {
            continue;  // GPU entries have their own reasons (no GPU in this host)
        }
        INFO(d.full_name() << ": " << d.skip_reason);
        CHECK_FALSE(d.make);
        if (d.bench_case.benchmark.rfind("gemm", 0) == 0) {
            // A missing library may be the first reason a GEMM backend gives; either way it
            // cannot run and says why.
            CHECK_FALSE(d.skip_reason.empty());
        } else {
            CHECK(d.skip_reason == "no cores in the probed topology");
        }
    }
}

TEST_CASE("a tiny working-set cap shrinks the arrays and says so", "[benches][catalog]") {
    const std::uint64_t cap = 3 * kMiB;
    const auto defs = assay::build_catalog(two_core_host(), {.max_working_set_bytes = cap});
    const auto* all = find(defs, "all_cores");
    REQUIRE(all != nullptr);
    const double array_bytes = context(*all, "array_bytes");
    CHECK(array_bytes > 0);
    CHECK(3 * array_bytes <= static_cast<double>(cap));
    CHECK(std::fmod(array_bytes, 2 * 64) == 0);
    CHECK(context(*all, "working_set_below_4x_llc") == 1);
}

TEST_CASE("available memory caps the working set when no explicit cap", "[benches][catalog]") {
    assay::HostInfo h = two_core_host();
    h.topology.os_available_memory_bytes = 600 * kMiB;  // cap = 150 MiB in all
    const auto defs = assay::build_catalog(h);
    const auto* all = find(defs, "all_cores");
    REQUIRE(all != nullptr);
    CHECK(context(*all, "working_set_bytes") <= 150.0 * kMiB);
    CHECK(context(*all, "working_set_below_4x_llc") == 1);

    h.topology.os_available_memory_bytes.reset();  // falls back to NUMA memory (16 GiB / 4)
    const auto defs2 = assay::build_catalog(h);
    CHECK(context(*find(defs2, "all_cores"), "working_set_below_4x_llc", 0) == 0);
}

TEST_CASE("an unknown LLC assumes 64 MiB and records the assumption", "[benches][catalog]") {
    assay::HostInfo h = two_core_host();
    h.topology.caches.clear();
    const auto defs = assay::build_catalog(h);
    const auto* all = find(defs, "all_cores");
    REQUIRE(all != nullptr);
    CHECK(context(*all, "llc_bytes_assumed") == 1);
    CHECK(context(*all, "llc_bytes") == 64.0 * kMiB);
    CHECK(context(*all, "array_bytes") >= 4.0 * 64 * kMiB);
}

TEST_CASE("a probed host without caches: every LLC-sized case assumes 64 MiB and says so",
          "[benches][catalog]") {
    // What the probe gives where it finds no caches (qemu-user on a VM without sysfs caches):
    // empty caches with the reason. Here from a real XML with its cache objects taken out.
    const std::filesystem::path xml =
        std::filesystem::path(ASSAY_TEST_TMP) / "benches" / "catalog-no-caches.xml";
    std::filesystem::create_directories(xml.parent_path());
    REQUIRE(assay::test::write_topology_without_caches(
                std::filesystem::path(ASSAY_TOPOLOGY_DIR) / "kvm-2core-spr-amx.xml", xml) > 0);
    assay::ProbeOptions probe;
    probe.topology_xml = xml;
    probe.query_gpus = false;
    const assay::HostInfo h = assay::probe_host(probe);
    REQUIRE(h.topology.caches.empty());
    REQUIRE_FALSE(h.topology.caches_missing_reason.empty());

    std::set<std::string> sized;  // benchmarks that size from the LLC
    std::size_t sweep_points = 0;
    for (const auto& d : assay::build_catalog(h)) {
        if (d.device != "cpu" || !d.skip_reason.empty()) {
            continue;
        }
        INFO(d.full_name());
        if (const auto llc = context(d, "llc_bytes", -1); llc >= 0) {
            sized.insert(d.bench_case.benchmark);
            CHECK(llc == 64.0 * kMiB);
            CHECK(context(d, "llc_bytes_assumed", 0) == 1);
        }
        if (d.bench_case.benchmark == "mem.sweep") {
            // No cache to hold any point: every point is labelled DRAM.
            ++sweep_points;
            CHECK(context(d, "level.DRAM", 0) == 1);
        }
    }
    for (const char* family : {"stream.triad", "mem.latency", "mem.loaded_latency",
                               "mem.numa.bandwidth", "mem.numa.latency", "attention.decode"}) {
        INFO(family);
        CHECK(sized.count(family) == 1);
    }
    CHECK(sweep_points > 0);
}

// Graviton is the AI CPU that matters most: every benchmark must say how it runs on aarch64,
// either "yes" (an Arm implementation exists) or an explicit, recorded "n/a on aarch64: <reason>".
TEST_CASE("every catalog entry has an aarch64 implementation or a recorded n/a",
          "[catalog][aarch64]") {
    auto host = two_core_host();
    const auto defs = assay::build_catalog(host);
    REQUIRE_FALSE(defs.empty());
    for (const auto& d : defs) {
        INFO(d.full_name() << " aarch64='" << d.aarch64 << "'");
        const bool yes = d.aarch64 == "yes";
        const std::string na_prefix = "n/a on aarch64: ";
        const bool na = d.aarch64.rfind(na_prefix, 0) == 0 && d.aarch64.size() > na_prefix.size();
        CHECK((yes || na));
    }
}

TEST_CASE("catalog entries have unique names and belong to a suite", "[catalog]") {
    const auto defs = assay::build_catalog(two_core_host());
    std::set<std::string> names;
    for (const auto& d : defs) {
        INFO(d.full_name());
        CHECK(names.insert(d.full_name()).second);
        // Assay's own params need no percent-encoding: their stored case ids are unchanged.
        CHECK(d.bench_case.canonical_params().find('%') == std::string::npos);
        CHECK_FALSE(d.suites.empty());
        CHECK((d.skip_reason.empty() == static_cast<bool>(d.make)));
    }
}

TEST_CASE("a host without GPUs gets skipped CUDA entries that say why", "[catalog][cuda]") {
    assay::HostInfo h = two_core_host();
    h.gpu.none_reason = "none detected: no NVIDIA driver";
    const auto defs = assay::build_catalog(h);
    int cuda = 0;
    for (const auto& d : defs) {
        if (d.device.rfind("cuda:", 0) != 0)
            continue;
        ++cuda;
        INFO(d.full_name() << ": " << d.skip_reason);
        CHECK_FALSE(d.make);
        const bool no_gpu = d.skip_reason.find("no CUDA GPU") != std::string::npos;
        const bool no_build = d.skip_reason.rfind("built without CUDA", 0) == 0;
        CHECK((no_gpu || no_build));
    }
    // One entry per family and dtype records the absence, not hundreds of rows.
    CHECK(cuda >= 1);
    CHECK(cuda <= 20);
}

TEST_CASE("quick suite: triad regular and nt and sum on all cores, one latency, few GEMMs",
          "[catalog][stream]") {
    const auto defs = assay::build_catalog(two_core_host());
    std::set<std::string> quick_stream;
    std::size_t quick_latency = 0;
    std::size_t quick_gemm = 0;
    std::size_t quick_attention = 0;
    std::size_t quick_cpu = 0;
    for (const auto& d : defs) {
        const bool in_quick =
            std::find(d.suites.begin(), d.suites.end(), "quick") != d.suites.end();
        if (d.device != "cpu" || !in_quick) {
            continue;
        }
        ++quick_cpu;
        const std::string& b = d.bench_case.benchmark;
        if (b.rfind("stream.", 0) == 0) {
            quick_stream.insert(d.bench_case.id());
        } else if (b == "mem.latency") {
            ++quick_latency;
        } else if (b.rfind("gemm", 0) == 0) {
            ++quick_gemm;
        } else if (b.rfind("attention.", 0) == 0) {
            ++quick_attention;
        }
    }
    CHECK(quick_stream == std::set<std::string>{
                              "stream.triad/dtype=f64,placement=all_cores,size=dram",
                              "stream.triad/dtype=f64,placement=all_cores,size=dram,stores=nt",
                              "stream.sum/dtype=f64,placement=all_cores,size=dram",
                          });
    CHECK(quick_latency == 1);  // DRAM latency, THP
    CHECK(quick_gemm >= 1);     // one small fp32 GEMM per CPU backend
    CHECK(quick_gemm <= 3);
    CHECK(quick_attention >= 1);  // fused prefill and decode, a few seconds in all
    CHECK(quick_attention <= 3);
    CHECK(quick_cpu == quick_stream.size() + quick_latency + quick_gemm + quick_attention);
}

TEST_CASE("full suite: every STREAM kernel x stores x placement", "[catalog][stream]") {
    const auto defs = assay::build_catalog(two_core_host());
    for (const std::string placement : {"one_core", "all_cores"}) {
        for (const std::string op : {"copy", "scale", "add", "triad", "fill"}) {
            for (const std::string stores : {"regular", "nt"}) {
                std::string id =
                    "stream." + op + "/dtype=f64,placement=" + placement + ",size=dram";
                if (!(op == "triad" && stores == "regular")) {
                    id += ",stores=" + stores;  // the legacy triad case has no stores param
                }
                INFO(id);
                const auto* d = find_case(defs, id);
                REQUIRE(d != nullptr);
                CHECK(std::find(d->suites.begin(), d->suites.end(), "full") != d->suites.end());
                CHECK(d->aarch64 == "yes");
                REQUIRE(d->make);
            }
        }
        CHECK(find_case(defs, "stream.sum/dtype=f64,placement=" + placement + ",size=dram") !=
              nullptr);
    }
    CHECK(find_case(defs, "stream.triad/dtype=f64,placement=all_cores,size=dram,stores=regular") ==
          nullptr);
    CHECK(find_case(defs, "stream.sum/dtype=f64,placement=all_cores,size=dram,stores=nt") ==
          nullptr);

    // Each kernel sizes every one of its arrays at >= 4x LLC.
    const auto* copy =
        find_case(defs, "stream.copy/dtype=f64,placement=all_cores,size=dram,stores=nt");
    REQUIRE(copy != nullptr);
    CHECK(context(*copy, "array_bytes") >= 4.0 * 32 * kMiB);
    CHECK(context(*copy, "working_set_bytes") == 2 * context(*copy, "array_bytes"));
    auto kernel = copy->make();
    const auto* sk = dynamic_cast<const assay::StreamKernel*>(kernel.get());
    REQUIRE(sk != nullptr);
    CHECK(sk->op() == assay::StreamOp::copy);
    CHECK(sk->stores() == assay::StoreKind::nontemporal);
    CHECK(sk->pus() == std::vector<unsigned>{0, 1});
    CHECK(kernel->work().bytes_stream == 2 * context(*copy, "array_bytes"));
    CHECK(kernel->work().bytes_write_allocate == 2 * context(*copy, "array_bytes"));

    const auto* sum = find_case(defs, "stream.sum/dtype=f64,placement=one_core,size=dram");
    REQUIRE(sum != nullptr);
    CHECK(context(*sum, "working_set_bytes") == context(*sum, "array_bytes"));
}

TEST_CASE("full suite sweeps sum and triad from 4 KiB past 4x LLC", "[catalog][sweep]") {
    const auto defs = assay::build_catalog(two_core_host());
    for (const std::string kernel : {"sum", "triad"}) {
        for (const std::string placement : {"one_core", "all_cores"}) {
            INFO(kernel << " " << placement);
            std::vector<const assay::BenchmarkDef*> points;
            for (const auto& d : defs) {
                if (d.bench_case.benchmark == "mem.sweep" &&
                    d.bench_case.params.at("kernel") == kernel &&
                    d.bench_case.params.at("placement") == placement) {
                    points.push_back(&d);
                }
            }
            REQUIRE(points.size() >= 10);
            std::uint64_t previous = 0;
            for (const auto* d : points) {
                CHECK(d->suites == std::vector<std::string>{"full"});
                CHECK(d->aarch64 == "yes");
                const std::uint64_t bytes = std::stoull(d->bench_case.params.at("bytes"));
                CHECK(bytes > previous);
                CHECK(bytes <= 2 * previous + (previous == 0 ? 4096 : 0));  // factor <= 2
                previous = bytes;
                CHECK(context(*d, "reps") >= 1);
            }
            CHECK(points.front()->bench_case.params.at("bytes") == "4096");
            CHECK(previous >= 4 * 32 * kMiB);

            // Small points repeat the kernel thousands of times so a sample lasts >= ~1 ms; the
            // largest (DRAM) needs only a few passes.
            const auto* first = points.front();
            const auto* last = points.back();
            CHECK(context(*first, "reps") > 1000);
            CHECK(context(*last, "reps") <= 8);
            CHECK(context(*last, "reps") < context(*first, "reps"));
            CHECK(context(*first, "level.L1d", 0) == 1);
            CHECK(context(*last, "level.DRAM", 0) == 1);
            CHECK(context(*first, "level.DRAM", 0) == 0);

            auto k = first->make();
            const auto* sk = dynamic_cast<const assay::StreamKernel*>(k.get());
            REQUIRE(sk != nullptr);
            CHECK(sk->reps() == static_cast<std::size_t>(context(*first, "reps")));
            CHECK(assay::stream_op_name(sk->op()) == kernel);
            // Work counts every pass.
            CHECK(k->work().bytes_stream ==
                  context(*first, "reps") * context(*first, "working_set_bytes"));
        }
    }
}

TEST_CASE("a sweep point runs and verifies", "[catalog][sweep]") {
    const auto defs = assay::build_catalog(two_core_host());
    for (const auto& d : defs) {
        if (d.bench_case.benchmark == "mem.sweep" && d.bench_case.params.at("bytes") == "4096" &&
            d.bench_case.params.at("placement") == "one_core") {
            auto k = d.make();
            k->prepare();
            k->run();
            const auto v = k->verify();
            INFO(d.full_name() << ": " << v.detail);
            CHECK(v.ok);
        }
    }
}
