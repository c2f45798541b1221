#include "collect/telemetry.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;

namespace {

/// Writes atomically (the sampling thread may be reading).
void put(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    const fs::path tmp = p.string() + ".tmp";
    std::ofstream(tmp) << text << "\n";
    fs::rename(tmp, p);
}

const assay::Metric* find(const std::vector<assay::Metric>& m, const std::string& name) {
    for (const auto& x : m) {
        if (x.name == name) {
            return &x;
        }
    }
    return nullptr;
}

const assay::TelemetryAvailability* source(const assay::TelemetrySampler& s,
                                           const std::string& name,
                                           std::vector<assay::TelemetryAvailability>& keep) {
    keep = s.availability();
    for (const auto& a : keep) {
        if (a.source == name) {
            return &a;
        }
    }
    return nullptr;
}

fs::path fake_root(const std::string& name) {
    const fs::path root = fs::path(ASSAY_TEST_TMP) / name;
    fs::remove_all(root);
    fs::create_directories(root);
    return root;
}

}  // namespace

TEST_CASE("telemetry reads cpufreq and RAPL energy from sysfs, with wraparound",
          "[collect][telemetry]") {
    const fs::path root = fake_root("telemetry_fake");
    const fs::path cpu = root / "sys/devices/system/cpu";
    put(cpu / "online", "0-2");
    put(cpu / "cpu0/cpufreq/scaling_cur_freq", "2000000");
    put(cpu / "cpu1/cpufreq/scaling_cur_freq", "3000000");
    // cpu2 has no cpufreq: skipped.
    const fs::path rapl = root / "sys/class/powercap/intel-rapl:0";
    put(rapl / "max_energy_range_uj", "1000000");
    put(rapl / "energy_uj", "900000");
    put(root / "sys/class/powercap/intel-rapl:0:0/energy_uj", "5");  // a sub-zone: ignored

    assay::TelemetrySampler s({}, 2600.0, std::nullopt, root, std::chrono::milliseconds(5));
    std::vector<assay::TelemetryAvailability> keep;
    const auto* freq = source(s, "cpu_freq", keep);
    REQUIRE(freq != nullptr);
    CHECK(freq->available);
    CHECK(freq->reason == "scaling_cur_freq of 2 of 3 CPUs");
    const auto* energy = source(s, "energy", keep);
    REQUIRE(energy != nullptr);
    CHECK(energy->available);
    CHECK(energy->reason == "powercap intel-rapl:0");
    CHECK(source(s, "gpu", keep) == nullptr);  // not asked for

    s.start();
    put(rapl / "energy_uj", "100000");  // wrapped: 100000 + 1000000 - 900000 = 0.2 J
    const auto m = s.stop(4);
    const auto* avg = find(m, "telemetry.cpu_mhz.avg");
    REQUIRE(avg != nullptr);
    CHECK(avg->value == Approx(2500));
    CHECK(avg->unit == "MHz");
    REQUIRE(find(m, "telemetry.cpu_mhz.min") != nullptr);
    CHECK(find(m, "telemetry.cpu_mhz.min")->value == Approx(2000));
    const auto* e = find(m, "telemetry.energy_j_per_iteration");
    REQUIRE(e != nullptr);
    CHECK(e->value == Approx(0.05));
    const auto* p = find(m, "telemetry.power_w.avg");
    REQUIRE(p != nullptr);
    CHECK(p->value > 0);
    const auto* thr = find(m, "telemetry.throttled");
    REQUIRE(thr != nullptr);
    CHECK(thr->value == 0);  // 2500 >= 0.9 * 2600

    // Below 90 % of nominal: throttled.
    assay::TelemetrySampler hot({0, 1}, 3000.0, std::nullopt, root);
    hot.start();
    const auto m2 = hot.stop(1);
    REQUIRE(find(m2, "telemetry.throttled") != nullptr);
    CHECK(find(m2, "telemetry.throttled")->value == 1);
    // Only cpu0 asked for.
    assay::TelemetrySampler one({0}, std::nullopt, std::nullopt, root);
    one.start();
    const auto m3 = one.stop(1);
    REQUIRE(find(m3, "telemetry.cpu_mhz.avg") != nullptr);
    CHECK(find(m3, "telemetry.cpu_mhz.avg")->value == Approx(2000));
    CHECK(find(m3, "telemetry.throttled") == nullptr);  // no nominal: not measurable
}

TEST_CASE("telemetry with nothing readable is all unavailable and emits nothing",
          "[collect][telemetry]") {
    const fs::path root = fake_root("telemetry_empty");
    assay::TelemetrySampler s({0, 1}, 3000.0, 0u, root);
    const auto avail = s.availability();
    REQUIRE(avail.size() == 4);  // cpu_freq, cpu_aperf_mperf, energy, gpu
    for (const auto& a : avail) {
        INFO(a.source);
        CHECK_FALSE(a.available);
        // "unavailable: why" or, for a source this architecture lacks, "n/a: why".
        CHECK((a.reason.rfind("unavailable: ", 0) == 0 || a.reason.rfind("n/a: ", 0) == 0));
    }
    s.start();
    CHECK(s.stop(10).empty());
    CHECK(s.stop(10).empty());  // not started
}
