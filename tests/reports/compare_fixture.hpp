#pragma once
// A fixture store for the comparison report (shared by the compare data, HTML and CLI tests):
// two hosts written through the Store API with deterministic, real-looking samples.
//  - "gpu-host": x86-64 (Sapphire Rapids, p5.48xlarge-like) with a CPU device and an H100 as
//    cuda:0: GEMM (f32 1024, bf16 4096; cpu.onednn/cpu.openblas on the CPU, cublaslt on the
//    GPU), STREAM triad / gpu.mem triad, a mem.sweep and mem.latency curve on the CPU,
//    attention.prefill on both devices, telemetry power metrics, gpu-only gpu.mem.
//  - "ai-cpu": aarch64 (Neoverse V2, c8g.48xlarge-like), CPU only: the same CPU cases (with
//    cpu.openblas/cpu.blis), a mem.sweep and mem.latency curve, an int8 GEMM only it ran,
//    CPU package power telemetry.
// Both runs are complete and carry ceilings derived with derive_ceilings().
#include <cstdint>
#include <filesystem>

namespace assay::test {

struct CompareFixtureIds {
    std::int64_t gpu_host_run = 0;
    std::int64_t ai_cpu_run = 0;
};

/// Creates (or replaces) a store at `db` holding the fixture. Deterministic except for the
/// store's own bookkeeping timestamps (first_seen); run start/finish times are fixed.
CompareFixtureIds write_compare_fixture(const std::filesystem::path& db);

}  // namespace assay::test
