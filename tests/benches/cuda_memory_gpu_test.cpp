// GPU memory benchmarks on a real device (label gpu): every kernel runs and verifies on device 0,
// and a corrupted output fails verification. Without a CUDA device the executable exits 77,
// which CTest reports as *skipped* with the reason on its output (never as a pass).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "benches/cuda/cuda_memory_defs.hpp"
#include "benches/cuda/gpu_memory_kernels.hpp"
#include "benches/cuda/triad_cuda.hpp"
#include "probes/probe.hpp"
#include "tests/benches/gpu_test_support.hpp"

namespace {

using assay::cuda::DeviceMemOp;
using assay::cuda::TransferDirection;

constexpr std::size_t kElements = std::size_t{1} << 24;  // 128 MiB per array
constexpr std::size_t kTransferBytes = std::size_t{32} << 20;

const assay::HostInfo& host() {
    static const assay::HostInfo h = assay::probe_host();
    return h;
}

/// The NUMA node next to device 0 (the probe's answer; node of a one-node host otherwise).
unsigned local_node() {
    for (const auto& gpu : host().gpu.gpus) {
        if (gpu.index == 0) {
            const auto choice = assay::transfer_host_node(host(), gpu, false);
            if (choice.node.has_value()) {
                return *choice.node;
            }
        }
    }
    return host().topology.numa_nodes.empty() ? 0 : host().topology.numa_nodes.front().os_index;
}

using assay::test::run_and_verify;

}  // namespace

TEST_CASE("gpu.mem kernels run, are device-timed and verify", "[gpu][cuda_memory]") {
    for (const DeviceMemOp op : {DeviceMemOp::copy, DeviceMemOp::read, DeviceMemOp::write}) {
        INFO(assay::cuda::device_mem_op_name(op));
        assay::CudaDeviceMemoryKernel k(0, op, kElements);
        run_and_verify(k);
        CHECK_FALSE(k.implementation().empty());
        const double per_element = op == DeviceMemOp::copy ? 16.0 : 8.0;
        CHECK(k.work().bytes_stream == Approx(per_element * kElements));
        CHECK(k.work().bytes_write_allocate == Approx(per_element * kElements));
    }
}

TEST_CASE("gpu.mem: a corrupted element fails verification", "[gpu][cuda_memory]") {
    SECTION("copy") {
        assay::CudaDeviceMemoryKernel k(0, DeviceMemOp::copy, kElements);
        run_and_verify(k, 1);
        k.corrupt_for_test(12345, 0.0);
        const auto v = k.verify();
        CHECK_FALSE(v.ok);
        CHECK(v.detail.find("index 12345") != std::string::npos);
    }
    SECTION("write") {
        assay::CudaDeviceMemoryKernel k(0, DeviceMemOp::write, kElements);
        run_and_verify(k, 1);
        k.corrupt_for_test(kElements - 1, 1.0);
        const auto v = k.verify();
        CHECK_FALSE(v.ok);
        CHECK(v.detail.find("index " + std::to_string(kElements - 1)) != std::string::npos);
    }
    SECTION("read: one wrong input makes the next sum wrong") {
        assay::CudaDeviceMemoryKernel k(0, DeviceMemOp::read, kElements);
        run_and_verify(k, 1);
        k.corrupt_for_test(777, 3.0);  // inputs lie in [1, 2): the sum must change
        k.run();
        const auto v = k.verify();
        INFO(v.detail);
        CHECK_FALSE(v.ok);
    }
}

TEST_CASE("gpu.transfer: every direction on the local node verifies", "[gpu][cuda_memory]") {
    const unsigned node = local_node();
    for (const TransferDirection d :
         {TransferDirection::h2d, TransferDirection::d2h, TransferDirection::bidir}) {
        INFO(assay::cuda::transfer_direction_name(d));
        // As the catalog does: no binding on a one-node host (mbind may be denied in containers).
        const bool bind = host().topology.numa_nodes.size() > 1;
        assay::CudaHostTransferKernel k(0, d, node, kTransferBytes, bind);
        run_and_verify(k);
        const double moved = (d == TransferDirection::bidir ? 2.0 : 1.0) * kTransferBytes;
        CHECK(k.work().bytes_stream == Approx(moved));
        CHECK(k.implementation().find("NUMA node " + std::to_string(node)) != std::string::npos);
        for (const auto& m : k.extra_metrics()) {
            if (m.name == "host_buffer_numa_node") {
                CHECK(m.value == Approx(node));
            }
        }

        k.corrupt_for_test(4242, -3.0);
        const auto v = k.verify();
        CHECK_FALSE(v.ok);
        CHECK(v.detail.find("index 4242") != std::string::npos);
    }
}

TEST_CASE("gpu.d2d: device 0 to every other device", "[gpu][cuda_memory]") {
    std::string why;
    const int devices = assay::cuda::device_count(why);
    if (devices < 2) {
        WARN("gpu.d2d not exercised: needs two GPUs; this host has " << devices);
        return;
    }
    for (int dst = 1; dst < devices; ++dst) {
        assay::CudaPeerCopyKernel k(0, dst, kTransferBytes);
        run_and_verify(k);
        INFO(k.implementation());
        CHECK(k.implementation().find("p2p=") != std::string::npos);
        k.corrupt_for_test(99, 0.0);
        CHECK_FALSE(k.verify().ok);
    }
}

TEST_CASE("gpu memory catalog entries for device 0 all run and verify", "[gpu][cuda_memory]") {
    std::vector<assay::BenchmarkDef> defs;
    assay::add_cuda_memory_defs(host(), {}, defs);
    int ran = 0;
    for (const auto& def : defs) {
        if (def.device != "cuda:0" || !def.make) {
            continue;
        }
        INFO(def.full_name());
        const auto k = def.make();
        run_and_verify(*k);
        ++ran;
    }
    CHECK(ran >= 3 + 3);  // device ops and local transfers at least
}

int main(int argc, char** argv) {
    if (assay::test::skip_without_gpu()) {
        return assay::test::kSkipExitCode;
    }
    return Catch::Session().run(argc, argv);
}
