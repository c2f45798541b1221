// gemm_peer: the minimal direct-call baseline for Assay's CPU GEMM (issue 6's peer check).
// Calls OpenBLAS (cblas_sgemm, linked directly) and oneDNN matmul (f32, bf16) on square n^3
// row-major NN operands with every thread of the process's CPU set, and prints the best of
// `reps` runs per library and dtype as "dtype library tflops seconds".
//
//   gemm_peer [n=4096] [reps=5]
// Pin with taskset and size the libraries' threads with OMP_NUM_THREADS/OPENBLAS_NUM_THREADS.
#include <cblas.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <oneapi/dnnl/dnnl.hpp>
#include <vector>

namespace {

double seconds_of(const auto& fn, int reps) {
    fn();  // warm-up
    double best = 1e30;
    for (int r = 0; r < reps; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        fn();
        const auto t1 = std::chrono::steady_clock::now();
        best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
    }
    return best;
}

std::uint16_t to_bf16(float f) {
    std::uint32_t bits = 0;
    std::memcpy(&bits, &f, sizeof bits);
    return static_cast<std::uint16_t>((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
}

void report(const char* dtype, const char* library, double n, double seconds) {
    std::printf("%s %s %.4f %.4f\n", dtype, library, 2.0 * n * n * n / seconds / 1e12, seconds);
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    const int n = argc > 1 ? std::atoi(argv[1]) : 4096;
    const int reps = argc > 2 ? std::atoi(argv[2]) : 5;
    const auto size = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
    std::vector<float> a(size), b(size), c(size);
    std::uint64_t state = 42;
    for (std::size_t i = 0; i < size; ++i) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        a[i] = 0.5f + static_cast<float>(state >> 40) * 0x1p-24f;
        b[i] = 1.5f - static_cast<float>(state >> 41) * 0x1p-23f;
    }
    const double dn = n;

    report("f32", "openblas", dn,
           seconds_of(
               [&] {
                   cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(),
                               n, b.data(), n, 0.0f, c.data(), n);
               },
               reps));

    using dt = dnnl::memory::data_type;
    using tag = dnnl::memory::format_tag;
    dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    dnnl::stream stream(engine);
    const dnnl::memory::dims dims = {n, n};
    const auto onednn = [&](dt in, const char* name, void* pa, void* pb) {
        try {
            const dnnl::memory::desc a_md(dims, in, tag::ab), b_md(dims, in, tag::ab),
                c_md(dims, dt::f32, tag::ab);
            const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, c_md), engine);
            dnnl::memory am(a_md, engine, pa), bm(b_md, engine, pb), cm(c_md, engine, c.data());
            dnnl::matmul mm(pd);
            report(name, "onednn", dn,
                   seconds_of(
                       [&] {
                           mm.execute(
                               stream,
                               {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
                           stream.wait();
                       },
                       reps));
        } catch (const dnnl::error& e) {
            std::fprintf(stderr, "gemm_peer: oneDNN %s: %s\n", name, e.what());
        }
    };
    onednn(dt::f32, "f32", a.data(), b.data());
    std::vector<std::uint16_t> a16(size), b16(size);
    for (std::size_t i = 0; i < size; ++i) {
        a16[i] = to_bf16(a[i]);
        b16[i] = to_bf16(b[i]);
    }
    onednn(dt::bf16, "bf16", a16.data(), b16.data());
    return 0;
}
