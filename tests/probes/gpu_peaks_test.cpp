#include "probes/gpu_peaks.hpp"

#include <catch2/catch.hpp>
#include <string>

namespace {

assay::GpuInfo gpu(int major, int minor, int sms, double mhz) {
    assay::GpuInfo g;
    g.cc_major = major;
    g.cc_minor = minor;
    g.sm_count = sms;
    g.sm_clock_mhz = mhz;
    return g;
}

double peak(const std::vector<assay::PeakEstimate>& peaks, const std::string& dtype) {
    for (const auto& p : peaks) {
        if (p.dtype == dtype) {
            CHECK_FALSE(p.formula.empty());
            CHECK_FALSE(p.unit_path.empty());
            return p.ops_per_second;
        }
    }
    return 0;
}

}  // namespace

TEST_CASE("gpu peaks: H100 SXM matches the datasheet's dense figures", "[gpu_peaks]") {
    const auto peaks = assay::gpu_peak_estimates(gpu(9, 0, 132, 1980));
    CHECK(peak(peaks, "bf16") == Approx(989.4e12).epsilon(0.02));
    CHECK(peak(peaks, "fp16") == Approx(989.4e12).epsilon(0.02));
    CHECK(peak(peaks, "fp64") == Approx(66.9e12).epsilon(0.02));
    CHECK(peak(peaks, "fp32") == Approx(66.9e12).epsilon(0.02));
    CHECK(peak(peaks, "tf32") == Approx(494.7e12).epsilon(0.02));
    CHECK(peak(peaks, "fp8") == Approx(1978.9e12).epsilon(0.02));
    CHECK(peak(peaks, "int8") == Approx(1978.9e12).epsilon(0.02));
}

TEST_CASE("gpu peaks: A100 has no fp8, bf16 312 TFLOP/s, fp64 tensor 19.5", "[gpu_peaks]") {
    const auto peaks = assay::gpu_peak_estimates(gpu(8, 0, 108, 1410));
    CHECK(peak(peaks, "bf16") == Approx(312e12).epsilon(0.01));
    CHECK(peak(peaks, "fp64") == Approx(19.5e12).epsilon(0.01));
    CHECK(peak(peaks, "int8") == Approx(624e12).epsilon(0.01));
    CHECK(peak(peaks, "fp8") == 0);
}

TEST_CASE("gpu peaks: Ada L40S fp8 and Volta without bf16", "[gpu_peaks]") {
    const auto l40s = assay::gpu_peak_estimates(gpu(8, 9, 142, 2520));
    CHECK(peak(l40s, "fp8") == Approx(733e12).epsilon(0.02));
    CHECK(peak(l40s, "fp64") < 2e12);  // CUDA-core fp64 only (1/64 rate)
    const auto v100 = assay::gpu_peak_estimates(gpu(7, 0, 80, 1530));
    CHECK(peak(v100, "fp16") == Approx(125e12).epsilon(0.01));
    CHECK(peak(v100, "bf16") == 0);
    CHECK(peak(v100, "tf32") == 0);
}

TEST_CASE("gpu peaks: unknown clock or architecture gives no estimate", "[gpu_peaks]") {
    assay::GpuInfo no_clock = gpu(9, 0, 132, 1980);
    no_clock.sm_clock_mhz.reset();
    CHECK(assay::gpu_peak_estimates(no_clock).empty());
    CHECK(assay::gpu_peak_estimates(gpu(6, 1, 30, 1500)).empty());
    CHECK(assay::gpu_peak_estimates(gpu(9, 0, 0, 1980)).empty());
}
