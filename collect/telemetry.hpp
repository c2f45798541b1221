#pragma once
/// Telemetry sampled around a benchmark's sampling phase: CPU effective frequency (cpufreq),
/// package energy (powercap RAPL) and, optionally, one NVIDIA GPU's clocks, power, temperature
/// and throttle reasons (NVML loaded at run time with dlopen: no build dependency). A source
/// that is not readable here is reported unavailable with a reason and never yields a metric.
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace assay {

/// Whether one telemetry source ("cpu_freq", "cpu_aperf_mperf", "energy", "gpu") works here.
struct TelemetryAvailability {
    std::string source;
    bool available = false;
    std::string reason;  ///< why not, one line; or what is read (e.g. the RAPL domains)
};

/// Samples telemetry on a background thread (every `period`, default 50 ms) between start() and
/// stop(). Not thread-safe itself: call start()/stop() from one thread, in pairs.
class TelemetrySampler {
  public:
    /// `cpu_os_indices`: the PUs the kernel runs on (empty: every online CPU).
    /// `nominal_cpu_mhz`: when set, an average frequency below 90 % of it flags the result
    /// throttled. `gpu_index`: also sample this NVML device. `fs_root`: prefix of /sys and /dev
    /// (tests point it at a fake tree).
    explicit TelemetrySampler(std::vector<unsigned> cpu_os_indices,
                              std::optional<double> nominal_cpu_mhz = std::nullopt,
                              std::optional<unsigned> gpu_index = std::nullopt,
                              std::filesystem::path fs_root = "/",
                              std::chrono::milliseconds period = std::chrono::milliseconds(50));
    ~TelemetrySampler();
    TelemetrySampler(const TelemetrySampler&) = delete;
    TelemetrySampler& operator=(const TelemetrySampler&) = delete;

    std::vector<TelemetryAvailability> availability() const;

    /// Takes a first reading of every available source and starts the sampling thread.
    void start();

    /// Takes a last reading, stops the thread and returns the metrics of available sources:
    /// "telemetry.cpu_mhz.avg"/".min" (MHz), "telemetry.energy_j_per_iteration" (J),
    /// "telemetry.power_w.avg" (W), "telemetry.gpu_sm_mhz.avg"/".min",
    /// "telemetry.gpu_mem_mhz.avg", "telemetry.gpu_power_w.avg", "telemetry.gpu_temp_c.max",
    /// and "telemetry.throttled" (1/0) when a nominal clock or the GPU made it measurable.
    /// Returns nothing when not started; `iterations` <= 0 leaves out the per-iteration energy.
    std::vector<Metric> stop(double iterations);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace assay
