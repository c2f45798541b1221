#pragma once
// Shared by the GPU test executables (label gpu): they run only where a CUDA device exists;
// elsewhere they exit 77, which CTest reports as *skipped* with the reason on its output (never
// as a pass).
#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

#include "benches/cuda/triad_cuda.hpp"
#include "benches/kernel.hpp"

namespace assay::test {

/// CTest's SKIP_RETURN_CODE of the gpu test executables.
inline constexpr int kSkipExitCode = 77;

/// True (after printing "skipped: <why>") when this machine has no usable CUDA device.
inline bool skip_without_gpu() {
    std::string why;
    if (cuda::device_count(why) <= 0) {
        std::printf("skipped: %s\n", why.c_str());
        return true;
    }
    return false;
}

/// Runs the prepared `k` `runs` times (each run must be device-timed, > 0 s) and checks that it
/// verifies.
inline void run_prepared_and_verify(Kernel& k, int runs) {
    for (int i = 0; i < runs; ++i) {
        k.run();
        REQUIRE(k.last_run_seconds().has_value());
        CHECK(*k.last_run_seconds() > 0);
    }
    const auto v = k.verify();
    INFO(v.detail);
    CHECK(v.ok);
}

/// Prepares `k`, then run_prepared_and_verify().
inline void run_and_verify(Kernel& k, int runs = 2) {
    k.prepare();
    run_prepared_and_verify(k, runs);
}

}  // namespace assay::test
