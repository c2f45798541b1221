#include "benches/cpu/pointer_chase.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "test_cpus.hpp"
#include "tests/benches/host_facilities.hpp"

using assay::PageMode;
using assay::PointerChaseKernel;

namespace {

/// Steps from element 0 until the walk first returns to it (0 if it never does within n+1).
std::size_t cycle_length_from_zero(const std::vector<std::uint32_t>& next) {
    std::size_t at = 0;
    for (std::size_t step = 1; step <= next.size() + 1; ++step) {
        at = next.at(at);
        if (at == 0) {
            return step;
        }
    }
    return 0;
}

unsigned first_allowed_cpu() {
    const std::vector<unsigned> cpus = assay::test::allowed_cpus(1);
    REQUIRE(!cpus.empty());
    return cpus.front();
}

}  // namespace

TEST_CASE("single_cycle_permutation is one cycle over all lines", "[latency]") {
    for (const std::size_t lines : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{64},
                                    std::size_t{1000}, std::size_t{4097}}) {
        for (const std::uint64_t seed :
             {std::uint64_t{1}, std::uint64_t{42}, assay::kDefaultChaseSeed}) {
            CAPTURE(lines, seed);
            const std::vector<std::uint32_t> next = assay::single_cycle_permutation(lines, seed);
            REQUIRE(next.size() == lines);
            // A permutation: every element is some element's successor exactly once.
            std::vector<int> hits(lines, 0);
            for (const std::uint32_t n : next) {
                REQUIRE(n < lines);
                ++hits[n];
            }
            for (const int h : hits) {
                REQUIRE(h == 1);
            }
            // One cycle: the walk from 0 returns only after visiting all lines.
            REQUIRE(cycle_length_from_zero(next) == lines);
        }
    }
}

TEST_CASE("single_cycle_permutation depends on the seed and is deterministic", "[latency]") {
    const auto a = assay::single_cycle_permutation(1000, 1);
    const auto b = assay::single_cycle_permutation(1000, 2);
    REQUIRE(a == assay::single_cycle_permutation(1000, 1));
    REQUIRE(a != b);
    // Random, not the trivial i -> i+1 cycle (which a prefetcher would follow).
    std::size_t sequential = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        sequential += a[i] == (i + 1) % a.size() ? 1 : 0;
    }
    REQUIRE(sequential < 20);
    REQUIRE_THROWS_AS(assay::single_cycle_permutation(0, 1), assay::UsageError);
}

TEST_CASE("PointerChaseKernel runs and verifies, work counts loads", "[latency]") {
    const unsigned cpu = first_allowed_cpu();
    for (const PageMode pages : {PageMode::thp, PageMode::small}) {
        CAPTURE(assay::page_mode_name(pages));
        // 64 KiB = 1024 lines; 3000 loads is not a multiple of 1024, so the expected position
        // after several runs wraps around the cycle.
        PointerChaseKernel kernel(cpu, 64 * 1024, pages, std::nullopt, 7, 3000);
        REQUIRE(kernel.lines() == 0);
        kernel.prepare();
        REQUIRE(kernel.lines() == 1024);
        REQUIRE(kernel.verify().ok);  // linked, position at line 0
        for (int i = 0; i < 3; ++i) {
            kernel.run();
        }
        const assay::Verification v = kernel.verify();
        INFO(v.detail);
        REQUIRE(v.ok);
        REQUIRE(v.detail.find("9000 loads") != std::string::npos);

        const assay::WorkModel w = kernel.work();
        REQUIRE(w.operations == 3000.0);
        REQUIRE(w.bytes_stream == 0.0);
        REQUIRE(w.bytes_write_allocate == 0.0);
        REQUIRE(w.flops == 0.0);
        const std::string impl = kernel.implementation();
        INFO(impl);
        REQUIRE(impl.find("1024 lines") != std::string::npos);
        REQUIRE(impl.find(pages == PageMode::thp ? "THP requested" : "small pages") !=
                std::string::npos);
    }
}

TEST_CASE("PointerChaseKernel rounds the working set down to whole lines", "[latency]") {
    PointerChaseKernel kernel(first_allowed_cpu(), 64 * 10 + 63, PageMode::thp, std::nullopt, 3,
                              25);
    kernel.prepare();
    REQUIRE(kernel.lines() == 10);
    kernel.run();
    REQUIRE(kernel.verify().ok);
}

TEST_CASE("PointerChaseKernel verify fails on a corrupted link", "[latency]") {
    const unsigned cpu = first_allowed_cpu();
    for (const std::size_t line : {std::size_t{0}, std::size_t{5}, std::size_t{511}}) {
        CAPTURE(line);
        PointerChaseKernel kernel(cpu, 32 * 1024, PageMode::thp, std::nullopt, 11, 1000);
        kernel.prepare();
        kernel.run();
        REQUIRE(kernel.verify().ok);
        kernel.corrupt_link_for_test(line);
        const assay::Verification v = kernel.verify();
        INFO(v.detail);
        REQUIRE_FALSE(v.ok);
        REQUIRE(v.detail.find("corrupted") != std::string::npos);
    }
}

TEST_CASE("PointerChaseKernel rejects bad arguments", "[latency]") {
    REQUIRE_THROWS_AS(PointerChaseKernel(0, 63, PageMode::thp), assay::UsageError);
    REQUIRE_THROWS_AS(PointerChaseKernel(0, 4096, PageMode::thp, std::nullopt, 1, 0),
                      assay::UsageError);
    PointerChaseKernel unprepared(0, 4096, PageMode::small);
    REQUIRE_THROWS_AS(unprepared.run(), assay::UsageError);
    REQUIRE_FALSE(unprepared.verify().ok);
    REQUIRE_THROWS_AS(unprepared.corrupt_link_for_test(0), assay::UsageError);
    REQUIRE(assay::page_mode_name(PageMode::thp) == "thp");
    REQUIRE(assay::page_mode_name(PageMode::small) == "small");
}

TEST_CASE("PointerChaseKernel binds its buffer to a NUMA node when asked", "[latency]") {
    const std::vector<unsigned> nodes = assay::test::live_memory_nodes(assay::test::live_host());
    REQUIRE_FALSE(nodes.empty());
    const unsigned node = nodes.back();  // the last node: remote from CPU 0 on multi-node hosts
    PointerChaseKernel kernel(first_allowed_cpu(), 16 * 1024, PageMode::small, node, 5, 500);
    if (const std::string why = assay::test::binding_unsupported_reason(node); !why.empty()) {
        // qemu-user and some containers refuse mbind: prepare() passes the refusal on, naming
        // the node, instead of chasing unbound memory.
        INFO("memory binding unsupported here: " << why);
        std::string refused = "(accepted)";
        try {
            kernel.prepare();
        } catch (const assay::Error& e) {
            refused = e.what();
        }
        CHECK(assay::test::is_specific_binding_refusal(refused, node));
    } else {
        kernel.prepare();
        CHECK(kernel.implementation().find("NUMA node " + std::to_string(node)) !=
              std::string::npos);
        kernel.run();
        CHECK(kernel.verify().ok);
    }
    // A node no host has is refused by name on every host.
    PointerChaseKernel missing(first_allowed_cpu(), 16 * 1024, PageMode::small, 9973u, 5, 500);
    CHECK_THROWS_WITH(missing.prepare(), Catch::Contains("NUMA node 9973: no such node"));
}
