#include "benches/cpu/numa_memory.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "benches/cpu/stream_kernels.hpp"
#include "core/error.hpp"
#include "probes/probe.hpp"
#include "tests/benches/test_cpus.hpp"

namespace {

constexpr std::size_t kBufferBytes = std::size_t{4} << 20;
constexpr std::size_t kPageAlign = std::size_t{2} << 20;

struct FreeDeleter {
    void operator()(void* p) const noexcept { std::free(p); }
};

/// The first NUMA node with memory on this host (the live probe), 0 if the probe has none.
unsigned first_memory_node() {
    assay::ProbeOptions options;
    options.query_gpus = false;
    const assay::HostInfo host = assay::probe_host(options);
    for (const auto& node : host.topology.numa_nodes) {
        if (node.local_memory_bytes > 0) {
            return node.os_index;
        }
    }
    return 0;
}

/// Non-empty when this environment refuses memory binding outright: qemu-user and kernels without
/// NUMA support (ENOSYS), containers whose seccomp profile denies mbind (EPERM). The tests that
/// need a binding skip there; bind_memory_to_numa_node still must say so with an Error.
std::string binding_unsupported_reason(unsigned node) {
    std::unique_ptr<void, FreeDeleter> probe(std::aligned_alloc(kPageAlign, kPageAlign));
    try {
        assay::bind_memory_to_numa_node(probe.get(), kPageAlign, node);
    } catch (const assay::Error& e) {
        const std::string what = e.what();
        if (what.find("Function not implemented") != std::string::npos ||
            what.find("Operation not permitted") != std::string::npos) {
            return what;
        }
    }
    return {};
}

}  // namespace

TEST_CASE("bind_memory_to_numa_node places pages on a node of this host", "[numa]") {
    const unsigned node = first_memory_node();
    if (const std::string why = binding_unsupported_reason(node); !why.empty()) {
        WARN("memory binding unsupported here, not exercised: " << why);
        return;
    }
    std::unique_ptr<void, FreeDeleter> buffer(std::aligned_alloc(kPageAlign, kBufferBytes));
    REQUIRE(buffer);
    assay::bind_memory_to_numa_node(buffer.get(), kBufferBytes, node);
    std::memset(buffer.get(), 0x5a, kBufferBytes);  // first touch, after the binding
    const auto* bytes = static_cast<const unsigned char*>(buffer.get());
    for (const std::size_t offset : {std::size_t{0}, kBufferBytes / 2, kBufferBytes - 1}) {
        const std::optional<unsigned> where = assay::numa_node_of_page(bytes + offset);
        if (!where.has_value()) {
            WARN("numa_node_of_page: the OS cannot tell page locations here");
        } else {
            CHECK(*where == node);
        }
    }
}

TEST_CASE("bind_memory_to_numa_node names a node that does not exist", "[numa]") {
    std::unique_ptr<void, FreeDeleter> buffer(std::aligned_alloc(kPageAlign, kPageAlign));
    REQUIRE(buffer);
    CHECK_THROWS_AS(assay::bind_memory_to_numa_node(buffer.get(), kPageAlign, 9973), assay::Error);
    CHECK_THROWS_WITH(assay::bind_memory_to_numa_node(buffer.get(), kPageAlign, 9973),
                      Catch::Contains("9973"));
}

TEST_CASE("StreamKernel with a memory node runs, verifies placement and catches corruption",
          "[numa]") {
    const unsigned node = first_memory_node();
    if (const std::string why = binding_unsupported_reason(node); !why.empty()) {
        WARN("memory binding unsupported here, not exercised: " << why);
        return;
    }
    const std::vector<unsigned> cpus = assay::test::allowed_cpus(2);
    REQUIRE_FALSE(cpus.empty());
    constexpr std::size_t kElements = std::size_t{1} << 18;  // 2 MiB per array
    for (const assay::StreamOp op : {assay::StreamOp::triad, assay::StreamOp::sum}) {
        INFO(std::string(assay::stream_op_name(op)));
        assay::StreamKernel k(op, assay::StoreKind::regular, cpus, kElements, 1, node);
        CHECK(k.memory_node() == node);
        k.prepare();
        k.run();
        const assay::Verification v = k.verify();
        INFO(v.detail);
        CHECK(v.ok);
        CHECK(v.detail.find("NUMA node " + std::to_string(node)) != std::string::npos);
        k.output_for_test()[0] += 1.0;
        CHECK_FALSE(k.verify().ok);
    }
}

TEST_CASE("StreamKernel bound to a missing NUMA node fails in prepare()", "[numa]") {
    const std::vector<unsigned> cpus = assay::test::allowed_cpus(1);
    REQUIRE_FALSE(cpus.empty());
    assay::StreamKernel k(assay::StreamOp::triad, assay::StoreKind::regular, cpus, 4096, 1, 9973);
    CHECK_THROWS_WITH(k.prepare(), Catch::Contains("9973"));
    // Without a node the kernel behaves as before (no placement note).
    assay::StreamKernel plain(assay::StreamOp::copy, assay::StoreKind::regular, cpus, 4096);
    CHECK_FALSE(plain.memory_node().has_value());
    plain.prepare();
    plain.run();
    const assay::Verification v = plain.verify();
    CHECK(v.ok);
    CHECK(v.detail.find("NUMA") == std::string::npos);
}
