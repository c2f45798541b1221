// Theoretical peak *estimates*: cores x clock x per-core throughput. Never a measurement.
//
// Per-core vector throughput assumed per microarchitecture (pipes x datapath width):
//
// | microarchitecture                       | FMA pipes x width | notes                          |
// |-----------------------------------------|-------------------|--------------------------------|
// | Intel Skylake-SP .. Granite Rapids      | 2 x 512 bit       | 2 AVX-512 FMA units (Gold/     |
// |   (SKX, CLX, ICX, SPR, EMR, GNR)        |                   |   Platinum parts; some SKX     |
// |                                         |                   |   Silver have 1 - not visible) |
// | Intel Sierra Forest (E-cores)           | 2 x 128 bit       | AVX2 split into 128-bit halves |
// | AMD Zen 2, Zen 3                        | 2 x 256 bit       | AVX2 FMA                       |
// | AMD Zen 4                               | 2 x 256 bit       | AVX-512 executes on 256-bit    |
// |                                         |                   |   datapaths (double-pumped)    |
// | AMD Zen 5                               | 2 x 512 bit       | full-width AVX-512 (server)    |
// | Arm Neoverse N1                         | 2 x 128 bit       | NEON                           |
// | Arm Neoverse N2, N3                     | 2 x 128 bit       | SVE2 / NEON 128-bit            |
// | Arm Neoverse V1                         | 2 x 256 bit       | SVE 256-bit (= 4 x 128 NEON)   |
// | Arm Neoverse V2, V3                     | 4 x 128 bit       | SVE2 / NEON 128-bit            |
//
// (Arm rows: the FP/ASIMD pipe counts and widths of the Neoverse N1/N2/V1/V2/V3 Software
// Optimization Guides.)
//
// Per pipe and cycle: fp64 = lanes64 x 2 (FMA/FMLA), fp32 = lanes32 x 2.
// bf16, x86: AVX512_BF16 VDPBF16PS = lanes32 x 4 (two products + two adds per fp32 lane).
// bf16, Arm (HWCAP2_BF16 / SVEBF16): BFMMLA = lanes32 x 8. Per 128-bit segment BFMMLA multiplies
//   a 2x4 by a 4x2 bf16 matrix into 2x2 fp32: 16 multiply-accumulates, 4x the 4 of an fp32 FMLA
//   (2x BFDOT's 8). The estimate assumes BFMMLA issues at the FMLA rate on every FP pipe, i.e.
//   4x the fp32 FLOP rate: an upper bound; the guides list lower MMLA throughput on some cores.
// int8: x86 AVX-512 VNNI / AVX-VNNI VPDPBUSD, Arm SDOT/UDOT = lanes32 x 8 (four products + four
//   adds per 32-bit lane). Arm SMMLA (I8MM) does 2x SDOT's multiply-accumulates per instruction
//   but is not assumed faster: the figure is the SDOT rate (4 x fp32 lanes x 2).
// Intel AMX TMUL: 1024 bf16 FLOP and 2048 int8 OP per core per cycle (Intel optimization manual,
// SPR). Unknown microarchitectures: the widest vector ISA present with 2 FMA pipes, marked
// "assumed". Every figure is an estimate; its formula and the instruction assumed travel with it.
#include <fmt/format.h>

#include "probes/internal.hpp"

namespace assay::probes {
namespace {

struct VectorUnits {
    unsigned pipes = 0;
    unsigned width_bits = 0;
    std::string isa;  // "AVX-512", "AVX2", "NEON", "SVE"
    bool assumed = false;
};

std::optional<VectorUnits> units_for(const CpuInfo& cpu) {
    const std::string& u = cpu.microarchitecture;
    const bool avx512 = cpu.has("avx512f");
    if (u == "Skylake-SP/Cascade Lake" || u == "Ice Lake-SP" || u == "Sapphire Rapids" ||
        u == "Emerald Rapids" || u == "Granite Rapids") {
        if (avx512) {
            return VectorUnits{2, 512, "AVX-512", false};
        }
        return VectorUnits{2, 256, "AVX2", false};
    }
    if (u == "Sierra Forest") {
        return VectorUnits{2, 128, "AVX2 (128-bit datapaths)", false};
    }
    if (u == "Zen 2" || u == "Zen 3") {
        return VectorUnits{2, 256, "AVX2", false};
    }
    if (u == "Zen 4") {
        return VectorUnits{2, 256, avx512 ? "AVX-512 on 256-bit datapaths" : "AVX2", false};
    }
    if (u == "Zen 5") {
        return VectorUnits{2, avx512 ? 512U : 256U, avx512 ? "AVX-512" : "AVX2", false};
    }
    if (u == "Neoverse N1") {
        return VectorUnits{2, 128, "NEON", false};
    }
    if (u == "Neoverse N2" || u == "Neoverse N3") {
        return VectorUnits{2, 128, cpu.has("sve2") ? "SVE2/NEON 128-bit" : "NEON", false};
    }
    if (u == "Neoverse V1") {
        return VectorUnits{2, 256, "SVE 256-bit", false};
    }
    if (u == "Neoverse V2" || u == "Neoverse V3") {
        return VectorUnits{4, 128, "SVE2/NEON 128-bit", false};
    }
    // Unknown core: the widest vector ISA this CPU reports, 2 FMA pipes assumed.
    if (avx512) {
        return VectorUnits{2, 512, "AVX-512", true};
    }
    if (cpu.has("avx2") && cpu.has("fma")) {
        return VectorUnits{2, 256, "AVX2", true};
    }
    if (cpu.has("sve") && cpu.sve_vector_bits) {
        return VectorUnits{2, *cpu.sve_vector_bits, "SVE", true};
    }
    if (cpu.has("asimd")) {
        return VectorUnits{2, 128, "NEON", true};
    }
    return std::nullopt;
}

PeakEstimate make_peak(const std::string& dtype, unsigned cores, double mhz,
                       const std::string& clock, const std::string& per_cycle_formula,
                       double per_cycle, const std::string& unit_path) {
    PeakEstimate p;
    p.dtype = dtype;
    p.ops_per_second = static_cast<double>(cores) * mhz * 1e6 * per_cycle;
    p.formula =
        fmt::format("estimate: {} cores x {:.3f} GHz ({}) x {} = {:.4g} {}/s", cores, mhz / 1000.0,
                    clock, per_cycle_formula, p.ops_per_second, dtype == "int8" ? "OP" : "FLOP");
    p.unit_path = unit_path;
    return p;
}

}  // namespace

std::vector<PeakEstimate> estimate_peaks(const CpuInfo& cpu, const TopologyInfo& topology) {
    std::vector<PeakEstimate> peaks;
    const std::optional<double> mhz = cpu.max_mhz ? cpu.max_mhz : cpu.base_mhz;
    if (!mhz || *mhz <= 0 || topology.cores == 0) {
        return peaks;
    }
    const std::string clock = cpu.max_mhz ? "max clock" : "base clock";
    const auto units = units_for(cpu);
    if (!units) {
        return peaks;
    }
    const unsigned cores = topology.cores;
    const unsigned lanes64 = units->width_bits / 64;
    const unsigned lanes32 = units->width_bits / 32;
    const std::string pipes_text = fmt::format("{} pipes", units->pipes);
    const std::string assumed = units->assumed ? ", assumed" : "";
    const bool arm = cpu.has("asimd") || cpu.has("sve") ||
                     units->isa.find("NEON") != std::string::npos ||
                     units->isa.find("SVE") != std::string::npos;
    const std::string fma_path =
        fmt::format("{} {}, {} x {}-bit{}", units->isa, arm ? "FMLA" : "FMA", units->pipes,
                    units->width_bits, assumed);

    peaks.push_back(make_peak("fp64", cores, *mhz, clock,
                              fmt::format("{} x {} fp64 lanes x 2 (FMA)", pipes_text, lanes64),
                              static_cast<double>(units->pipes * lanes64 * 2), fma_path));
    peaks.push_back(make_peak("fp32", cores, *mhz, clock,
                              fmt::format("{} x {} fp32 lanes x 2 (FMA)", pipes_text, lanes32),
                              static_cast<double>(units->pipes * lanes32 * 2), fma_path));

    if (cpu.has("amx_bf16")) {
        peaks.push_back(make_peak("bf16", cores, *mhz, clock, "1024 bf16 FLOP/cycle (AMX TMUL)",
                                  1024.0, "AMX TMUL (1024 bf16 FLOP/cycle)"));
    } else if (cpu.has("avx512_bf16")) {
        peaks.push_back(make_peak(
            "bf16", cores, *mhz, clock,
            fmt::format("{} x {} fp32 lanes x 4 (2 bf16 FMA per lane)", pipes_text, lanes32),
            static_cast<double>(units->pipes * lanes32 * 4),
            fmt::format("AVX512_BF16 VDPBF16PS, {} x {}-bit{}", units->pipes, units->width_bits,
                        assumed)));
    } else if (cpu.has("bf16") || cpu.has("svebf16")) {
        peaks.push_back(make_peak(
            "bf16", cores, *mhz, clock,
            fmt::format("{} x {} fp32 lanes x 2 x 4 (BFMMLA: 4x the multiply-accumulates of "
                        "FMLA)",
                        pipes_text, lanes32),
            static_cast<double>(units->pipes * lanes32 * 8),
            fmt::format("Arm BFMMLA at the FMLA issue rate (upper bound), {} x {}-bit{}",
                        units->pipes, units->width_bits, assumed)));
    }

    if (cpu.has("amx_int8")) {
        peaks.push_back(make_peak("int8", cores, *mhz, clock, "2048 int8 OP/cycle (AMX TMUL)",
                                  2048.0, "AMX TMUL (2048 int8 OP/cycle)"));
    } else if (cpu.has("avx512_vnni") || cpu.has("avx_vnni") || cpu.has("dotprod") ||
               cpu.has("i8mm")) {
        std::string instr = cpu.has("avx512_vnni") ? "AVX-512 VNNI VPDPBUSD"
                            : cpu.has("avx_vnni")  ? "AVX-VNNI VPDPBUSD"
                            : cpu.has("i8mm")      ? "Arm SDOT/UDOT rate (SMMLA not assumed faster)"
                                                   : "Arm SDOT/UDOT";
        // AVX-VNNI (VEX) is 256 bits wide at most.
        const unsigned width = (!cpu.has("avx512_vnni") && cpu.has("avx_vnni"))
                                   ? std::min(256U, units->width_bits)
                                   : units->width_bits;
        const unsigned lanes = width / 32;
        peaks.push_back(
            make_peak("int8", cores, *mhz, clock,
                      fmt::format("{} x {} int32 lanes x 8 (4 int8 multiply-adds per lane)",
                                  pipes_text, lanes),
                      static_cast<double>(units->pipes * lanes * 8),
                      fmt::format("{}, {} x {}-bit{}", instr, units->pipes, width, assumed)));
    }
    return peaks;
}

}  // namespace assay::probes
