#include "benches/cuda/cuda_memory_defs.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "probes/probe.hpp"

namespace {

constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;
constexpr std::uint64_t kGiB = kMiB << 10;

assay::HostInfo load_host(const std::string& file) {
    assay::ProbeOptions options;
    options.topology_xml = std::string(ASSAY_TOPOLOGY_DIR) + "/" + file;
    options.query_gpus = false;
    assay::HostInfo host = assay::probe_host(options);
    host.gpu = {};  // the tests set the GPUs they want
    return host;
}

assay::GpuInfo fake_gpu(int index, std::optional<unsigned> node,
                        std::uint64_t memory_bytes = 80 * kGiB) {
    assay::GpuInfo g;
    g.index = index;
    g.name = "NVIDIA H100 80GB HBM3";
    g.pci_bus_id = "0000:1" + std::to_string(index) + ":00.0";
    g.memory_bytes = memory_bytes;
    g.sm_count = 132;
    g.cc_major = 9;
    g.numa_node = node;
    return g;
}

/// Two GPUs, one on each NUMA node of a real 2-node Intel host.
assay::HostInfo two_node_two_gpus() {
    assay::HostInfo host = load_host("32em64t-2n8c+dax+nvme+mic+dimms.xml");
    host.gpu.gpus = {fake_gpu(0, 0U), fake_gpu(1, 1U)};
    return host;
}

std::vector<assay::BenchmarkDef> defs_for(const assay::HostInfo& host,
                                          const assay::CatalogOptions& options = {}) {
    std::vector<assay::BenchmarkDef> defs;
    assay::add_cuda_memory_defs(host, options, defs);
    return defs;
}

const assay::BenchmarkDef* find(const std::vector<assay::BenchmarkDef>& defs,
                                const std::string& benchmark, const assay::Params& params,
                                const std::string& device) {
    for (const auto& d : defs) {
        if (d.bench_case.benchmark == benchmark && d.bench_case.params == params &&
            d.device == device) {
            return &d;
        }
    }
    return nullptr;
}

[[maybe_unused]] std::optional<double> context(const assay::BenchmarkDef& d,
                                               const std::string& name) {
    for (const auto& m : d.context) {
        if (m.name == name) {
            return m.value;
        }
    }
    return std::nullopt;
}

bool in_suite(const assay::BenchmarkDef& d, const std::string& suite) {
    return std::find(d.suites.begin(), d.suites.end(), suite) != d.suites.end();
}

assay::Params transfer(const std::string& direction, const std::string& node) {
    return {{"direction", direction}, {"host_node", node}};
}

/// Invariants of every entry whatever the host and the build.
void check_common(const std::vector<assay::BenchmarkDef>& defs) {
    std::set<std::string> names;
    for (const auto& d : defs) {
        INFO(d.full_name());
        CHECK(names.insert(d.full_name()).second);
        CHECK(d.backend == "cuda");
        CHECK(d.device.rfind("cuda:", 0) == 0);
        CHECK(d.aarch64 == "yes");
        CHECK(in_suite(d, "full"));
        CHECK(d.skip_reason.empty() == static_cast<bool>(d.make));
        // Only the local host-to-device transfer is in the quick suite.
        const bool quick_expected = d.bench_case.benchmark == "gpu.transfer" &&
                                    d.bench_case.params.at("direction") == "h2d" &&
                                    d.bench_case.params.at("host_node") == "local";
        CHECK(in_suite(d, "quick") == quick_expected);
        CHECK(d.bench_case.benchmark.rfind("gpu.", 0) == 0);
        CHECK(d.bench_case.benchmark != "gpu.triad");  // triad is stream.triad placement=device
    }
}

}  // namespace

TEST_CASE("gpu transfer host node: local and remote on a 2-node host", "[cuda_memory]") {
    const assay::HostInfo host = two_node_two_gpus();
    REQUIRE(host.topology.numa_nodes.size() == 2);
    const auto local0 = assay::transfer_host_node(host, host.gpu.gpus[0], false);
    const auto remote0 = assay::transfer_host_node(host, host.gpu.gpus[0], true);
    const auto local1 = assay::transfer_host_node(host, host.gpu.gpus[1], false);
    const auto remote1 = assay::transfer_host_node(host, host.gpu.gpus[1], true);
    CHECK(local0.node == std::optional<unsigned>(0));
    CHECK(remote0.node == std::optional<unsigned>(1));
    CHECK(local1.node == std::optional<unsigned>(1));
    CHECK(remote1.node == std::optional<unsigned>(0));
    CHECK(remote1.skip_reason.empty());
}

TEST_CASE("gpu transfer host node: unknown affinity", "[cuda_memory]") {
    SECTION("2-node host: neither local nor remote can be named") {
        const assay::HostInfo host = load_host("32em64t-2n8c+dax+nvme+mic+dimms.xml");
        const assay::GpuInfo gpu = fake_gpu(0, std::nullopt);
        for (const bool remote : {false, true}) {
            const auto choice = assay::transfer_host_node(host, gpu, remote);
            CHECK_FALSE(choice.node.has_value());
            CHECK(choice.skip_reason.find("GPU NUMA affinity unknown") != std::string::npos);
            CHECK(choice.skip_reason.find("0000:10:00.0") != std::string::npos);
        }
    }
    SECTION("1-node host: its node is local, remote does not exist") {
        const assay::HostInfo host = load_host("kvm-2core-spr-amx.xml");
        REQUIRE(host.topology.numa_nodes.size() == 1);
        const assay::GpuInfo gpu = fake_gpu(0, std::nullopt);
        const auto local = assay::transfer_host_node(host, gpu, false);
        CHECK(local.node == std::optional<unsigned>(host.topology.numa_nodes[0].os_index));
        const auto remote = assay::transfer_host_node(host, gpu, true);
        CHECK_FALSE(remote.node.has_value());
        CHECK(remote.skip_reason == "host has one NUMA node");
    }
}

TEST_CASE("gpu transfer host node: remote skips CPU-less and empty nodes", "[cuda_memory]") {
    assay::HostInfo host = load_host("32em64t-2n8c+dax+nvme+mic+dimms.xml");
    REQUIRE(host.topology.numa_nodes.size() == 2);
    // A CPU-less memory node (HBM / CXL / a GPU's memory exposed as a node) and an empty one,
    // listed before the real second socket: neither is "another socket's DRAM".
    assay::NumaNodeInfo cpuless;
    cpuless.os_index = 7;
    cpuless.local_memory_bytes = 96 * kGiB;
    assay::NumaNodeInfo empty;
    empty.os_index = 5;
    empty.pu_os_indices = {99};
    auto& nodes = host.topology.numa_nodes;
    nodes.insert(nodes.begin() + 1, {cpuless, empty});
    const assay::GpuInfo gpu = fake_gpu(0, 0U);
    CHECK(assay::transfer_host_node(host, gpu, true).node == std::optional<unsigned>(1));

    nodes.pop_back();  // drop the real node 1
    const auto none = assay::transfer_host_node(host, gpu, true);
    CHECK_FALSE(none.node.has_value());
    CHECK(none.skip_reason == "no NUMA node other than 0 has both CPUs and memory");
}

TEST_CASE("gpu transfer host node: GPUs placed by hwloc PCI locality", "[cuda_memory]") {
    // POWER8 with four NVIDIA GPUs: the probe's accelerators carry their local NUMA node.
    assay::HostInfo host = load_host("power8gpudistances.xml");
    REQUIRE(host.topology.numa_nodes.size() == 2);
    std::set<unsigned> locals;
    for (const auto& acc : host.topology.accelerators) {
        for (const auto& os : acc.os_devices) {
            if (os.rfind("cuda", 0) != 0 || acc.numa_nodes.empty()) {
                continue;
            }
            assay::GpuInfo gpu = fake_gpu(std::stoi(os.substr(4)), acc.numa_nodes.front());
            gpu.pci_bus_id = acc.pci_bus_id;
            const auto local = assay::transfer_host_node(host, gpu, false);
            const auto remote = assay::transfer_host_node(host, gpu, true);
            REQUIRE(local.node.has_value());
            REQUIRE(remote.node.has_value());
            CHECK(*local.node == acc.numa_nodes.front());
            CHECK(*remote.node != *local.node);
            locals.insert(*local.node);
        }
    }
    CHECK(locals.size() == 2);  // two GPUs per socket
}

#if defined(ASSAY_CUDA_MEMORY_TEST_HAVE_CUDA)

TEST_CASE("cuda memory defs: two GPUs on two NUMA nodes", "[cuda_memory]") {
    const assay::HostInfo host = two_node_two_gpus();
    const auto defs = defs_for(host);
    check_common(defs);
    // 3 device ops + 6 transfers per GPU, and both ordered GPU pairs.
    CHECK(defs.size() == 3 * 2 + 6 * 2 + 2);
    for (const auto& d : defs) {
        INFO(d.full_name() << ": " << d.skip_reason);
        CHECK(d.skip_reason.empty());
    }
    for (const std::string op : {"copy", "read", "write"}) {
        const auto* d =
            find(defs, "gpu.mem", {{"dtype", "f64"}, {"op", op}, {"size", "dram"}}, "cuda:1");
        REQUIRE(d != nullptr);
        // 80 GiB: the 2^28-double cap applies (2 GiB per array).
        CHECK(context(*d, "array_bytes") == Approx(2.0 * kGiB));
        CHECK(context(*d, "working_set_bytes") == Approx(op == "copy" ? 4.0 * kGiB : 2.0 * kGiB));
        CHECK(context(*d, "gpu_numa_node") == Approx(1));
    }
    const auto* local = find(defs, "gpu.transfer", transfer("h2d", "local"), "cuda:1");
    const auto* remote = find(defs, "gpu.transfer", transfer("d2h", "remote"), "cuda:1");
    REQUIRE(local != nullptr);
    REQUIRE(remote != nullptr);
    CHECK(context(*local, "host_numa_node") == Approx(1));
    CHECK(context(*remote, "host_numa_node") == Approx(0));
    CHECK(context(*remote, "gpu_numa_node") == Approx(1));
    CHECK(context(*local, "bytes") == Approx(256.0 * kMiB));
    const auto* remote0 = find(defs, "gpu.transfer", transfer("bidir", "remote"), "cuda:0");
    REQUIRE(remote0 != nullptr);
    CHECK(context(*remote0, "host_numa_node") == Approx(1));

    const auto* d01 = find(defs, "gpu.d2d", {{"src", "0"}, {"dst", "1"}}, "cuda:0");
    const auto* d10 = find(defs, "gpu.d2d", {{"src", "1"}, {"dst", "0"}}, "cuda:1");
    REQUIRE(d01 != nullptr);
    REQUIRE(d10 != nullptr);
    CHECK(context(*d01, "bytes") == Approx(256.0 * kMiB));
}

TEST_CASE("cuda memory defs: sizes follow device memory and the host cap", "[cuda_memory]") {
    assay::HostInfo host = two_node_two_gpus();
    SECTION("small GPU: arrays fit a quarter of its memory") {
        host.gpu.gpus = {fake_gpu(0, 0U, 4 * kGiB)};
        const auto defs = defs_for(host);
        const auto* copy =
            find(defs, "gpu.mem", {{"dtype", "f64"}, {"op", "copy"}, {"size", "dram"}}, "cuda:0");
        REQUIRE(copy != nullptr);
        CHECK(context(*copy, "array_bytes") == Approx(512.0 * kMiB));  // 4 GiB / 4 / 2 arrays
    }
    SECTION("unknown device memory: skipped with the reason") {
        host.gpu.gpus = {fake_gpu(0, 0U, 0)};
        const auto defs = defs_for(host);
        check_common(defs);
        const auto* read =
            find(defs, "gpu.mem", {{"dtype", "f64"}, {"op", "read"}, {"size", "dram"}}, "cuda:0");
        REQUIRE(read != nullptr);
        CHECK(read->skip_reason == "device memory size of GPU 0 is unknown");
    }
    SECTION("host working-set cap shrinks the pinned buffers") {
        assay::CatalogOptions options;
        options.max_working_set_bytes = 256 * kMiB;
        const auto defs = defs_for(host, options);
        const auto* h2d = find(defs, "gpu.transfer", transfer("h2d", "local"), "cuda:0");
        const auto* bidir = find(defs, "gpu.transfer", transfer("bidir", "local"), "cuda:0");
        REQUIRE(h2d != nullptr);
        REQUIRE(bidir != nullptr);
        CHECK(context(*h2d, "bytes") == Approx(256.0 * kMiB));
        CHECK(context(*bidir, "bytes") == Approx(128.0 * kMiB));

        options.max_working_set_bytes = 6 * kMiB;
        const auto tiny = defs_for(host, options);
        check_common(tiny);
        const auto* tiny_bidir = find(tiny, "gpu.transfer", transfer("bidir", "local"), "cuda:0");
        const auto* tiny_h2d = find(tiny, "gpu.transfer", transfer("h2d", "local"), "cuda:0");
        REQUIRE(tiny_bidir != nullptr);
        REQUIRE(tiny_h2d != nullptr);
        CHECK(tiny_bidir->skip_reason.find("less than 4 MiB") != std::string::npos);
        CHECK(tiny_h2d->skip_reason.empty());
        CHECK(context(*tiny_h2d, "bytes") == Approx(6.0 * kMiB));
    }
}

TEST_CASE("cuda memory defs: one GPU on a one-node host", "[cuda_memory]") {
    assay::HostInfo host = load_host("kvm-2core-spr-amx.xml");
    host.gpu.gpus = {fake_gpu(0, std::nullopt)};
    const auto defs = defs_for(host);
    check_common(defs);
    CHECK(defs.size() == 3 + 6 + 1);
    for (const std::string direction : {"h2d", "d2h", "bidir"}) {
        const auto* local = find(defs, "gpu.transfer", transfer(direction, "local"), "cuda:0");
        const auto* remote = find(defs, "gpu.transfer", transfer(direction, "remote"), "cuda:0");
        REQUIRE(local != nullptr);
        REQUIRE(remote != nullptr);
        CHECK(local->skip_reason.empty());
        CHECK_FALSE(context(*local, "gpu_numa_node").has_value());  // unknown, not guessed
        CHECK(remote->skip_reason == "host has one NUMA node");
    }
    const auto* d2d = find(defs, "gpu.d2d", {{"src", "0"}, {"dst", "1"}}, "cuda:0");
    REQUIRE(d2d != nullptr);
    CHECK(d2d->skip_reason == "needs two GPUs; this host has 1");
}

TEST_CASE("cuda memory defs: no GPU", "[cuda_memory]") {
    assay::HostInfo host = load_host("32em64t-2n8c+dax+nvme+mic+dimms.xml");
    host.gpu.none_reason = "cudaGetDeviceCount: no CUDA-capable device is detected";
    const auto defs = defs_for(host);
    check_common(defs);
    CHECK(defs.size() == 3 + 6 + 1);
    for (const auto& d : defs) {
        CHECK(d.skip_reason == "no CUDA GPU: " + host.gpu.none_reason);
        CHECK(d.device == "cuda:0");
    }
    host.gpu.none_reason.clear();
    for (const auto& d : defs_for(host)) {
        CHECK(d.skip_reason == "no CUDA GPU detected");
    }
}

#else

TEST_CASE("cuda memory defs: built without CUDA, every entry skipped", "[cuda_memory]") {
    // Even with GPUs in the (e.g. loaded) host description, a CPU-only build cannot run them.
    for (const assay::HostInfo& host : {two_node_two_gpus(), load_host("kvm-2core-spr-amx.xml")}) {
        const auto defs = defs_for(host);
        check_common(defs);
        CHECK(defs.size() == 3 + 6 + 1);
        for (const auto& d : defs) {
            CHECK(d.skip_reason == "built without CUDA (ASSAY_CUDA=OFF or nvcc not found)");
        }
        CHECK(find(defs, "gpu.transfer", transfer("bidir", "remote"), "cuda:0") != nullptr);
        CHECK(find(defs, "gpu.mem", {{"dtype", "f64"}, {"op", "read"}, {"size", "dram"}},
                   "cuda:0") != nullptr);
        CHECK(find(defs, "gpu.d2d", {{"src", "0"}, {"dst", "1"}}, "cuda:0") != nullptr);
    }
}

#endif
