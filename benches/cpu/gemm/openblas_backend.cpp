// OpenBLAS backend: libopenblas.so.0 loaded at run time (dlopen, RTLD_LOCAL) so that it can sit
// in one process with BLIS, which exports the same BLAS/CBLAS symbols.
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <set>

#include "benches/cpu/gemm/gemm_backends.hpp"
#include "core/error.hpp"

namespace assay::gemm_detail {
namespace {

using SgemmFn = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int,
                         float, float*, int);
using DgemmFn = void (*)(int, int, int, int, int, int, double, const double*, int, const double*,
                         int, double, double*, int);
using SbgemmFn = void (*)(int, int, int, int, int, int, float, const std::uint16_t*, int,
                          const std::uint16_t*, int, float, float*, int);
using SetThreadsFn = void (*)(int);
using GetConfigFn = char* (*)();

constexpr const char* kSoname = "libopenblas.so.0";

/// The process-wide library and the pool threads it started.
struct OpenBlas {
    DlLibrary lib;
    SgemmFn sgemm = nullptr;
    DgemmFn dgemm = nullptr;
    SbgemmFn sbgemm = nullptr;
    SetThreadsFn set_threads = nullptr;
    std::string config;
    std::mutex mutex;  ///< guards pool_threads
    std::set<int> pool_threads;
};

OpenBlas& openblas() {
    static OpenBlas* instance = [] {
        auto* ob = new OpenBlas();  // never destroyed: the library stays loaded for the process
        std::vector<int> created;
        ob->lib = open_library(kSoname, &created);
        ob->pool_threads.insert(created.begin(), created.end());
        ob->sgemm = reinterpret_cast<SgemmFn>(ob->lib.symbol("cblas_sgemm"));
        ob->dgemm = reinterpret_cast<DgemmFn>(ob->lib.symbol("cblas_dgemm"));
        ob->sbgemm = reinterpret_cast<SbgemmFn>(ob->lib.symbol("cblas_sbgemm"));
        ob->set_threads =
            reinterpret_cast<SetThreadsFn>(ob->lib.symbol("openblas_set_num_threads"));
        if (auto get_config =
                reinterpret_cast<GetConfigFn>(ob->lib.symbol("openblas_get_config"))) {
            const char* text = get_config();
            ob->config = text != nullptr ? text : "";
        }
        return ob;
    }();
    return *instance;
}

int to_int(std::uint64_t v) {
    if (v > static_cast<std::uint64_t>(INT32_MAX)) {
        throw Error(fmt::format("GEMM dimension {} exceeds the BLAS int range", v));
    }
    return static_cast<int>(v);
}

class OpenBlasBackend final : public GemmBackend {
  public:
    std::string prepare(const GemmProblem& p, const void* a, const void* b, void* c,
                        unsigned threads) override {
        OpenBlas& ob = openblas();
        if (const std::string reason = openblas_skip_reason(p.dtype); !reason.empty()) {
            throw Error(reason);
        }
        operands_ = {p, a, b, c};
        unsigned confined = 0;
        {
            std::lock_guard lock(ob.mutex);
            // Growing the thread count may start more pool threads: track them too.
            const std::vector<int> before = process_threads();
            if (ob.set_threads != nullptr) {
                ob.set_threads(static_cast<int>(threads));
            }
            const std::vector<int> after = process_threads();
            std::vector<int> created;
            std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                                std::back_inserter(created));
            ob.pool_threads.insert(created.begin(), created.end());
            for (const int tid : ob.pool_threads) {
                confined += confine_thread_to_my_cpus(tid) ? 1U : 0U;
            }
        }
        const char* routine = p.dtype == GemmDtype::f32   ? "cblas_sgemm"
                              : p.dtype == GemmDtype::f64 ? "cblas_dgemm"
                                                          : "cblas_sbgemm";
        return fmt::format(
            "{} {} ({}), {} threads; {} pool threads confined to the placement's PUs", routine,
            ob.config, ob.lib.resolved_path, threads, confined);
    }

    void run() override {
        const OpenBlas& ob = openblas();
        const GemmProblem& p = operands_.problem;
        const int m = to_int(p.m), n = to_int(p.n), k = to_int(p.k);
        const int trans_b = p.layout == GemmLayout::nn ? kNoTrans : kTrans;
        const int ldb = p.layout == GemmLayout::nn ? n : k;
        switch (p.dtype) {
            case GemmDtype::f32:
                ob.sgemm(kRowMajor, kNoTrans, trans_b, m, n, k, 1.0f,
                         static_cast<const float*>(operands_.a), k,
                         static_cast<const float*>(operands_.b), ldb, 0.0f,
                         static_cast<float*>(operands_.c), n);
                break;
            case GemmDtype::f64:
                ob.dgemm(kRowMajor, kNoTrans, trans_b, m, n, k, 1.0,
                         static_cast<const double*>(operands_.a), k,
                         static_cast<const double*>(operands_.b), ldb, 0.0,
                         static_cast<double*>(operands_.c), n);
                break;
            case GemmDtype::bf16:
                ob.sbgemm(kRowMajor, kNoTrans, trans_b, m, n, k, 1.0f,
                          static_cast<const std::uint16_t*>(operands_.a), k,
                          static_cast<const std::uint16_t*>(operands_.b), ldb, 0.0f,
                          static_cast<float*>(operands_.c), n);
                break;
            default:
                throw Error(fmt::format("OpenBLAS has no {} GEMM", gemm_dtype_name(p.dtype)));
        }
    }

  private:
    GemmOperands operands_;
};

}  // namespace

std::string openblas_skip_reason(GemmDtype dtype) {
    const OpenBlas& ob = openblas();
    if (ob.lib.handle == nullptr) {
        return library_missing_reason(ob.lib);
    }
    switch (dtype) {
        case GemmDtype::f32:
            return ob.sgemm != nullptr ? "" : "OpenBLAS library lacks cblas_sgemm";
        case GemmDtype::f64:
            return ob.dgemm != nullptr ? "" : "OpenBLAS library lacks cblas_dgemm";
        case GemmDtype::bf16:
            return ob.sbgemm != nullptr
                       ? ""
                       : fmt::format("OpenBLAS build lacks sbgemm (BUILD_BFLOAT16): {} ({})",
                                     ob.config, ob.lib.resolved_path);
        default:
            return fmt::format("OpenBLAS has no {} GEMM", gemm_dtype_name(dtype));
    }
}

std::unique_ptr<GemmBackend> make_openblas_backend() {
    return std::make_unique<OpenBlasBackend>();
}

}  // namespace assay::gemm_detail
