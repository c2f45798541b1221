#include "benches/thread_team.hpp"

#include <sched.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <stdexcept>
#include <vector>

#include "core/error.hpp"
#include "test_cpus.hpp"

using assay::ThreadTeam;

TEST_CASE("ThreadTeam runs fn once per worker per run, each on its pinned PU", "[benches][team]") {
    const std::vector<unsigned> pus = assay::test::allowed_cpus(2);
    REQUIRE(!pus.empty());
    ThreadTeam team(pus);
    REQUIRE(team.size() == pus.size());
    REQUIRE(team.pus() == pus);

    std::vector<std::atomic<int>> calls(pus.size());
    std::vector<int> seen_cpu(pus.size(), -1);
    std::vector<unsigned> seen_size(pus.size(), 0);
    for (int round = 0; round < 5; ++round) {
        team.run([&](unsigned index, unsigned size) {
            calls[index].fetch_add(1);
            seen_cpu[index] = sched_getcpu();
            seen_size[index] = size;
        });
        for (std::size_t i = 0; i < pus.size(); ++i) {
            CHECK(calls[i].load() == round + 1);
            CHECK(seen_cpu[i] == static_cast<int>(pus[i]));
            CHECK(seen_size[i] == pus.size());
        }
    }
}

TEST_CASE("ThreadTeam rethrows a worker's exception and stays usable", "[benches][team]") {
    const std::vector<unsigned> pus = assay::test::allowed_cpus(2);
    REQUIRE(!pus.empty());
    ThreadTeam team(pus);
    CHECK_THROWS_WITH(team.run([](unsigned index, unsigned) {
        if (index == 0) {
            throw std::runtime_error("worker zero failed");
        }
    }),
                      "worker zero failed");
    std::atomic<unsigned> ran{0};
    team.run([&](unsigned, unsigned) { ran.fetch_add(1); });
    CHECK(ran.load() == pus.size());
}

TEST_CASE("ThreadTeam refuses a PU it cannot bind, naming it", "[benches][team]") {
    // Far beyond any machine's CPU count (and CPU_SETSIZE): cannot exist.
    CHECK_THROWS_AS(ThreadTeam({100000u}), assay::Error);
    CHECK_THROWS_WITH(ThreadTeam({100000u}), Catch::Contains("100000"));
    CHECK_THROWS_AS(ThreadTeam(std::vector<unsigned>{}), assay::Error);
}
