#include "collect/telemetry.hpp"

#include <dlfcn.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>
#include <utility>

namespace assay {

namespace {

using Clock = std::chrono::steady_clock;

std::optional<std::uint64_t> read_u64(const std::filesystem::path& p) {
    std::ifstream in(p);
    if (!in) {
        return std::nullopt;
    }
    std::string text;
    std::getline(in, text);
    if (text.empty() || text.find_first_not_of("0123456789 \t\r") != std::string::npos) {
        return std::nullopt;
    }
    char* end = nullptr;
    const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
    if (end == text.c_str()) {
        return std::nullopt;
    }
    return static_cast<std::uint64_t>(v);
}

/// "0-3,6,8-9" -> {0,1,2,3,6,8,9}; malformed parts are skipped.
std::vector<unsigned> parse_cpu_list(const std::string& text) {
    std::vector<unsigned> out;
    std::stringstream ss(text);
    std::string part;
    while (std::getline(ss, part, ',')) {
        unsigned a = 0, b = 0;
        if (std::sscanf(part.c_str(), "%u-%u", &a, &b) == 2 && a <= b && b - a < 65536) {
            for (unsigned i = a; i <= b; ++i) {
                out.push_back(i);
            }
        } else if (std::sscanf(part.c_str(), "%u", &a) == 1) {
            out.push_back(a);
        }
    }
    return out;
}

/// Running average / min / max of a series of readings.
struct Series {
    double sum = 0, min = std::numeric_limits<double>::infinity(),
           max = -std::numeric_limits<double>::infinity();
    std::size_t n = 0;
    void add(double v) {
        sum += v;
        min = std::min(min, v);
        max = std::max(max, v);
        ++n;
    }
    double avg() const { return n > 0 ? sum / static_cast<double>(n) : 0; }
};

/// The few NVML entry points we use, declared from NVML's stable C ABI (nvml.h is never
/// included): every function returns nvmlReturn_t (an int enum, 0 = NVML_SUCCESS); a device is
/// an opaque pointer; clock type NVML_CLOCK_SM = 1, NVML_CLOCK_MEM = 2; temperature sensor
/// NVML_TEMPERATURE_GPU = 0; power in mW; throttle reasons a 64-bit mask (bit 0x1 = GPU idle,
/// 0x2 = applications clocks setting).
struct Nvml {
    using Device = void*;
    using InitFn = int (*)();
    using ShutdownFn = int (*)();
    using HandleFn = int (*)(unsigned, Device*);
    using ClockFn = int (*)(Device, int, unsigned*);
    using PowerFn = int (*)(Device, unsigned*);
    using TempFn = int (*)(Device, int, unsigned*);
    using ThrottleFn = int (*)(Device, unsigned long long*);
    static constexpr int kClockSm = 1;
    static constexpr int kClockMem = 2;
    static constexpr int kTempGpu = 0;
    static constexpr unsigned long long kThrottleIdle = 0x1;
    static constexpr unsigned long long kThrottleAppClocks = 0x2;

    void* lib = nullptr;
    ShutdownFn shutdown = nullptr;
    ClockFn clock = nullptr;
    PowerFn power = nullptr;
    TempFn temp = nullptr;
    ThrottleFn throttle = nullptr;
    Device device = nullptr;

    template <typename Fn>
    Fn sym(const char* name) const {
        void* p = dlsym(lib, name);
        Fn f = nullptr;
        static_assert(sizeof(f) == sizeof(p));
        std::memcpy(&f, &p, sizeof(f));  // object -> function pointer without a cast warning
        return f;
    }

    /// Returns "" on success, else the reason.
    std::string open(unsigned index) {
        lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
        if (lib == nullptr) {
            return "unavailable: libnvidia-ml.so.1 not found";
        }
        const auto init = sym<InitFn>("nvmlInit_v2");
        shutdown = sym<ShutdownFn>("nvmlShutdown");
        const auto handle = sym<HandleFn>("nvmlDeviceGetHandleByIndex_v2");
        clock = sym<ClockFn>("nvmlDeviceGetClockInfo");
        power = sym<PowerFn>("nvmlDeviceGetPowerUsage");
        temp = sym<TempFn>("nvmlDeviceGetTemperature");
        throttle = sym<ThrottleFn>("nvmlDeviceGetCurrentClocksThrottleReasons");
        if (init == nullptr || shutdown == nullptr || handle == nullptr || clock == nullptr) {
            close();
            return "unavailable: libnvidia-ml.so.1 lacks nvmlInit_v2/nvmlDeviceGetClockInfo";
        }
        if (const int rc = init(); rc != 0) {
            shutdown = nullptr;
            close();
            return fmt::format("unavailable: nvmlInit_v2 failed (nvmlReturn {})", rc);
        }
        if (const int rc = handle(index, &device); rc != 0) {
            close();
            return fmt::format("unavailable: no NVML device {} (nvmlReturn {})", index, rc);
        }
        return {};
    }

    void close() {
        if (lib != nullptr) {
            if (shutdown != nullptr) {
                shutdown();
            }
            dlclose(lib);
        }
        lib = nullptr;
        device = nullptr;
    }
};

}  // namespace

struct TelemetrySampler::Impl {
    std::vector<unsigned> cpus;
    std::optional<double> nominal_mhz;
    std::optional<unsigned> gpu_index;
    std::filesystem::path root;
    std::chrono::milliseconds period;

    std::vector<TelemetryAvailability> avail;
    std::vector<std::filesystem::path> freq_files;  ///< readable scaling_cur_freq (kHz)
    struct RaplDomain {
        std::filesystem::path energy;
        std::uint64_t max_range_uj = 0;
        std::optional<std::uint64_t> last;
        double total_uj = 0;
    };
    std::vector<RaplDomain> rapl;
    Nvml nvml;
    bool gpu_ok = false;

    std::mutex mutex;  ///< guards the series and RAPL state against the sampling thread
    std::condition_variable cv;
    bool stop_flag = false;
    std::thread worker;
    bool running = false;
    Clock::time_point t0;
    Series cpu_mhz, gpu_sm, gpu_mem, gpu_power_w, gpu_temp;
    bool gpu_throttled = false;

    void sample_locked() {
        if (!freq_files.empty()) {
            Series now;
            for (const auto& f : freq_files) {
                if (const auto khz = read_u64(f)) {
                    now.add(static_cast<double>(*khz) / 1e3);
                }
            }
            if (now.n > 0) {
                cpu_mhz.sum += now.sum;
                cpu_mhz.n += now.n;
                cpu_mhz.min = std::min(cpu_mhz.min, now.min);
                cpu_mhz.max = std::max(cpu_mhz.max, now.max);
            }
        }
        for (RaplDomain& d : rapl) {
            const auto e = read_u64(d.energy);
            if (!e) {
                continue;  // a torn read: skip, the next reading covers the interval
            }
            if (d.last) {
                // The counter wraps at max_energy_range_uj (every few minutes on big sockets).
                d.total_uj += *e >= *d.last ? static_cast<double>(*e - *d.last)
                                            : static_cast<double>(d.max_range_uj - *d.last + *e);
            }
            d.last = e;
        }
        if (gpu_ok) {
            unsigned v = 0;
            if (nvml.clock(nvml.device, Nvml::kClockSm, &v) == 0) {
                gpu_sm.add(v);
            }
            if (nvml.clock(nvml.device, Nvml::kClockMem, &v) == 0) {
                gpu_mem.add(v);
            }
            if (nvml.power != nullptr && nvml.power(nvml.device, &v) == 0) {
                gpu_power_w.add(v / 1e3);
            }
            if (nvml.temp != nullptr && nvml.temp(nvml.device, Nvml::kTempGpu, &v) == 0) {
                gpu_temp.add(v);
            }
            unsigned long long reasons = 0;
            if (nvml.throttle != nullptr && nvml.throttle(nvml.device, &reasons) == 0 &&
                (reasons & ~(Nvml::kThrottleIdle | Nvml::kThrottleAppClocks)) != 0) {
                gpu_throttled = true;
            }
        }
    }

    void loop() {
        std::unique_lock lock(mutex);
        while (!cv.wait_for(lock, period, [this] { return stop_flag; })) {
            sample_locked();
        }
    }
};

TelemetrySampler::TelemetrySampler(std::vector<unsigned> cpu_os_indices,
                                   std::optional<double> nominal_cpu_mhz,
                                   std::optional<unsigned> gpu_index, std::filesystem::path fs_root,
                                   std::chrono::milliseconds period)
    : impl_(std::make_unique<Impl>()) {
    Impl& s = *impl_;
    s.root = std::move(fs_root);
    s.nominal_mhz = nominal_cpu_mhz;
    s.gpu_index = gpu_index;
    s.period = period;
    const std::filesystem::path cpu_dir = s.root / "sys/devices/system/cpu";
    s.cpus = std::move(cpu_os_indices);
    if (s.cpus.empty()) {
        std::ifstream in(cpu_dir / "online");
        std::string text;
        std::getline(in, text);
        s.cpus = parse_cpu_list(text);
    }

    // CPU frequency.
    TelemetryAvailability freq{"cpu_freq", false, {}};
    std::string first_missing;
    for (const unsigned cpu : s.cpus) {
        const auto f = cpu_dir / fmt::format("cpu{}", cpu) / "cpufreq/scaling_cur_freq";
        if (read_u64(f)) {
            s.freq_files.push_back(f);
        } else if (first_missing.empty()) {
            first_missing = f.string();
        }
    }
    if (s.cpus.empty()) {
        freq.reason =
            fmt::format("unavailable: no CPUs listed in {}", (cpu_dir / "online").string());
    } else if (s.freq_files.empty()) {
        freq.reason = fmt::format(
            "unavailable: {} not readable (no cpufreq driver; typical in VMs)", first_missing);
    } else {
        freq.available = true;
        freq.reason =
            fmt::format("scaling_cur_freq of {} of {} CPUs", s.freq_files.size(), s.cpus.size());
    }
    s.avail.push_back(freq);

    // APERF/MPERF would give the true effective clock but need /dev/cpu/N/msr (root, msr module).
    TelemetryAvailability aperf{"cpu_aperf_mperf", false, {}};
#if defined(__x86_64__)
    const auto msr =
        s.root / "dev/cpu" / std::to_string(s.cpus.empty() ? 0 : s.cpus.front()) / "msr";
    aperf.reason = access(msr.c_str(), R_OK) == 0
                       ? "unavailable: not implemented (MSR readable; scaling_cur_freq used)"
                       : fmt::format("unavailable: {} not readable (needs root and the msr module)",
                                     msr.string());
#else
    aperf.reason = "n/a: APERF/MPERF are x86 MSRs";
#endif
    s.avail.push_back(aperf);

    // Package energy (intel-rapl:N, also used by AMD's RAPL driver; sub-zones have a 2nd colon).
    TelemetryAvailability energy{"energy", false, {}};
    const std::filesystem::path powercap = s.root / "sys/class/powercap";
    const std::regex package_zone(R"(^[a-z_-]*rapl:[0-9]+$)");
    std::vector<std::string> names, unreadable;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(powercap, ec)) {
        const std::string name = entry.path().filename().string();
        if (!std::regex_match(name, package_zone)) {
            continue;
        }
        const auto e = entry.path() / "energy_uj";
        const auto max = read_u64(entry.path() / "max_energy_range_uj");
        if (!read_u64(e) || !max || *max == 0) {
            unreadable.push_back(name);
            continue;
        }
        s.rapl.push_back({e, *max, std::nullopt, 0});
        names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    if (!s.rapl.empty()) {
        energy.available = true;
        energy.reason = fmt::format("powercap {}", fmt::join(names, ", "));
    } else if (!unreadable.empty()) {
        energy.reason = fmt::format(
            "unavailable: {}/energy_uj or max_energy_range_uj not readable (root only since "
            "CVE-2020-8694)",
            unreadable.front());
    } else {
        energy.reason =
            fmt::format("unavailable: no RAPL package zone under {}", powercap.string());
    }
    s.avail.push_back(energy);

    if (s.gpu_index) {
        TelemetryAvailability gpu{"gpu", false, {}};
        gpu.reason = s.nvml.open(*s.gpu_index);
        gpu.available = gpu.reason.empty();
        if (gpu.available) {
            gpu.reason = fmt::format("NVML device {}", *s.gpu_index);
        }
        s.gpu_ok = gpu.available;
        s.avail.push_back(gpu);
    }
}

TelemetrySampler::~TelemetrySampler() {
    if (impl_->running) {
        stop(0);
    }
    impl_->nvml.close();
}

std::vector<TelemetryAvailability> TelemetrySampler::availability() const {
    return impl_->avail;
}

void TelemetrySampler::start() {
    Impl& s = *impl_;
    if (s.running) {
        stop(0);
    }
    {
        const std::lock_guard lock(s.mutex);
        s.cpu_mhz = Series{};
        s.gpu_sm = s.gpu_mem = s.gpu_power_w = s.gpu_temp = Series{};
        s.gpu_throttled = false;
        for (auto& d : s.rapl) {
            d.last.reset();
            d.total_uj = 0;
        }
        s.stop_flag = false;
        s.t0 = Clock::now();
        s.sample_locked();
    }
    s.running = true;
    if (!s.freq_files.empty() || !s.rapl.empty() || s.gpu_ok) {
        s.worker = std::thread([&s] { s.loop(); });
    }
}

std::vector<Metric> TelemetrySampler::stop(double iterations) {
    Impl& s = *impl_;
    std::vector<Metric> out;
    if (!s.running) {
        return out;
    }
    {
        const std::lock_guard lock(s.mutex);
        s.stop_flag = true;
    }
    s.cv.notify_all();
    if (s.worker.joinable()) {
        s.worker.join();
    }
    s.running = false;
    const std::lock_guard lock(s.mutex);
    s.sample_locked();
    const double elapsed = std::chrono::duration<double>(Clock::now() - s.t0).count();

    const auto add = [&](std::string name, double v, std::string unit) {
        out.push_back({std::move(name), v, std::move(unit), Direction::none});
    };
    std::optional<bool> throttled;
    if (s.cpu_mhz.n > 0) {
        add("telemetry.cpu_mhz.avg", s.cpu_mhz.avg(), "MHz");
        add("telemetry.cpu_mhz.min", s.cpu_mhz.min, "MHz");
        if (s.nominal_mhz && *s.nominal_mhz > 0) {
            throttled = s.cpu_mhz.avg() < 0.9 * *s.nominal_mhz;
        }
    }
    bool energy_read = false;
    double energy_uj = 0;
    for (const auto& d : s.rapl) {
        if (d.last) {
            energy_read = true;
            energy_uj += d.total_uj;
        }
    }
    if (energy_read) {
        const double joules = energy_uj / 1e6;
        if (iterations > 0) {
            add("telemetry.energy_j_per_iteration", joules / iterations, "J");
        }
        if (elapsed > 0) {
            add("telemetry.power_w.avg", joules / elapsed, "W");
        }
    }
    if (s.gpu_ok && s.gpu_sm.n > 0) {
        add("telemetry.gpu_sm_mhz.avg", s.gpu_sm.avg(), "MHz");
        add("telemetry.gpu_sm_mhz.min", s.gpu_sm.min, "MHz");
        if (s.gpu_mem.n > 0) {
            add("telemetry.gpu_mem_mhz.avg", s.gpu_mem.avg(), "MHz");
        }
        if (s.gpu_power_w.n > 0) {
            add("telemetry.gpu_power_w.avg", s.gpu_power_w.avg(), "W");
        }
        if (s.gpu_temp.n > 0) {
            add("telemetry.gpu_temp_c.max", s.gpu_temp.max, "C");
        }
        throttled = throttled.value_or(false) || s.gpu_throttled;
    }
    if (throttled) {
        add("telemetry.throttled", *throttled ? 1 : 0, "flag");
    }
    return out;
}

}  // namespace assay
