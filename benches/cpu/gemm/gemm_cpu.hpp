#pragma once
/// CPU GEMM: one narrow backend interface (OpenBLAS, BLIS, oneDNN) and the Kernel that runs any
/// of them on exactly the PUs of a placement.
///
/// Threading: every GEMM kernel owns a dedicated runner thread whose affinity mask is the
/// placement's PU set; prepare() and run() execute there and the library is told to use
/// exactly pus.size() threads. OpenMP libraries (BLIS-openmp, oneDNN) create their team from the
/// runner, so team threads inherit its mask (OMP_PROC_BIND is left unset: it cannot be changed
/// once libgomp initialised, and a binding policy would override the inherited mask). OpenBLAS
/// (pthreads) creates its pool when loaded; the backend records the pool's threads and confines
/// them to the runner's PU set before each prepare().
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "benches/cpu/gemm/gemm_shapes.hpp"
#include "benches/kernel.hpp"

namespace assay {

/// One GEMM library. An instance is created, prepared and run on one (pinned) thread.
class GemmBackend {
  public:
    virtual ~GemmBackend() = default;
    /// Configures `threads` library threads on the calling thread's CPU set and prepares
    /// C = A * B for `problem` on caller-owned operands (layouts as in fill_gemm_inputs).
    /// Returns which implementation will run (library version, kernel, threading). Throws
    /// Error when the library cannot do it.
    virtual std::string prepare(const GemmProblem& problem, const void* a, const void* b, void* c,
                                unsigned threads) = 0;
    /// One blocking execution of the prepared GEMM.
    virtual void run() = 0;
};

/// The backends, in catalog order: "openblas", "blis", "onednn".
std::vector<std::string> gemm_backend_names();
/// The dtypes a backend offers (before asking the library and CPU whether they work here).
std::vector<GemmDtype> gemm_backend_dtypes(const std::string& backend);
/// Empty when `backend` can run `dtype` in this process (library found, build has the dtype,
/// the library can create the kernel for this CPU); otherwise a one-line reason. Loads the
/// library on first use.
std::string gemm_backend_skip_reason(const std::string& backend, GemmDtype dtype);
/// "yes", or "n/a on aarch64: <why>".
std::string gemm_backend_aarch64(const std::string& backend);
/// A fresh backend instance; throws UsageError for an unknown name.
std::unique_ptr<GemmBackend> make_gemm_backend(const std::string& backend);

/// A GEMM case on one backend, run on exactly `pus` (one library thread per PU).
class GemmCpuKernel final : public Kernel {
  public:
    /// seed selects the inputs and the verified rows/columns.
    GemmCpuKernel(std::string backend, GemmProblem problem, std::vector<unsigned> pus,
                  std::uint64_t seed = 0x5EED);
    ~GemmCpuKernel() override;
    GemmCpuKernel(const GemmCpuKernel&) = delete;
    GemmCpuKernel& operator=(const GemmCpuKernel&) = delete;

    void prepare() override;
    void run() override;
    Verification verify() override;
    WorkModel work() const override;
    std::string implementation() const override;

    /// Test seam: adds a large error to output entry (row, col) of the last run.
    void corrupt_output_for_test(std::uint64_t row, std::uint64_t col);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace assay
