#include "collect/counters.hpp"

#include <time.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "benches/thread_team.hpp"
#include "collect/perf_events.hpp"
#include "core/error.hpp"
#include "perf_support.hpp"
#include "tests/benches/test_cpus.hpp"

namespace {

const assay::CounterAvailability* find(const assay::CounterSession& s, const std::string& event) {
    for (const auto& a : s.availability()) {
        if (a.event == event) {
            return &a;
        }
    }
    return nullptr;
}

const assay::Metric* find(const std::vector<assay::Metric>& m, const std::string& name) {
    for (const auto& x : m) {
        if (x.name == name) {
            return &x;
        }
    }
    return nullptr;
}

/// CPU time consumed so far by the calling thread.
double thread_cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

}  // namespace

TEST_CASE("software events are available here and counted", "[collect][counters]") {
    assay::CounterSession s({"perf::TASK-CLOCK", "perf::PAGE-FAULTS"});
    REQUIRE(s.availability().size() == 2);
    std::string why;
    if (!assay::test::software_perf_events_work(why)) {
        WARN("software perf events unusable here (" << why << "): checking the unavailable path");
        for (const auto& a : s.availability()) {
            CHECK_FALSE(a.available);
            CHECK_FALSE(a.reason.empty());
        }
        s.start();
        CHECK(s.stop(1).empty());
        return;
    }
    for (const auto& a : s.availability()) {
        INFO(a.event << ": " << a.reason);
        CHECK(a.available);
    }
    CHECK(s.any_available());
    s.start();
    volatile double x = 1;
    for (int i = 0; i < 2000000; ++i) {
        x = x * 1.0000001 + 1e-9;
    }
    std::vector<char> touch(64 << 20, 1);  // first touch: page faults
    const auto m = s.stop(4);
    const auto* clock = find(m, "counter.perf::TASK-CLOCK");
    REQUIRE(clock != nullptr);
    CHECK(clock->unit == "ns/iteration");
    CHECK(clock->value > 0);
    CHECK(clock->direction == assay::Direction::none);
    const auto* faults = find(m, "counter.perf::PAGE-FAULTS");
    REQUIRE(faults != nullptr);
    CHECK(faults->unit == "events/iteration");
    CHECK(faults->value * 4 >= 1);
    const auto* threads = find(m, "counter.threads_counted");
    REQUIRE(threads != nullptr);
    CHECK(threads->value >= 1);
    CHECK(touch[100] == 1);
    // Not started: nothing.
    CHECK(s.stop(1).empty());
}

TEST_CASE("hardware presets and unknown names are unavailable with reasons",
          "[collect][counters]") {
    assay::CounterSession s({"PAPI_TOT_CYC", "NOT_AN_EVENT", "perf::TASK-CLOCK"});
    const auto* cyc = find(s, "PAPI_TOT_CYC");
    const auto* bogus = find(s, "NOT_AN_EVENT");
    REQUIRE(cyc != nullptr);
    REQUIRE(bogus != nullptr);
    CHECK_FALSE(bogus->available);
    CHECK(bogus->path.empty());
    CHECK_THAT(bogus->reason, Catch::StartsWith("unavailable: unknown event name 'NOT_AN_EVENT'"));
    CHECK_THAT(bogus->reason, Catch::Contains("; PAPI: "));
    std::string why;
    const bool sw = assay::test::software_perf_events_work(why);
    CHECK(find(s, "perf::TASK-CLOCK")->available == sw);
    // The preset counts wherever the kernel opens its generic cycles event: through PAPI when
    // PAPI knows the CPU, else perf_event_open. Where it cannot, the reason says why.
    const int cycles_errno = assay::test::hardware_cycles_open_errno();
    INFO("PAPI_TOT_CYC: " << cyc->reason << " (direct open errno " << cycles_errno << ")");
    CHECK(cyc->available == (cycles_errno == 0));
    if (cycles_errno == ENOENT || cycles_errno == EOPNOTSUPP || cycles_errno == ENODEV) {
        const auto pmus = assay::read_pmu_inventory();
        if (!pmus.core_pmu) {
            CHECK_THAT(cyc->reason, Catch::StartsWith("unavailable: no hardware PMU"));
        } else {
            CHECK_THAT(cyc->reason, Catch::Contains("does not support this event"));
        }
    } else if (cycles_errno == EACCES || cycles_errno == EPERM) {
        CHECK_THAT(cyc->reason, Catch::Contains("perf_event_paranoid="));
    } else if (cycles_errno == ENOSYS) {
        CHECK_THAT(cyc->reason, Catch::Contains("ENOSYS"));
    } else {
        CHECK((cyc->path == "papi" || cyc->path == "perf_event"));
    }
    s.start();
    const auto m = s.stop(1);
    CHECK(find(m, "counter.NOT_AN_EVENT") == nullptr);
    CHECK((find(m, "counter.perf::TASK-CLOCK") != nullptr) == sw);
    CHECK((find(m, "counter.PAPI_TOT_CYC") != nullptr) == cyc->available);

    assay::CounterSession only({"PAPI_TOT_CYC"});
    CHECK(only.any_available() == cyc->available);
    only.start();
    const auto alone = only.stop(1);
    CHECK((find(alone, "counter.PAPI_TOT_CYC") != nullptr) == cyc->available);
}

TEST_CASE("each counted event records its path", "[collect][counters]") {
    assay::CounterSession s({"perf::TASK-CLOCK"});
    const auto* clock = find(s, "perf::TASK-CLOCK");
    REQUIRE(clock != nullptr);
    std::string why;
    if (!assay::test::software_perf_events_work(why)) {
        CHECK_FALSE(clock->available);
        CHECK(clock->path.empty());
        CHECK_THAT(clock->reason, Catch::StartsWith("unavailable: "));
        return;
    }
    REQUIRE(clock->available);
    // PAPI counts it when its perf_event component works; else the kernel path does, and the
    // note then says why PAPI could not.
    CHECK((clock->path == "papi" || clock->path == "perf_event"));
    if (clock->path == "perf_event") {
        CHECK_THAT(clock->reason, Catch::Contains("PAPI: "));
    }
    s.start();
    const auto m = s.stop(1);
    REQUIRE(find(m, "counter.perf::TASK-CLOCK") != nullptr);
    CHECK_FALSE(clock->reason.empty());  // after start: how it was counted
    CHECK(
        (clock->path == "papi" || clock->path == "perf_event" || clock->path == "papi+perf_event"));
}

TEST_CASE("garbled counter lists are usage errors", "[collect][counters]") {
    CHECK_THROWS_AS(assay::CounterSession({}), assay::UsageError);
    CHECK_THROWS_AS(assay::CounterSession({""}), assay::UsageError);
    CHECK_THROWS_AS(assay::CounterSession({"PAPI TOT"}), assay::UsageError);
    CHECK_THROWS_AS(assay::CounterSession({"group:no_such_group"}), assay::UsageError);
    CHECK_THROWS_WITH(assay::CounterSession({"group:no_such_group"}),
                      Catch::Contains("unknown counter group 'no_such_group'"));
}

TEST_CASE("task-clock counts every thread of the process", "[collect][counters][threads]") {
    const std::vector<unsigned> pus = assay::test::allowed_cpus(2);
    if (pus.size() < 2) {
        FAIL("this test needs at least 2 PUs; this machine allows " << pus.size());
    }
    // Workers exist before start(): they are counted only if start() attaches to every thread.
    assay::ThreadTeam team({pus[0], pus[1]});
    assay::CounterSession s({"perf::TASK-CLOCK"});
    std::string why;
    if (!assay::test::software_perf_events_work(why)) {
        CHECK_FALSE(find(s, "perf::TASK-CLOCK")->available);
        WARN("software perf events unusable here (" << why
                                                    << "): all-thread counting not testable");
        return;
    }
    REQUIRE(find(s, "perf::TASK-CLOCK")->available);
    // Each worker spins for 200 ms of its *own* CPU time (not wall time: the shared VM may be
    // oversubscribed), so counting every thread gives ~2x that budget and counting only the
    // calling thread (blocked while the team runs) gives ~0x.
    constexpr double budget_ns = 200e6;
    using Clock = std::chrono::steady_clock;
    const auto t0 = Clock::now();
    s.start();
    team.run([](unsigned, unsigned) {
        volatile double x = 1;
        while (thread_cpu_ns() < budget_ns) {
            for (int i = 0; i < 1000; ++i) {
                x = x * 1.0000001 + 1e-9;
            }
        }
    });
    const auto m = s.stop(1);
    const double wall_ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
    const auto* clock = find(m, "counter.perf::TASK-CLOCK");
    REQUIRE(clock != nullptr);
    const double ratio = clock->value / budget_ns;
    INFO("task-clock " << clock->value << " ns for 2 workers of " << budget_ns
                       << " ns CPU each (wall " << wall_ns << " ns): ratio " << ratio
                       << " (2x = every thread counted, ~0x = only the caller); "
                       << find(s, "perf::TASK-CLOCK")->reason);
    CHECK(ratio > 1.6);
    CHECK(ratio < 2.4);
    const auto* threads = find(m, "counter.threads_counted");
    REQUIRE(threads != nullptr);
    CHECK(threads->value >= 3);  // the caller and the two workers
}

TEST_CASE("counter group files parse", "[collect][counters][groups]") {
    const auto names =
        assay::list_counter_groups(assay::counter_groups_dir(), assay::this_counter_target(""));
    for (const char* expected : {"sw", "ipc", "flops", "mem"}) {
        CHECK(std::find(names.begin(), names.end(), expected) != names.end());
    }
    for (const auto& name : names) {
        INFO(name);
        const auto g = assay::load_counter_group(name, assay::counter_groups_dir(),
                                                 assay::this_counter_target(""));
        CHECK_FALSE(g.events.empty());
    }
    const auto ipc = assay::load_counter_group("ipc");
    REQUIRE(ipc.metrics.size() == 1);
    CHECK(ipc.metrics[0].name == "ipc");
    CHECK(ipc.metrics[0].expr == "perf::INSTRUCTIONS / perf::CYCLES");
    CHECK(ipc.metrics[0].unit == "instructions/cycle");

    const auto g = assay::parse_counter_group(
        "t", "# c\n\nevent A_B\nevent perf::X-Y # trailing\nmetric m = A_B / time ; 1/s\n");
    CHECK(g.events == std::vector<std::string>{"A_B", "perf::X-Y"});
    REQUIRE(g.metrics.size() == 1);
    CHECK(g.metrics[0].unit == "1/s");
    CHECK_THROWS_AS(assay::parse_counter_group("t", "event A\nmetric m = B * 2 ; x\n"),
                    assay::InputError);
    CHECK_THROWS_WITH(assay::parse_counter_group("t", "event A\nmetric m = B * 2 ; x\n"),
                      Catch::Contains("line 2"));
    CHECK_THROWS_AS(assay::parse_counter_group("t", "event A\nmetric m = A + ; x\n"),
                    assay::InputError);
    CHECK_THROWS_AS(assay::parse_counter_group("t", "events A\n"), assay::InputError);
    CHECK_THROWS_AS(assay::parse_counter_group("t", "event A\nmetric m A ; x\n"),
                    assay::InputError);
    CHECK_THROWS_AS(assay::parse_counter_group("t", "# nothing\n"), assay::InputError);
}

TEST_CASE("groups expand, derived metrics need all their events", "[collect][counters][groups]") {
    const std::filesystem::path dir = std::filesystem::path(ASSAY_TEST_TMP) / "groups";
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "mixed.txt") << "event perf::TASK-CLOCK\n"
                                        "event NOT_AN_EVENT\n"
                                        "metric busy = perf::TASK-CLOCK / (time * 1e9) ; cpus\n"
                                        "metric broken = NOT_AN_EVENT * 2 ; x\n"
                                        "metric zero = perf::TASK-CLOCK / (time - time) ; x\n";
    assay::CounterSession s({"group:mixed", "perf::TASK-CLOCK"}, dir);
    REQUIRE(s.availability().size() == 5);  // 2 events (deduplicated) + 3 metrics
    const auto* busy = find(s, "metric:busy");
    const auto* broken = find(s, "metric:broken");
    REQUIRE(busy != nullptr);
    REQUIRE(broken != nullptr);
    CHECK_FALSE(broken->available);
    CHECK(broken->reason.find("needs NOT_AN_EVENT") != std::string::npos);
    std::string why;
    const bool sw = assay::test::software_perf_events_work(why);
    // "busy" needs only perf::TASK-CLOCK: available exactly when software events are.
    CHECK(busy->available == sw);
    s.start();
    volatile double x = 1;
    for (int i = 0; i < 1000000; ++i) {
        x = x * 1.0000001 + 1e-9;
    }
    const auto m = s.stop(2);
    const auto* busy_m = find(m, "counter.busy");
    if (sw) {
        REQUIRE(busy_m != nullptr);
        CHECK(busy_m->unit == "cpus");
        CHECK(busy_m->value > 0);
    } else {
        WARN("software perf events unusable here (" << why << "): derived metric left out");
        CHECK(busy_m == nullptr);
    }
    CHECK(find(m, "counter.broken") == nullptr);
    CHECK(find(m, "counter.zero") == nullptr);  // division by zero: left out

    // The shipped ipc group fails soft without a PMU.
    assay::CounterSession ipc({"group:ipc"});
    const auto* ipc_a = find(ipc, "metric:ipc");
    REQUIRE(ipc_a != nullptr);
    if (!ipc_a->available) {
        CHECK(ipc_a->reason.rfind("unavailable: needs perf::", 0) == 0);
    }
    // ... and counts where the kernel offers the generic hardware events.
    CHECK(ipc_a->available == (assay::test::hardware_cycles_open_errno() == 0));
}

TEST_CASE("groups are specialised per architecture and microarchitecture",
          "[collect][counters][groups]") {
    const std::filesystem::path dir = std::filesystem::path(ASSAY_TEST_TMP) / "groups-target";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir / "x86_64");
    std::filesystem::create_directories(dir / "zen5");
    std::ofstream(dir / "g.txt") << "event GENERIC\n";
    std::ofstream(dir / "x86_64" / "g.txt") << "event ARCH\n";
    std::ofstream(dir / "zen5" / "g.txt") << "event UARCH\n";
    std::ofstream(dir / "x86_64" / "only_x86.txt") << "event X\n";

    CHECK(assay::microarchitecture_slug("Zen 5") == "zen5");
    CHECK(assay::microarchitecture_slug("Sapphire Rapids") == "sapphirerapids");
    CHECK(assay::microarchitecture_slug("Neoverse V2") == "neoversev2");
    CHECK(assay::microarchitecture_slug("") == "");

    CHECK(assay::load_counter_group("g", dir, {"x86_64", "Zen 5"}).events ==
          std::vector<std::string>{"UARCH"});
    CHECK(assay::load_counter_group("g", dir, {"x86_64", "Sapphire Rapids"}).events ==
          std::vector<std::string>{"ARCH"});
    CHECK(assay::load_counter_group("g", dir, {"aarch64", "Neoverse V2"}).events ==
          std::vector<std::string>{"GENERIC"});
    CHECK(assay::load_counter_group("g", dir, {}).events == std::vector<std::string>{"GENERIC"});
    const auto file = assay::load_counter_group("g", dir, {"x86_64", "Zen 5"}).file;
    CHECK(file == dir / "zen5" / "g.txt");

    CHECK(assay::list_counter_groups(dir, {"x86_64", ""}) ==
          std::vector<std::string>{"g", "only_x86"});
    CHECK(assay::list_counter_groups(dir, {"aarch64", ""}) == std::vector<std::string>{"g"});
    CHECK_THROWS_AS(assay::load_counter_group("only_x86", dir, {"aarch64", ""}), assay::UsageError);
    CHECK_THROWS_AS(assay::load_counter_group("../g", dir, {}), assay::UsageError);

    // The shipped flops group exists for both architectures Assay supports.
    for (const char* arch : {"x86_64", "aarch64"}) {
        INFO(arch);
        const auto g = assay::load_counter_group("flops", assay::counter_groups_dir(), {arch, ""});
        CHECK_FALSE(g.events.empty());
        CHECK(g.file.parent_path().filename() == arch);
    }
}
