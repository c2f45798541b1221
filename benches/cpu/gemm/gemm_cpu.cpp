#include "benches/cpu/gemm/gemm_cpu.hpp"

#include <dirent.h>
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <mutex>
#include <new>
#include <thread>
#include <utility>

#include "benches/cpu/gemm/gemm_backends.hpp"
#include "benches/cpu/gemm/gemm_verify.hpp"
#include "core/error.hpp"

namespace assay {
namespace gemm_detail {

void* DlLibrary::symbol(const char* name) const {
    return handle == nullptr ? nullptr : dlsym(handle, name);
}

std::vector<int> process_threads() {
    std::vector<int> tids;
    DIR* dir = opendir("/proc/self/task");
    if (dir == nullptr) {
        return tids;
    }
    while (const dirent* entry = readdir(dir)) {
        if (entry->d_name[0] != '.') {
            tids.push_back(std::atoi(entry->d_name));
        }
    }
    closedir(dir);
    std::sort(tids.begin(), tids.end());
    return tids;
}

std::string library_missing_reason(const DlLibrary& lib) {
    return fmt::format("{} not found: {}", lib.soname, lib.error);
}

DlLibrary open_library(const std::string& soname, std::vector<int>* new_threads) {
    DlLibrary lib;
    lib.soname = soname;
    const std::vector<int> before = new_threads != nullptr ? process_threads() : std::vector<int>{};
    lib.handle = dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib.handle == nullptr) {
        const char* err = dlerror();
        lib.error = err != nullptr ? err : "dlopen failed";
        return lib;
    }
    if (new_threads != nullptr) {
        const std::vector<int> after = process_threads();
        std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                            std::back_inserter(*new_threads));
    }
    // The loader's choice (through Debian's alternatives symlinks), as a real path.
    Dl_info info{};
    void* any = nullptr;
    for (const char* name : {"cblas_sgemm", "dnnl_version"}) {
        if ((any = dlsym(lib.handle, name)) != nullptr) {
            break;
        }
    }
    if (any != nullptr && dladdr(any, &info) != 0 && info.dli_fname != nullptr) {
        char resolved[PATH_MAX];
        lib.resolved_path =
            realpath(info.dli_fname, resolved) != nullptr ? resolved : info.dli_fname;
    }
    return lib;
}

bool confine_thread_to_my_cpus(int tid) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) {
        return false;
    }
    return sched_setaffinity(tid, sizeof set, &set) == 0;
}

}  // namespace gemm_detail

namespace {

/// A dedicated thread whose affinity mask is a PU set; runs tasks for its owner, one at a time.
class PinnedRunner {
  public:
    explicit PinnedRunner(std::vector<unsigned> pus) {
        std::unique_lock lock(mutex_);
        thread_ = std::thread([this, pus = std::move(pus)] { loop(pus); });
        cv_.wait(lock, [this] { return started_; });
        if (!start_error_.empty()) {
            lock.unlock();
            stop();
            throw Error(start_error_);
        }
    }
    ~PinnedRunner() { stop(); }
    PinnedRunner(const PinnedRunner&) = delete;
    PinnedRunner& operator=(const PinnedRunner&) = delete;

    /// Runs fn on the pinned thread and waits; rethrows what fn threw.
    void call(std::function<void()> fn) {
        std::unique_lock lock(mutex_);
        task_ = std::move(fn);
        error_ = nullptr;
        cv_.notify_all();
        cv_.wait(lock, [this] { return !task_; });
        if (error_) {
            std::rethrow_exception(error_);
        }
    }

  private:
    void loop(const std::vector<unsigned>& pus) {
        std::string err;
        cpu_set_t set;
        CPU_ZERO(&set);
        for (const unsigned pu : pus) {
            if (pu >= CPU_SETSIZE) {
                err = fmt::format("PU {} is beyond CPU_SETSIZE", pu);
                break;
            }
            CPU_SET(pu, &set);
        }
        if (err.empty() && pus.empty()) {
            err = "GEMM runner: empty PU set";
        }
        if (err.empty()) {
            const int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
            if (rc != 0) {
                err = fmt::format("GEMM runner: cannot pin to PUs {}: {}", fmt::join(pus, ","),
                                  std::strerror(rc));
            }
        }
        std::unique_lock lock(mutex_);
        start_error_ = err;
        started_ = true;
        cv_.notify_all();
        if (!err.empty()) {
            return;
        }
        while (true) {
            cv_.wait(lock, [this] { return quit_ || static_cast<bool>(task_); });
            if (quit_) {
                return;
            }
            lock.unlock();
            std::exception_ptr caught;
            try {
                task_();
            } catch (...) {
                caught = std::current_exception();
            }
            lock.lock();
            error_ = caught;
            task_ = nullptr;
            cv_.notify_all();
        }
    }

    void stop() {
        {
            std::lock_guard lock(mutex_);
            quit_ = true;
        }
        cv_.notify_all();
        if (thread_.joinable()) {
            thread_.join();
        }
    }

    std::mutex mutex_;
    std::condition_variable cv_;
    std::function<void()> task_;
    std::exception_ptr error_;
    std::string start_error_;
    bool started_ = false;
    bool quit_ = false;
    std::thread thread_;
};

struct FreeBytes {
    void operator()(void* p) const noexcept { std::free(p); }
};

/// 2 MiB-aligned, untouched bytes: the first writer (the pinned runner) places the pages.
std::unique_ptr<void, FreeBytes> allocate_bytes(std::uint64_t bytes) {
    constexpr std::uint64_t kAlign = std::uint64_t{2} << 20;
    const std::uint64_t rounded = std::max(kAlign, (bytes + kAlign - 1) / kAlign * kAlign);
    void* p = std::aligned_alloc(kAlign, static_cast<std::size_t>(rounded));
    if (p == nullptr) {
        throw std::bad_alloc();
    }
#if defined(MADV_HUGEPAGE)
    (void)madvise(p, static_cast<std::size_t>(rounded), MADV_HUGEPAGE);  // a hint only
#endif
    return std::unique_ptr<void, FreeBytes>(p);
}

}  // namespace

std::vector<std::string> gemm_backend_names() {
    return {"openblas", "blis", "onednn"};
}

std::vector<GemmDtype> gemm_backend_dtypes(const std::string& backend) {
    if (backend == "openblas") {
        return {GemmDtype::f32, GemmDtype::f64, GemmDtype::bf16};
    }
    if (backend == "blis") {
        return {GemmDtype::f32, GemmDtype::f64};
    }
    if (backend == "onednn") {
        return {GemmDtype::f32, GemmDtype::bf16, GemmDtype::f16, GemmDtype::u8s8s32,
                GemmDtype::s8s8s32};
    }
    return {};
}

std::string gemm_backend_skip_reason(const std::string& backend, GemmDtype dtype) {
    const auto offered = gemm_backend_dtypes(backend);
    if (std::find(offered.begin(), offered.end(), dtype) == offered.end()) {
        return fmt::format("{} offers no {} GEMM", backend, gemm_dtype_name(dtype));
    }
    if (backend == "openblas") {
        return gemm_detail::openblas_skip_reason(dtype);
    }
    if (backend == "blis") {
        return gemm_detail::blis_skip_reason(dtype);
    }
    return gemm_detail::onednn_skip_reason(dtype);
}

std::string gemm_backend_aarch64(const std::string& backend) {
    // OpenBLAS (Neoverse kernels) and BLIS are loaded at run time on any architecture; oneDNN
    // has Arm kernels but needs its headers at build time (a build without them skips it).
    (void)backend;
    return "yes";
}

std::unique_ptr<GemmBackend> make_gemm_backend(const std::string& backend) {
    if (backend == "openblas") {
        return gemm_detail::make_openblas_backend();
    }
    if (backend == "blis") {
        return gemm_detail::make_blis_backend();
    }
    if (backend == "onednn") {
        return gemm_detail::make_onednn_backend();
    }
    throw UsageError(
        fmt::format("unknown GEMM backend '{}' (known: openblas, blis, onednn)", backend));
}

struct GemmCpuKernel::Impl {
    std::string backend_name;
    GemmProblem problem;
    std::vector<unsigned> pus;
    std::uint64_t seed = 0;
    std::unique_ptr<PinnedRunner> runner;
    std::unique_ptr<GemmBackend> backend;
    std::unique_ptr<void, FreeBytes> a, b, c;
    std::string implementation;
};

GemmCpuKernel::GemmCpuKernel(std::string backend, GemmProblem problem, std::vector<unsigned> pus,
                             std::uint64_t seed)
    : impl_(std::make_unique<Impl>()) {
    impl_->backend_name = std::move(backend);
    impl_->problem = problem;
    impl_->pus = std::move(pus);
    impl_->seed = seed;
}

GemmCpuKernel::~GemmCpuKernel() {
    // The backend (and its library state) is torn down on the thread that created it.
    if (impl_->runner && impl_->backend) {
        try {
            impl_->runner->call([this] { impl_->backend.reset(); });
        } catch (...) {
            impl_->backend.reset();
        }
    }
}

void GemmCpuKernel::prepare() {
    Impl& im = *impl_;
    if (!im.runner) {
        im.runner = std::make_unique<PinnedRunner>(im.pus);
    }
    im.runner->call([&im] {
        const GemmProblem& p = im.problem;
        const std::size_t in_bytes = gemm_input_bytes(p.dtype);
        im.a = allocate_bytes(p.m * p.k * in_bytes);
        im.b = allocate_bytes(p.k * p.n * in_bytes);
        im.c = allocate_bytes(p.m * p.n * gemm_output_bytes(p.dtype));
        fill_gemm_inputs(p, im.a.get(), im.b.get(), im.seed);
        im.backend = make_gemm_backend(im.backend_name);
        im.implementation = im.backend->prepare(p, im.a.get(), im.b.get(), im.c.get(),
                                                static_cast<unsigned>(im.pus.size()));
    });
}

void GemmCpuKernel::run() {
    Impl& im = *impl_;
    if (!im.backend) {
        throw Error("GEMM kernel: run() before prepare()");
    }
    im.runner->call([&im] { im.backend->run(); });
}

Verification GemmCpuKernel::verify() {
    const Impl& im = *impl_;
    if (!im.c) {
        return Verification{false, "GEMM kernel: verify() before prepare()"};
    }
    return verify_gemm(im.problem, im.a.get(), im.b.get(), im.c.get(), im.seed);
}

WorkModel GemmCpuKernel::work() const {
    const GemmProblem& p = impl_->problem;
    WorkModel w;
    if (gemm_dtype_is_integer(p.dtype)) {
        w.int_ops = p.operations();
    } else {
        w.flops = p.operations();
    }
    return w;
}

std::string GemmCpuKernel::implementation() const {
    return impl_->implementation;
}

void GemmCpuKernel::corrupt_output_for_test(std::uint64_t row, std::uint64_t col) {
    const GemmProblem& p = impl_->problem;
    if (!impl_->c || row >= p.m || col >= p.n) {
        throw UsageError("corrupt_output_for_test: no output or entry out of range");
    }
    const std::uint64_t i = row * p.n + col;
    void* c = impl_->c.get();
    if (p.dtype == GemmDtype::f64) {
        static_cast<double*>(c)[i] += 1.0 + static_cast<double>(p.k);
    } else if (gemm_dtype_is_integer(p.dtype)) {
        static_cast<std::int32_t*>(c)[i] += 1;
    } else {
        static_cast<float*>(c)[i] += 1.0f + static_cast<float>(p.k);
    }
}

}  // namespace assay
