// BLIS backend: libblis.so.4 loaded at run time (dlopen, RTLD_LOCAL), called through its CBLAS
// compatibility layer. Debian's default alternative is the OpenMP variant: the OpenMP team is
// created by the pinned runner thread and inherits its CPU set.
#include <fmt/format.h>

#include <cstdint>

#include "benches/cpu/gemm/gemm_backends.hpp"
#include "core/error.hpp"

namespace assay::gemm_detail {
namespace {

// BLIS's CBLAS takes f77_int: 32 or 64 bits depending on its build (bli_info says which).
template <typename Int>
using SgemmFn = void (*)(int, int, int, Int, Int, Int, float, const float*, Int, const float*, Int,
                         float, float*, Int);
template <typename Int>
using DgemmFn = void (*)(int, int, int, Int, Int, Int, double, const double*, Int, const double*,
                         Int, double, double*, Int);

constexpr const char* kSoname = "libblis.so.4";

struct Blis {
    DlLibrary lib;
    void* sgemm = nullptr;
    void* dgemm = nullptr;
    void (*set_threads)(std::int64_t) = nullptr;
    std::int64_t blas_int_bits = 32;
    std::string description;  ///< "BLIS 0.9.0 zen3 OpenMP"
};

const Blis& blis() {
    static const Blis* instance = [] {
        auto* b = new Blis();  // never destroyed: the library stays loaded for the process
        b->lib = open_library(kSoname);
        b->sgemm = b->lib.symbol("cblas_sgemm");
        b->dgemm = b->lib.symbol("cblas_dgemm");
        b->set_threads =
            reinterpret_cast<void (*)(std::int64_t)>(b->lib.symbol("bli_thread_set_num_threads"));
        using IntFn = std::int64_t (*)();
        if (auto f = reinterpret_cast<IntFn>(b->lib.symbol("bli_info_get_blas_int_type_size"))) {
            b->blas_int_bits = f();
        }
        std::string version = "?";
        if (auto f =
                reinterpret_cast<const char* (*)()>(b->lib.symbol("bli_info_get_version_str"))) {
            version = f();
        }
        std::string arch = "?";
        auto query = reinterpret_cast<int (*)()>(b->lib.symbol("bli_arch_query_id"));
        auto name = reinterpret_cast<const char* (*)(int)>(b->lib.symbol("bli_arch_string"));
        if (query != nullptr && name != nullptr) {
            arch = name(query());
        }
        std::string threading = "single-threaded";
        auto omp = reinterpret_cast<IntFn>(b->lib.symbol("bli_info_get_enable_openmp"));
        auto pth = reinterpret_cast<IntFn>(b->lib.symbol("bli_info_get_enable_pthreads"));
        if (omp != nullptr && omp() != 0) {
            threading = "OpenMP";
        } else if (pth != nullptr && pth() != 0) {
            threading = "pthreads";
        }
        b->description = fmt::format("BLIS {} {} {}", version, arch, threading);
        return b;
    }();
    return *instance;
}

template <typename Int>
Int to_blas_int(std::uint64_t v) {
    if (v > static_cast<std::uint64_t>(INT32_MAX)) {
        throw Error(fmt::format("GEMM dimension {} exceeds the BLAS int range", v));
    }
    return static_cast<Int>(v);
}

template <typename Int>
void call_gemm(const Blis& b, const GemmProblem& p, const void* a, const void* bm, void* c) {
    const Int m = to_blas_int<Int>(p.m), n = to_blas_int<Int>(p.n), k = to_blas_int<Int>(p.k);
    const int trans_b = p.layout == GemmLayout::nn ? kNoTrans : kTrans;
    const Int ldb = p.layout == GemmLayout::nn ? n : k;
    if (p.dtype == GemmDtype::f32) {
        reinterpret_cast<SgemmFn<Int>>(b.sgemm)(
            kRowMajor, kNoTrans, trans_b, m, n, k, 1.0f, static_cast<const float*>(a), k,
            static_cast<const float*>(bm), ldb, 0.0f, static_cast<float*>(c), n);
    } else {
        reinterpret_cast<DgemmFn<Int>>(b.dgemm)(
            kRowMajor, kNoTrans, trans_b, m, n, k, 1.0, static_cast<const double*>(a), k,
            static_cast<const double*>(bm), ldb, 0.0, static_cast<double*>(c), n);
    }
}

class BlisBackend final : public GemmBackend {
  public:
    std::string prepare(const GemmProblem& p, const void* a, const void* b, void* c,
                        unsigned threads) override {
        if (const std::string reason = blis_skip_reason(p.dtype); !reason.empty()) {
            throw Error(reason);
        }
        operands_ = {p, a, b, c};
        const Blis& bl = blis();
        if (bl.set_threads != nullptr) {
            bl.set_threads(static_cast<std::int64_t>(threads));
        }
        return fmt::format(
            "{} {} ({}), {} threads; OpenMP team inherits the placement's CPU set (no "
            "OMP_PROC_BIND)",
            p.dtype == GemmDtype::f32 ? "cblas_sgemm" : "cblas_dgemm", bl.description,
            bl.lib.resolved_path, threads);
    }

    void run() override {
        const Blis& bl = blis();
        if (bl.blas_int_bits == 64) {
            call_gemm<std::int64_t>(bl, operands_.problem, operands_.a, operands_.b, operands_.c);
        } else {
            call_gemm<std::int32_t>(bl, operands_.problem, operands_.a, operands_.b, operands_.c);
        }
    }

  private:
    GemmOperands operands_;
};

}  // namespace

std::string blis_skip_reason(GemmDtype dtype) {
    const Blis& b = blis();
    if (b.lib.handle == nullptr) {
        return library_missing_reason(b.lib);
    }
    if (dtype == GemmDtype::f32) {
        return b.sgemm != nullptr ? "" : "BLIS build lacks CBLAS (cblas_sgemm)";
    }
    if (dtype == GemmDtype::f64) {
        return b.dgemm != nullptr ? "" : "BLIS build lacks CBLAS (cblas_dgemm)";
    }
    return fmt::format("BLIS has no {} GEMM", gemm_dtype_name(dtype));
}

std::unique_ptr<GemmBackend> make_blis_backend() {
    return std::make_unique<BlisBackend>();
}

}  // namespace assay::gemm_detail
