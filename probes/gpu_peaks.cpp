// Dense per-SM throughput per clock (FLOP, or OP for int8; FMA = 2), by compute capability.
// Sources: the NVIDIA architecture whitepapers (Volta GV100, Turing TU102, Ampere GA100 and
// GA102, Ada AD102, Hopper GH100, Blackwell) and the product datasheets (V100, T4, A100, A40,
// L40S, H100, B200), divided by SMs x boost clock:
//
// | cc   | fp64        | fp32 | tf32 | fp16/bf16 | fp8   | int8  | check (datasheet, dense)     |
// |------|-------------|------|------|-----------|-------|-------|------------------------------|
// | 7.0  | 64          | 128  | -    | 1024 (f16)| -     | 512*  | V100 SXM2 80x1530: 125 TF f16|
// | 7.5  | 4           | 128  | -    | 1024 (f16)| -     | 2048  | T4 40x1590: 65 TF, 130 TOPS  |
// | 8.0  | 128 (DMMA)  | 128  | 1024 | 2048      | -     | 4096  | A100 108x1410: 19.5/312/624  |
// | 8.6  | 4           | 256  | 512  | 1024      | -     | 2048  | A40 84x1740: 74.8/149.7/299  |
// | 8.9  | 4           | 256  | 512  | 1024      | 2048  | 2048  | L40S 142x2520: 183/362/733   |
// | 9.0  | 256 (DMMA)  | 256  | 2048 | 4096      | 8192  | 8192  | H100 SXM 132x1980: 67/67/989 |
// | 10.0 | 128         | 256  | 4096 | 8192      | 16384 | 16384 | B200 148 SMs: 2.25 PF bf16   |
//
// * Volta has no int8 tensor cores: the int8 figure is DP4A on the CUDA cores.
// Hopper: NVIDIA quotes the 16-bit/8-bit/tf32 tensor peaks at a lower clock than the maximum SM
// clock the runtime reports (H100 SXM: 989.4 TF = 132 x 4096 x 1830 MHz while fp32/fp64 use
// 1980 MHz; H100 PCIe: 756 TF = 114 x 4096 x 1620 MHz vs 1755 MHz), i.e. 0.924x: sustained
// tensor-core clocks are power-limited. The estimate applies that datasheet ratio to the tensor
// dtypes other than fp64 so it reproduces NVIDIA's published figures. fp64 on 8.0/9.0/10.0 is
// the tensor-core (DMMA) rate, which cuBLAS DGEMM uses; elsewhere it is the CUDA-core rate.
#include "probes/gpu_peaks.hpp"

#include <fmt/format.h>

#include <optional>
#include <string>

namespace assay {
namespace {

/// Per-SM dense ops per clock; 0 = not supported on that architecture.
struct SmRates {
    double fp64 = 0;
    double fp32 = 0;
    double tf32 = 0;
    double fp16 = 0;
    double bf16 = 0;
    double fp8 = 0;
    double int8 = 0;
    double tensor_clock_ratio = 1.0;  ///< datasheet tensor clock / maximum SM clock
    const char* arch = "";
    bool fp64_tensor = false;
    bool int8_tensor = true;
};

std::optional<SmRates> rates_for(int major, int minor) {
    const int cc = major * 10 + minor;
    switch (cc) {
        case 70:
            return SmRates{64, 128, 0, 1024, 0, 0, 512, 1.0, "Volta", false, false};
        case 75:
            return SmRates{4, 128, 0, 1024, 0, 0, 2048, 1.0, "Turing", false, true};
        case 80:
            return SmRates{128, 128, 1024, 2048, 2048, 0, 4096, 1.0, "Ampere GA100", true, true};
        case 86:
        case 87:
            return SmRates{4, 256, 512, 1024, 1024, 0, 2048, 1.0, "Ampere GA10x", false, true};
        case 89:
            return SmRates{4, 256, 512, 1024, 1024, 2048, 2048, 1.0, "Ada", false, true};
        case 90:
            return SmRates{256,      256,  2048, 4096, 4096, 8192, 8192, 1830.0 / 1980.0,
                           "Hopper", true, true};
        case 100:
            return SmRates{128, 256, 4096, 8192, 8192, 16384, 16384, 1.0, "Blackwell", true, true};
        default:
            return std::nullopt;
    }
}

}  // namespace

std::vector<PeakEstimate> gpu_peak_estimates(const GpuInfo& gpu) {
    std::vector<PeakEstimate> out;
    if (!gpu.sm_clock_mhz.has_value() || *gpu.sm_clock_mhz <= 0 || gpu.sm_count <= 0) {
        return out;
    }
    const std::optional<SmRates> r = rates_for(gpu.cc_major, gpu.cc_minor);
    if (!r.has_value()) {
        return out;
    }
    const double sms = gpu.sm_count;
    const double mhz = *gpu.sm_clock_mhz;
    auto add = [&](const char* dtype, double per_sm, bool tensor, const std::string& path) {
        if (per_sm <= 0) {
            return;
        }
        const double ratio = tensor ? r->tensor_clock_ratio : 1.0;
        PeakEstimate p;
        p.dtype = dtype;
        p.ops_per_second = sms * mhz * 1e6 * ratio * per_sm;
        p.formula =
            ratio == 1.0
                ? fmt::format("{} SMs x {} MHz x {} ops/clk/SM (dense, {} cc {}.{})", gpu.sm_count,
                              mhz, per_sm, r->arch, gpu.cc_major, gpu.cc_minor)
                : fmt::format(
                      "{} SMs x {} MHz x {:.3f} (datasheet tensor clock ratio) x {} "
                      "ops/clk/SM (dense, {} cc {}.{})",
                      gpu.sm_count, mhz, ratio, per_sm, r->arch, gpu.cc_major, gpu.cc_minor);
        p.unit_path = path;
        out.push_back(std::move(p));
    };
    add("fp64", r->fp64, false,
        r->fp64_tensor ? "FP64 tensor cores (DMMA)" : "FP64 FMA on CUDA cores");
    add("fp32", r->fp32, false, "FP32 FMA on CUDA cores");
    add("tf32", r->tf32, true, "TF32 tensor cores, fp32 accumulate");
    add("fp16", r->fp16, true, "FP16 tensor cores, fp32 accumulate");
    add("bf16", r->bf16, true, "BF16 tensor cores, fp32 accumulate");
    add("fp8", r->fp8, true, "FP8 tensor cores, fp32 accumulate");
    add("int8", r->int8, r->int8_tensor,
        r->int8_tensor ? "INT8 tensor cores, int32 accumulate" : "DP4A on CUDA cores");
    return out;
}

}  // namespace assay
