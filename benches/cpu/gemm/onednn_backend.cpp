// oneDNN backend: matmul primitives on plain row-major operands (B as stored: ab for nn, ba for
// nt), linked directly. Builds without oneDNN headers (the aarch64 cross build here) compile the
// stubs at the end, which skip with a reason.
#include <fmt/format.h>

#include "benches/cpu/gemm/gemm_backends.hpp"
#include "core/error.hpp"

#if ASSAY_HAVE_DNNL
#include <dlfcn.h>

#include <oneapi/dnnl/dnnl.hpp>

#include <map>
#include <mutex>
#include <unordered_map>
#endif

namespace assay::gemm_detail {

#if ASSAY_HAVE_DNNL
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

struct Types {
    dt a, b, c;
};

Types types_for(GemmDtype d) {
    switch (d) {
        case GemmDtype::f32:
            return {dt::f32, dt::f32, dt::f32};
        case GemmDtype::bf16:
            return {dt::bf16, dt::bf16, dt::f32};
        case GemmDtype::f16:
            return {dt::f16, dt::f16, dt::f32};
        case GemmDtype::u8s8s32:
            return {dt::u8, dt::s8, dt::s32};
        case GemmDtype::s8s8s32:
            return {dt::s8, dt::s8, dt::s32};
        case GemmDtype::f64:
            break;
    }
    throw Error(fmt::format("oneDNN matmul has no {} on CPU", gemm_dtype_name(d)));
}

dnnl::memory::dim dim(std::uint64_t v) {
    return static_cast<dnnl::memory::dim>(v);
}

dnnl::matmul::primitive_desc make_pd(const dnnl::engine& engine, const GemmProblem& p) {
    const Types t = types_for(p.dtype);
    const dnnl::memory::desc a_md({dim(p.m), dim(p.k)}, t.a, tag::ab);
    const dnnl::memory::desc b_md({dim(p.k), dim(p.n)}, t.b,
                                  p.layout == GemmLayout::nn ? tag::ab : tag::ba);
    const dnnl::memory::desc c_md({dim(p.m), dim(p.n)}, t.c, tag::ab);
    return dnnl::matmul::primitive_desc(dnnl::matmul::desc(a_md, b_md, c_md), engine);
}

std::string library_description() {
    const dnnl_version_t* v = dnnl_version();
    const char* runtime = v->cpu_runtime == DNNL_RUNTIME_OMP          ? "OpenMP"
                          : v->cpu_runtime == DNNL_RUNTIME_SEQ        ? "sequential"
                          : v->cpu_runtime == DNNL_RUNTIME_THREADPOOL ? "threadpool"
                                                                      : "other runtime";
    return fmt::format("oneDNN {}.{}.{} ({})", v->major, v->minor, v->patch, runtime);
}

/// oneDNN (OpenMP runtime) sizes its parallel regions from the calling thread's
/// omp_get_max_threads(); libgomp is loaded with libdnnl, so look the setter up there.
void set_omp_threads(unsigned threads) {
    using SetFn = void (*)(int);
    static const auto set = reinterpret_cast<SetFn>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
    if (set != nullptr) {
        set(static_cast<int>(threads));
    }
}

class OneDnnBackend final : public GemmBackend {
  public:
    std::string prepare(const GemmProblem& p, const void* a, const void* b, void* c,
                        unsigned threads) override {
        set_omp_threads(threads);
        try {
            engine_ = dnnl::engine(dnnl::engine::kind::cpu, 0);
            stream_ = dnnl::stream(engine_);
            const dnnl::matmul::primitive_desc pd = make_pd(engine_, p);
            // Plain user memory: no reorder outside the timed call (a framework's view).
            a_ = dnnl::memory(pd.src_desc(), engine_, const_cast<void*>(a));
            b_ = dnnl::memory(pd.weights_desc(), engine_, const_cast<void*>(b));
            c_ = dnnl::memory(pd.dst_desc(), engine_, c);
            primitive_ = dnnl::matmul(pd);
            return fmt::format(
                "{} matmul {}, {} threads; OpenMP team inherits the placement's "
                "CPU set (no OMP_PROC_BIND)",
                library_description(), pd.impl_info_str(), threads);
        } catch (const dnnl::error& e) {
            throw Error(fmt::format("oneDNN matmul {} {}x{}x{}: {}", gemm_dtype_name(p.dtype), p.m,
                                    p.n, p.k, e.what()));
        }
    }

    void run() override {
        primitive_.execute(stream_,
                           {{DNNL_ARG_SRC, a_}, {DNNL_ARG_WEIGHTS, b_}, {DNNL_ARG_DST, c_}});
        stream_.wait();
    }

  private:
    dnnl::engine engine_;
    dnnl::stream stream_;
    dnnl::memory a_, b_, c_;
    dnnl::matmul primitive_;
};

}  // namespace

std::string onednn_skip_reason(GemmDtype dtype) {
    static std::mutex mutex;
    static std::map<GemmDtype, std::string> cache;
    std::lock_guard lock(mutex);
    if (auto it = cache.find(dtype); it != cache.end()) {
        return it->second;
    }
    std::string reason;
    if (dtype == GemmDtype::f64) {
        reason = "oneDNN matmul has no f64 on CPU";
    } else {
        try {
            const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
            const GemmProblem probe{64, 64, 64, dtype, GemmLayout::nn};
            const std::string impl = make_pd(engine, probe).impl_info_str();
            // A reference implementation is a correctness fallback, not a benchmark.
            if (impl.rfind("ref", 0) == 0) {
                reason = fmt::format(
                    "{} has only its reference implementation ({}) for {} matmul on this CPU",
                    library_description(), impl, gemm_dtype_name(dtype));
            }
        } catch (const dnnl::error& e) {
            reason = fmt::format("{} cannot create a {} matmul on this CPU: {}",
                                 library_description(), gemm_dtype_name(dtype), e.what());
        }
    }
    cache.emplace(dtype, reason);
    return reason;
}

std::unique_ptr<GemmBackend> make_onednn_backend() {
    return std::make_unique<OneDnnBackend>();
}

#else

std::string onednn_skip_reason(GemmDtype dtype) {
    (void)dtype;
    return "built without oneDNN (libdnnl-dev not found at build time)";
}

std::unique_ptr<GemmBackend> make_onednn_backend() {
    throw Error("built without oneDNN (libdnnl-dev not found at build time)");
}

#endif

}  // namespace assay::gemm_detail
