#include "benches/cpu/gemm/gemm_cpu.hpp"

#include <sched.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "benches/cpu/gemm/gemm_verify.hpp"
#include "core/error.hpp"

namespace {

/// The CPUs this process may run on (qemu-user and containers may restrict them).
std::vector<unsigned> allowed_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::vector<unsigned> out;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        for (unsigned c = 0; c < CPU_SETSIZE; ++c) {
            if (CPU_ISSET(c, &set)) {
                out.push_back(c);
            }
        }
    }
    return out;
}

}  // namespace

TEST_CASE("gemm backends: unknown names and dtypes a backend lacks", "[gemm]") {
    CHECK(assay::gemm_backend_names() == std::vector<std::string>{"openblas", "blis", "onednn"});
    CHECK_THROWS_AS(assay::make_gemm_backend("mkl"), assay::UsageError);
    CHECK_FALSE(assay::gemm_backend_skip_reason("blis", assay::GemmDtype::bf16).empty());
    CHECK_FALSE(assay::gemm_backend_skip_reason("openblas", assay::GemmDtype::u8s8s32).empty());
    CHECK_FALSE(assay::gemm_backend_skip_reason("onednn", assay::GemmDtype::f64).empty());
}

TEST_CASE("gemm backends: each available backend and dtype computes a verified GEMM", "[gemm]") {
    const std::vector<unsigned> cpus = allowed_cpus();
    REQUIRE_FALSE(cpus.empty());
    unsigned ran = 0;
    unsigned skipped = 0;
    unsigned pairs = 0;
    for (const std::string& backend : assay::gemm_backend_names()) {
        for (const assay::GemmDtype dtype : assay::gemm_backend_dtypes(backend)) {
            const std::string reason = assay::gemm_backend_skip_reason(backend, dtype);
            CAPTURE(backend, assay::gemm_dtype_name(dtype), reason);
            ++pairs;
            if (!reason.empty()) {
                // Unavailable here: the reason names the library ("OpenBLAS build lacks sbgemm",
                // "libblis.so.4 not found: ...", "oneDNN ... reference implementation"), and
                // where the backend itself refuses (OpenBLAS, BLIS) prepare() throws it.
                CHECK_THAT(reason, Catch::Contains(backend, Catch::CaseSensitive::No));
                if (backend != "onednn") {
                    assay::GemmCpuKernel kernel(backend, {64, 48, 80, dtype, assay::GemmLayout::nn},
                                                {cpus.front()});
                    CHECK_THROWS_WITH(kernel.prepare(), reason);
                }
                ++skipped;
                continue;
            }
            for (const auto layout : {assay::GemmLayout::nn, assay::GemmLayout::nt}) {
                for (const std::vector<unsigned>& pus :
                     {std::vector<unsigned>{cpus.front()}, cpus}) {
                    CAPTURE(assay::gemm_layout_name(layout), pus.size());
                    assay::GemmCpuKernel kernel(backend, {64, 48, 80, dtype, layout}, pus);
                    kernel.prepare();
                    kernel.run();
                    kernel.run();
                    const auto v = kernel.verify();
                    INFO(v.detail << " | " << kernel.implementation());
                    REQUIRE(v.ok);
                    CHECK_FALSE(kernel.implementation().empty());
                    const auto work = kernel.work();
                    CHECK((work.flops + work.int_ops) == 2.0 * 64 * 48 * 80);
                    CHECK((work.int_ops > 0) == assay::gemm_dtype_is_integer(dtype));

                    const auto samples =
                        assay::gemm_verify_samples({64, 48, 80, dtype, layout}, 0x5EED);
                    kernel.corrupt_output_for_test(samples.rows[0], 47);
                    CHECK_FALSE(kernel.verify().ok);
                    kernel.run();  // a fresh run repairs the output
                    CHECK(kernel.verify().ok);
                    ++ran;
                }
            }
        }
    }
#if defined(__x86_64__) || defined(__aarch64__)
    // OpenBLAS and BLIS are installed for both architectures in this project's environment.
    CHECK(assay::gemm_backend_skip_reason("openblas", assay::GemmDtype::f32).empty());
    CHECK(assay::gemm_backend_skip_reason("blis", assay::GemmDtype::f64).empty());
#endif
    CHECK(ran >= 4);
    CHECK(ran == 4 * (pairs - skipped));  // 2 layouts x 2 placements per runnable pair
}

TEST_CASE("gemm kernel: run before prepare and a bad PU are errors", "[gemm]") {
    assay::GemmCpuKernel kernel("openblas", {8, 8, 8, assay::GemmDtype::f32, assay::GemmLayout::nn},
                                {0});
    CHECK_THROWS_AS(kernel.run(), assay::Error);
    CHECK_FALSE(kernel.verify().ok);
    assay::GemmCpuKernel bad("openblas", {8, 8, 8, assay::GemmDtype::f32, assay::GemmLayout::nn},
                             {100000});
    CHECK_THROWS_AS(bad.prepare(), assay::Error);
}
