#include "benches/cpu/numa_memory.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "benches/cpu/numa_plan.hpp"
#include "benches/cpu/stream_kernels.hpp"
#include "core/error.hpp"
#include "probes/probe.hpp"
#include "tests/benches/host_facilities.hpp"
#include "tests/benches/test_cpus.hpp"
#include "tests/benches/topology_xmls.hpp"

// Binding is exercised on every memory node of this host (one here; all of them on a multi-node
// host). Where the OS refuses binding outright (qemu-user, seccomp), the refusal itself is
// checked: it names the node and the OS's reason, from bind_memory_to_numa_node and from the
// kernels. Which nodes a multi-node host binds to is planned from the real multi-node topologies.

namespace {

using assay::test::aligned_bytes;
using assay::test::is_specific_binding_refusal;
using assay::test::kHugePageBytes;

constexpr std::size_t kBufferBytes = std::size_t{4} << 20;

bool contains(const std::vector<unsigned>& v, unsigned x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

/// Binds a fresh buffer to `node`, first-touches it and checks where three of its pages landed:
/// on `node`, or (where the OS cannot tell page locations) hwloc says it does not know either.
void check_pages_land_on(unsigned node) {
    const auto buffer = aligned_bytes(kBufferBytes);
    assay::bind_memory_to_numa_node(buffer.get(), kBufferBytes, node);
    std::memset(buffer.get(), 0x5a, kBufferBytes);  // first touch, after the binding
    const auto* bytes = static_cast<const unsigned char*>(buffer.get());
    for (const std::size_t offset : {std::size_t{0}, kBufferBytes / 2, kBufferBytes - 1}) {
        CAPTURE(offset);
        const std::string unknown_why =
            assay::test::page_location_unsupported_reason(bytes + offset);
        const std::optional<unsigned> where = assay::numa_node_of_page(bytes + offset);
        if (unknown_why.empty()) {
            REQUIRE(where.has_value());
            CHECK(*where == node);
        } else {
            INFO("the OS cannot tell page locations here: " << unknown_why);
            CHECK_FALSE(where.has_value());
        }
    }
}

/// Calls bind_memory_to_numa_node(node) on one page, expecting a refusal; returns its message.
std::string refusal_of(unsigned node) {
    const auto page = aligned_bytes(kHugePageBytes);
    try {
        assay::bind_memory_to_numa_node(page.get(), kHugePageBytes, node);
    } catch (const assay::Error& e) {
        return e.what();
    }
    return "(accepted)";
}

/// Whether the OS can say where a page bound to `node` lives (binding supported).
bool page_location_known(unsigned node) {
    const auto page = aligned_bytes(kHugePageBytes);
    assay::bind_memory_to_numa_node(page.get(), kHugePageBytes, node);
    std::memset(page.get(), 1, kHugePageBytes);
    return assay::test::page_location_unsupported_reason(page.get()).empty();
}

}  // namespace

TEST_CASE("bind_memory_to_numa_node places pages on every memory node of this host", "[numa]") {
    const assay::HostInfo host = assay::test::live_host();
    const std::vector<unsigned> nodes = assay::test::live_memory_nodes(host);
    REQUIRE_FALSE(nodes.empty());
    INFO(nodes.size() << " memory node(s) on this host");
    const std::string unsupported = assay::test::binding_unsupported_reason(nodes.front());
    for (const unsigned node : nodes) {
        INFO("node " << node);
        if (unsupported.empty()) {
            check_pages_land_on(node);
        } else {
            // Unavailable here: every node is refused the same specific way, never silently.
            INFO("memory binding unsupported here: " << unsupported);
            CHECK(is_specific_binding_refusal(refusal_of(node), node));
        }
    }
}

TEST_CASE("binding to each memory node of the multi-node topologies: bound here, or refused",
          "[numa]") {
    const std::vector<unsigned> live_nodes =
        assay::test::live_memory_nodes(assay::test::live_host());
    REQUIRE_FALSE(live_nodes.empty());
    const std::string unsupported = assay::test::binding_unsupported_reason(live_nodes.front());
    std::size_t multi_node_files = 0;
    std::size_t here = 0;
    std::size_t missing = 0;
    for (const auto& path : assay::test::topology_xmls()) {
        assay::ProbeOptions options;
        options.topology_xml = path;
        options.query_gpus = false;
        const assay::TopologyInfo topo = assay::probe_host(options).topology;
        const std::vector<unsigned> targets = assay::numa_memory_nodes(topo);
        if (targets.size() < 2) {
            continue;  // single-node files: the live test above covers node 0
        }
        ++multi_node_files;
        INFO(path.filename().string());
        // The plan sends the cores of every CPU node to every memory node, remote ones included.
        const std::vector<assay::NumaPair> plan = assay::numa_matrix_plan(topo);
        REQUIRE(plan.size() == assay::numa_cpu_nodes(topo).size() * targets.size());
        CHECK(std::count_if(plan.begin(), plan.end(), [](const assay::NumaPair& p) {
                  return p.cpu_node != p.memory_node;
              }) > 0);
        for (const unsigned node : targets) {
            INFO("memory node " << node);
            if (!contains(live_nodes, node)) {
                // What a smaller host does with that plan's node: a one-line refusal naming it.
                CHECK(refusal_of(node) ==
                      "cannot bind memory to NUMA node " + std::to_string(node) + ": no such node");
                ++missing;
            } else if (unsupported.empty()) {
                check_pages_land_on(node);
                ++here;
            } else {
                INFO("memory binding unsupported here: " << unsupported);
                CHECK(is_specific_binding_refusal(refusal_of(node), node));
                ++here;
            }
        }
    }
    CHECK(multi_node_files >= 8);
    CHECK(here > 0);  // every file has node 0, and so does every Linux host
    if (live_nodes.size() == 1) {
        CHECK(missing > 0);  // node 1 and up exist only in the files
    }
}

TEST_CASE("bind_memory_to_numa_node names a node that does not exist", "[numa]") {
    const auto buffer = aligned_bytes(kHugePageBytes);
    CHECK_THROWS_AS(assay::bind_memory_to_numa_node(buffer.get(), kHugePageBytes, 9973),
                    assay::Error);
    CHECK_THROWS_WITH(assay::bind_memory_to_numa_node(buffer.get(), kHugePageBytes, 9973),
                      "cannot bind memory to NUMA node 9973: no such node");
}

TEST_CASE("StreamKernel with a memory node runs, verifies placement and catches corruption",
          "[numa]") {
    const assay::HostInfo host = assay::test::live_host();
    const std::vector<unsigned> memory_nodes = assay::test::live_memory_nodes(host);
    REQUIRE_FALSE(memory_nodes.empty());
    const std::vector<unsigned> allowed = assay::test::allowed_cpus(CPU_SETSIZE);
    REQUIRE_FALSE(allowed.empty());
    // Workers on (up to two) cores of the first CPU node we may run on; memory on the last other
    // node: a remote cell on a multi-node host, the local cell on a single-node host.
    std::optional<unsigned> cpu_node;
    std::vector<unsigned> cpus;
    for (const unsigned n : assay::numa_cpu_nodes(host.topology)) {
        for (const unsigned pu : assay::numa_node_core_pus(host.topology, n)) {
            if (contains(allowed, pu) && cpus.size() < 2) {
                cpus.push_back(pu);
            }
        }
        if (!cpus.empty()) {
            cpu_node = n;
            break;
        }
    }
    if (cpus.empty()) {
        cpus.assign(allowed.begin(), allowed.begin() + std::min<std::size_t>(2, allowed.size()));
    }
    unsigned node = memory_nodes.front();
    for (const unsigned n : memory_nodes) {
        if (n != cpu_node) {
            node = n;
        }
    }
    INFO("CPUs on node " << (cpu_node ? std::to_string(*cpu_node) : "?") << ", memory on node "
                         << node);
    const std::string unsupported = assay::test::binding_unsupported_reason(node);
    const bool checkable = unsupported.empty() && page_location_known(node);
    constexpr std::size_t kElements = std::size_t{1} << 18;  // 2 MiB per array
    for (const assay::StreamOp op : {assay::StreamOp::triad, assay::StreamOp::sum}) {
        INFO(std::string(assay::stream_op_name(op)));
        assay::StreamKernel k(op, assay::StoreKind::regular, cpus, kElements, 1, node);
        CHECK(k.memory_node() == node);
        if (!unsupported.empty()) {
            // Unavailable: prepare() passes the OS's refusal on; no unbound fallback.
            INFO("memory binding unsupported here: " << unsupported);
            std::string refused = "(accepted)";
            try {
                k.prepare();
            } catch (const assay::Error& e) {
                refused = e.what();
            }
            CHECK(is_specific_binding_refusal(refused, node));
            continue;
        }
        k.prepare();
        k.run();
        const assay::Verification v = k.verify();
        INFO(v.detail);
        CHECK(v.ok);
        const std::string node_text = "NUMA node " + std::to_string(node);
        if (checkable) {
            CHECK(v.detail.find("first and last pages on " + node_text) != std::string::npos);
        } else {
            CHECK(v.detail.find("placement on " + node_text + " bound but not checkable here") !=
                  std::string::npos);
        }
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
