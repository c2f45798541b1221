// The perf_event_open path: sysfs PMU event parsing and PMU inventory on fake trees, the PAPI
// preset equivalents, libpfm4 name resolution, and the failure reasons per errno.
#include "collect/perf_events.hpp"

#include <catch2/catch.hpp>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>

#include "perf_support.hpp"

namespace fs = std::filesystem;

namespace {

void write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text << "\n";
}

/// A fake root with an x86-like `cpu` PMU (AMD-style split event field), a software PMU and
/// the paranoid level.
fs::path fake_root(const std::string& name, bool with_cpu_pmu) {
    const fs::path root = fs::path(ASSAY_TEST_TMP) / name;
    fs::remove_all(root);
    const fs::path dev = root / "sys/bus/event_source/devices";
    if (with_cpu_pmu) {
        write(dev / "cpu/type", "4");
        write(dev / "cpu/format/event", "config:0-7,32-35");
        write(dev / "cpu/format/umask", "config:8-15");
        write(dev / "cpu/format/edge", "config:18");
        write(dev / "cpu/format/cmask", "config:24-31");
        write(dev / "cpu/format/ldlat", "config1:0-15");
        write(dev / "cpu/events/cpu-cycles", "event=0x76");
        write(dev / "cpu/events/ls-any", "event=0x1a5,umask=0x3");
        write(dev / "cpu/events/bad", "event=0xzz");
    }
    write(dev / "software/type", "1");
    write(dev / "tracepoint/type", "2");
    write(dev / "msr/type", "9");
    write(root / "proc/sys/kernel/perf_event_paranoid", "2");
    return root;
}

}  // namespace

TEST_CASE("sysfs PMU events encode through the PMU's format", "[collect][perf]") {
    const fs::path root = fake_root("perf-sysfs", true);
    const fs::path dev = root / "sys/bus/event_source/devices";
    std::string why;

    auto cycles = assay::encode_sysfs_event("cpu/cpu-cycles", dev, why);
    REQUIRE(cycles.has_value());
    CHECK(cycles->type == 4);
    CHECK(cycles->config == 0x76);
    CHECK(cycles->needs_hardware_pmu);
    CHECK_THAT(cycles->resolved_by, Catch::Contains("sysfs cpu/cpu-cycles"));

    // A value wider than the first range continues in the next one (AMD's event[11:8] at 32-35).
    auto split = assay::encode_sysfs_event("cpu/ls-any/", dev, why);
    REQUIRE(split.has_value());
    CHECK(split->config == ((0x1ULL << 32) | (0x3ULL << 8) | 0xa5ULL));

    auto terms =
        assay::encode_sysfs_event("cpu/event=0x3c,umask=0x1,edge,cmask=2,ldlat=3/", dev, why);
    REQUIRE(terms.has_value());
    CHECK(terms->config == (0x3cULL | (0x1ULL << 8) | (1ULL << 18) | (2ULL << 24)));
    CHECK(terms->config1 == 3);

    auto direct = assay::encode_sysfs_event("cpu/config=0x1234,config2=7/", dev, why);
    REQUIRE(direct.has_value());
    CHECK(direct->config == 0x1234);
    CHECK(direct->config2 == 7);

    // Errors name the problem.
    CHECK_FALSE(assay::encode_sysfs_event("nopmu/cycles", dev, why).has_value());
    CHECK_THAT(why, Catch::Contains("no PMU 'nopmu'"));
    CHECK_FALSE(assay::encode_sysfs_event("cpu/no-such-event", dev, why).has_value());
    CHECK_THAT(why, Catch::Contains("has no event 'no-such-event'"));
    CHECK_FALSE(assay::encode_sysfs_event("cpu/bad", dev, why).has_value());
    CHECK_THAT(why, Catch::Contains("bad value"));
    CHECK_FALSE(assay::encode_sysfs_event("cpu/event=0x1000/", dev, why).has_value());
    CHECK_THAT(why, Catch::Contains("does not fit"));
    CHECK_FALSE(assay::encode_sysfs_event("cpu/frob=1/", dev, why).has_value());
    CHECK_THAT(why, Catch::Contains("no format term 'frob'"));
    CHECK_FALSE(assay::encode_sysfs_event("cpu/../../x", dev, why).has_value());
    CHECK_FALSE(why.empty());
    // Not the <pmu>/... shape: nothing to say, other resolvers go on.
    CHECK_FALSE(assay::encode_sysfs_event("perf::CYCLES", dev, why).has_value());
    CHECK(why.empty());
    CHECK_FALSE(assay::encode_sysfs_event("PAPI_TOT_CYC", dev, why).has_value());
    CHECK(why.empty());
}

TEST_CASE("the PMU inventory tells a CPU PMU from software sources", "[collect][perf]") {
    const auto with = assay::read_pmu_inventory(fake_root("perf-inv-cpu", true));
    CHECK(with.core_pmu);
    CHECK(with.paranoid == "2");
    CHECK(with.pmus == std::vector<std::string>{"cpu", "msr", "software", "tracepoint"});

    const auto without = assay::read_pmu_inventory(fake_root("perf-inv-vm", false));
    CHECK_FALSE(without.core_pmu);
    CHECK(without.pmus == std::vector<std::string>{"msr", "software", "tracepoint"});

    const fs::path arm = fs::path(ASSAY_TEST_TMP) / "perf-inv-arm";
    fs::remove_all(arm);
    write(arm / "sys/bus/event_source/devices/armv8_pmuv3_0/type", "8");
    const auto a = assay::read_pmu_inventory(arm);
    CHECK(a.core_pmu);
    CHECK(a.paranoid == "unknown");
}

TEST_CASE("failure reasons name the cause", "[collect][perf]") {
    assay::PerfEncoding hw;
    hw.needs_hardware_pmu = true;
    assay::PerfEncoding sw;
    sw.type = 1;
    assay::PmuInventory vm{{"breakpoint", "msr", "software"}, false, "2"};
    assay::PmuInventory metal{{"cpu", "software"}, true, "4"};

    CHECK_THAT(assay::perf_open_failure_reason(hw, ENOENT, vm),
               Catch::StartsWith("no hardware PMU (the kernel exposes none: event sources "
                                 "breakpoint, msr, software)"));
    CHECK_THAT(assay::perf_open_failure_reason(hw, EOPNOTSUPP, vm),
               Catch::StartsWith("no hardware PMU"));
    CHECK_THAT(assay::perf_open_failure_reason(hw, ENOENT, metal),
               Catch::Contains("does not support this event"));
    CHECK_THAT(assay::perf_open_failure_reason(sw, ENOENT, vm),
               Catch::Contains("does not support this event"));
    CHECK_THAT(assay::perf_open_failure_reason(hw, EACCES, metal),
               Catch::Contains("perf_event_paranoid=4"));
    CHECK_THAT(assay::perf_open_failure_reason(hw, EPERM, metal),
               Catch::Contains("permission denied"));
    CHECK_THAT(assay::perf_open_failure_reason(hw, ENOSYS, metal), Catch::Contains("ENOSYS"));
    CHECK_THAT(assay::perf_open_failure_reason(hw, EINVAL, metal), Catch::Contains("EINVAL"));
    CHECK_FALSE(assay::perf_open_failure_reason(hw, EIO, metal).empty());
}

TEST_CASE("PAPI presets map to the kernel's generic events", "[collect][perf]") {
    CHECK(assay::papi_preset_equivalent("PAPI_TOT_CYC") == "perf::CYCLES");
    CHECK(assay::papi_preset_equivalent("PAPI_TOT_INS") == "perf::INSTRUCTIONS");
    CHECK(assay::papi_preset_equivalent("PAPI_L3_TCM") == "perf::LLC-LOAD-MISSES");
    CHECK_FALSE(assay::papi_preset_equivalent("PAPI_DP_OPS").has_value());
    std::string why;
    CHECK_FALSE(assay::resolve_perf_event("PAPI_DP_OPS", why).has_value());
    CHECK_THAT(why, Catch::Contains("no generic kernel equivalent"));
}

TEST_CASE("libpfm4 resolves the generic perf events on any CPU", "[collect][perf]") {
    // libpfm4's "perf" PMU (the kernel's generic events) does not depend on knowing the CPU.
    std::string why;
    const auto clock = assay::resolve_perf_event("perf::TASK-CLOCK", why);
    INFO(why);
    REQUIRE(clock.has_value());
    CHECK(clock->type == 1);    // PERF_TYPE_SOFTWARE
    CHECK(clock->config == 1);  // PERF_COUNT_SW_TASK_CLOCK
    CHECK_FALSE(clock->needs_hardware_pmu);
    const auto cycles = assay::resolve_perf_event("PAPI_TOT_CYC", why);
    REQUIRE(cycles.has_value());
    CHECK(cycles->type == 0);  // PERF_TYPE_HARDWARE
    CHECK(cycles->config == 0);
    CHECK(cycles->needs_hardware_pmu);
    CHECK_THAT(cycles->resolved_by, Catch::Contains("PAPI preset PAPI_TOT_CYC as perf::CYCLES"));
    const auto llc = assay::resolve_perf_event("perf::LLC-LOAD-MISSES", why);
    REQUIRE(llc.has_value());
    CHECK(llc->type == 3);  // PERF_TYPE_HW_CACHE
    CHECK_FALSE(assay::resolve_perf_event("NOT_AN_EVENT", why).has_value());
    CHECK_THAT(why, Catch::StartsWith("unknown event name 'NOT_AN_EVENT'"));
}

TEST_CASE("a probed software counter opens and reads, or says why not", "[collect][perf]") {
    std::string why;
    const auto clock = assay::resolve_perf_event("perf::TASK-CLOCK", why);
    REQUIRE(clock.has_value());
    const auto pmus = assay::read_pmu_inventory();
    const std::string reason = assay::probe_perf_counter(*clock, pmus);
    std::string sw_why;
    if (assay::test::software_perf_events_work(sw_why)) {
        CHECK(reason.empty());
        const auto opened = assay::open_perf_counter(*clock, 0);
        REQUIRE(opened.fd >= 0);
        assay::perf_counter_enable(opened.fd);
        volatile double x = 1;
        for (int i = 0; i < 1000000; ++i) {
            x = x * 1.0000001 + 1e-9;
        }
        assay::perf_counter_disable(opened.fd);
        const auto reading = assay::read_perf_counter(opened.fd);
        close(opened.fd);
        REQUIRE(reading.has_value());
        CHECK(reading->value > 0);
        CHECK(reading->enabled_ns > 0);
    } else {
        INFO(sw_why);
        CHECK_FALSE(reason.empty());
    }
    // The hardware cycles event: counts exactly where a direct open works.
    const auto cycles = assay::resolve_perf_event("perf::CYCLES", why);
    REQUIRE(cycles.has_value());
    const std::string hw = assay::probe_perf_counter(*cycles, pmus);
    CHECK(hw.empty() == (assay::test::hardware_cycles_open_errno() == 0));
}
