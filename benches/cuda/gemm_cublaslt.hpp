#pragma once
/// One cuBLASLt GEMM on a CUDA device behind a C++17-clean interface: no CUDA or cuBLAS type
/// appears here (gemm_cublaslt.cu is the only file that sees them). cuBLASLt is loaded at run
/// time with dlopen("libcublasLt.so.<major>"), so a CUDA-enabled binary still starts on a host
/// without the CUDA toolkit's libraries and reports the GEMM cases as skipped.
///
/// Semantics are row-major, as in PyTorch: C[M x N] = A[M x K] . op(B), where layout "nn" stores
/// B as K x N and layout "nt" stores B as N x K (a weight matrix of nn.Linear, y = x W^T). The
/// column-major cuBLASLt call computes C^T = op(B)^T A^T, so "nn" is cuBLAS's NN form and "nt"
/// its TN form (A' transposed), the only form int8 (IMMA) and fp8 kernels accept.
///
/// dtypes (inputs -> accumulate -> output):
///   f64      fp64 -> fp64 -> fp64 (CUBLAS_COMPUTE_64F)
///   f32      fp32 -> fp32 -> fp32 (CUBLAS_COMPUTE_32F: no tensor-core down-conversion)
///   tf32     fp32 rounded to tf32 by the tensor cores -> fp32 -> fp32 (COMPUTE_32F_FAST_TF32)
///   f16      fp16 -> fp32 -> fp16 (CUBLAS_COMPUTE_32F)
///   bf16     bf16 -> fp32 -> bf16 (CUBLAS_COMPUTE_32F), PyTorch's torch.matmul setting
///   s8s8s32  int8 x int8 -> int32 -> int32 (CUBLAS_COMPUTE_32I), layout nt only
///   fp8e4m3  e4m3 x e4m3 -> fp32 -> bf16 (CUBLAS_COMPUTE_32F, A/B scale 1.0, no fast
///            accumulation), layout nt only, compute capability >= 8.9
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace assay::cuda {

enum class GemmDtype { f64, f32, tf32, f16, bf16, s8s8s32, fp8e4m3 };

/// The canonical parameter value: "f64", "f32", "tf32", "f16", "bf16", "s8s8s32", "fp8e4m3".
inline const char* gemm_dtype_name(GemmDtype d) {
    switch (d) {
        case GemmDtype::f64:
            return "f64";
        case GemmDtype::f32:
            return "f32";
        case GemmDtype::tf32:
            return "tf32";
        case GemmDtype::f16:
            return "f16";
        case GemmDtype::bf16:
            return "bf16";
        case GemmDtype::s8s8s32:
            return "s8s8s32";
        case GemmDtype::fp8e4m3:
            return "fp8e4m3";
    }
    return "?";
}

/// Bytes of one A/B element as stored (tf32 is stored as fp32).
inline std::size_t gemm_input_bytes(GemmDtype d) {
    switch (d) {
        case GemmDtype::f64:
            return 8;
        case GemmDtype::f32:
        case GemmDtype::tf32:
            return 4;
        case GemmDtype::f16:
        case GemmDtype::bf16:
            return 2;
        case GemmDtype::s8s8s32:
        case GemmDtype::fp8e4m3:
            return 1;
    }
    return 0;
}

/// Bytes of one C element (fp8 writes bf16, int8 writes int32).
inline std::size_t gemm_output_bytes(GemmDtype d) {
    switch (d) {
        case GemmDtype::f64:
            return 8;
        case GemmDtype::f32:
        case GemmDtype::tf32:
        case GemmDtype::s8s8s32:
            return 4;
        case GemmDtype::f16:
        case GemmDtype::bf16:
        case GemmDtype::fp8e4m3:
            return 2;
    }
    return 0;
}

/// One GEMM problem, row-major semantics (see the file comment).
struct GemmProblem {
    GemmDtype dtype = GemmDtype::bf16;
    std::uint64_t m = 0;
    std::uint64_t n = 0;
    std::uint64_t k = 0;
    bool b_transposed = false;  ///< layout "nt": B stored N x K

    /// Bytes of A, B and C on the device.
    std::uint64_t matrix_bytes() const {
        return (m * k + k * n) * gemm_input_bytes(dtype) + m * n * gemm_output_bytes(dtype);
    }
};

/// How to run it.
struct GemmSetup {
    int device = 0;
    /// Overwrite a buffer of 2x the device's L2 before every timed GEMM (outside the timed
    /// region), so each sample starts with a cold L2 as in nvbench's default.
    bool flush_l2 = true;
    std::size_t workspace_bytes = std::size_t{64} << 20;  ///< cuBLASLt workspace
    int heuristic_candidates = 8;  ///< algorithms requested from the heuristic; each is timed
    std::uint64_t seed = 0x5eed;   ///< input generator seed
};

/// True when libcublasLt can be loaded and has every entry point used; else `why` says what failed
/// (e.g. "libcublasLt.so.13 not found: <dlerror>"). Cheap after the first call.
bool cublaslt_loadable(std::string& why);

/// Compute capability of `device` as 10 * major + minor (90 = Hopper); throws std::runtime_error.
int compute_capability(int device);

/// A prepared GEMM: inputs generated on the device from the seed, algorithm chosen. Not
/// thread-safe. Every method throws std::runtime_error with the CUDA/cuBLAS error on failure.
class CublasLtGemm {
  public:
    /// Allocates A, B, C, the workspace and the L2-flush buffer on `setup.device`, fills A and B
    /// with seeded non-zero values exactly representable in the dtype, asks the heuristic for up
    /// to `heuristic_candidates` algorithms and keeps the fastest (each timed after a warm-up).
    /// Throws when cuBLASLt has no algorithm for the problem on this device.
    CublasLtGemm(const GemmProblem& problem, const GemmSetup& setup);
    ~CublasLtGemm();
    CublasLtGemm(const CublasLtGemm&) = delete;
    CublasLtGemm& operator=(const CublasLtGemm&) = delete;

    /// One blocking GEMM (after the L2 flush when enabled); its CUDA-event duration in seconds.
    double run_seconds();
    /// Recomputes in fp64 on the host, from the exact input values, 2 random full rows, 2 random
    /// full columns and the 4 corners of C, and compares with the documented tolerance of the
    /// dtype. Fills `detail`; true when every sampled entry is within tolerance.
    bool verify(std::string& detail);
    /// Overwrites C[row][col] with a wrong value (tests of the verification path).
    void corrupt_output_for_test(std::uint64_t row, std::uint64_t col);
    /// The rows and columns verify() samples (row i covers every column; tests use them).
    std::uint64_t sampled_row() const;

    /// "cuBLASLt 13.0.2 algo 66 tile 23 stages 8 splitK 1 ... (fastest of 8 heuristic
    /// candidates), workspace 64 MiB, L2 flush 100 MiB".
    std::string implementation() const;
    /// Heuristic's first choice time / chosen algorithm's time, as measured at selection (>= 1).
    double first_choice_over_best() const;
    /// Bytes written by the L2 flush before each sample (0 when disabled).
    std::size_t l2_flush_bytes() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace assay::cuda
