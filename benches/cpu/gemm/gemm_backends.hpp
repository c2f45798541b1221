#pragma once
/// Private to benches/cpu/gemm: per-backend entry points and shared helpers.
#include <memory>
#include <string>
#include <vector>

#include "benches/cpu/gemm/gemm_cpu.hpp"

namespace assay::gemm_detail {

std::string openblas_skip_reason(GemmDtype dtype);
std::unique_ptr<GemmBackend> make_openblas_backend();

std::string blis_skip_reason(GemmDtype dtype);
std::unique_ptr<GemmBackend> make_blis_backend();

std::string onednn_skip_reason(GemmDtype dtype);
std::unique_ptr<GemmBackend> make_onednn_backend();

/// CBLAS enum values (as in cblas.h) for the dlopen'ed BLAS libraries, whose headers are not used.
inline constexpr int kRowMajor = 101;
inline constexpr int kNoTrans = 111;
inline constexpr int kTrans = 112;

/// What a BLAS backend's prepare() records for its run(): the problem and its operands.
struct GemmOperands {
    GemmProblem problem;
    const void* a = nullptr;
    const void* b = nullptr;
    void* c = nullptr;
};

/// A shared library opened once per process with dlopen(RTLD_NOW | RTLD_LOCAL), by soname.
/// RTLD_LOCAL keeps OpenBLAS's and BLIS's identical BLAS/CBLAS symbols out of the global scope;
/// each library resolves its own internal references first within its own load scope, so
/// RTLD_DEEPBIND is not needed (and the sanitizer runtimes refuse it).
struct DlLibrary {
    void* handle = nullptr;
    std::string soname;
    std::string error;          ///< dlerror() when handle is null
    std::string resolved_path;  ///< realpath of the file the loader picked
    /// The symbol, or nullptr.
    void* symbol(const char* name) const;
};

/// Opens `soname`; new_threads receives the ids (TIDs) of threads that appeared during the load
/// (a library's thread pool created by its constructors).
DlLibrary open_library(const std::string& soname, std::vector<int>* new_threads = nullptr);

/// The skip reason of a library that did not load: "<soname> not found: <dlerror>".
std::string library_missing_reason(const DlLibrary& lib);

/// The TIDs of this process's threads.
std::vector<int> process_threads();

/// Restricts thread `tid` to the calling thread's CPU set; false if the kernel refused.
bool confine_thread_to_my_cpus(int tid);

}  // namespace assay::gemm_detail
