// GPU tests (label gpu): run only where a CUDA device exists; elsewhere the executable exits 77,
// which CTest reports as *skipped* with the reason on its output (never as a pass).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

#include "benches/cuda/stream_triad_cuda.hpp"
#include "benches/cuda/triad_cuda.hpp"
#include "tests/benches/gpu_test_support.hpp"

TEST_CASE("cuda triad: runs, is device-timed, verifies every element", "[gpu][triad]") {
    assay::CudaStreamTriadKernel k(0, std::size_t{1} << 24);
    assay::test::run_and_verify(k, 1);
    CHECK(k.work().bytes_stream == Approx(3.0 * 8 * (1 << 24)));
}

TEST_CASE("cuda triad: a corrupted output element fails verification", "[gpu][triad]") {
    assay::cuda::DeviceTriad t(0, std::size_t{1} << 20);
    t.run_seconds();
    std::string detail;
    REQUIRE(t.verify(detail));
    t.corrupt_output_for_test(12345, 0.0);
    CHECK_FALSE(t.verify(detail));
    CHECK(detail.find("index 12345") != std::string::npos);
}

int main(int argc, char** argv) {
    if (assay::test::skip_without_gpu()) {
        return assay::test::kSkipExitCode;
    }
    return Catch::Session().run(argc, argv);
}
