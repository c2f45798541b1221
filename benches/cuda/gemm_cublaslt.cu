// cuBLASLt GEMM (see gemm_cublaslt.hpp). Compiled by nvcc as C++17: only C++17 headers here.
//
// cuBLASLt is dlopen'ed (libcublasLt.so.<CUBLAS_VER_MAJOR>, then the toolkit's lib dir): linking
// it would make a CUDA-enabled binary fail to start on hosts without the CUDA libraries, while the
// rest of Assay (CPU benchmarks, the probe with its static cudart) runs fine there.
//
// Inputs: A and B are generated on the device from a hash of (seed, matrix, storage index), with
// values exactly representable in the dtype (see value_of), so the host reference sees exactly
// the numbers the tensor cores multiply without copying the matrices back.
#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>
#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "benches/cuda/dl_library.hpp"
#include "benches/cuda/gemm_cublaslt.hpp"

#ifndef ASSAY_CUBLASLT_FALLBACK_DIR
#define ASSAY_CUBLASLT_FALLBACK_DIR ""
#endif

namespace assay::cuda {
namespace {

#define ASSAY_STR2(x) #x
#define ASSAY_STR(x) ASSAY_STR2(x)
constexpr const char* kCublasLtSoname = "libcublasLt.so." ASSAY_STR(CUBLAS_VER_MAJOR);

/// The cuBLASLt entry points used, resolved with dlsym.
struct LtApi {
    void* handle = nullptr;
    std::string path;
    decltype(&cublasLtCreate) create = nullptr;
    decltype(&cublasLtDestroy) destroy = nullptr;
    decltype(&cublasLtGetVersion) get_version = nullptr;
    decltype(&cublasLtGetStatusString) status_string = nullptr;
    decltype(&cublasLtMatmulDescCreate) desc_create = nullptr;
    decltype(&cublasLtMatmulDescDestroy) desc_destroy = nullptr;
    decltype(&cublasLtMatmulDescSetAttribute) desc_set = nullptr;
    decltype(&cublasLtMatrixLayoutCreate) layout_create = nullptr;
    decltype(&cublasLtMatrixLayoutDestroy) layout_destroy = nullptr;
    decltype(&cublasLtMatmulPreferenceCreate) pref_create = nullptr;
    decltype(&cublasLtMatmulPreferenceDestroy) pref_destroy = nullptr;
    decltype(&cublasLtMatmulPreferenceSetAttribute) pref_set = nullptr;
    decltype(&cublasLtMatmulAlgoGetHeuristic) heuristic = nullptr;
    decltype(&cublasLtMatmul) matmul = nullptr;
    decltype(&cublasLtMatmulAlgoConfigGetAttribute) algo_get = nullptr;
};

/// Loads cuBLASLt once per process; `why` is set (and api.handle null) when it cannot.
const LtApi& lt_api(std::string& why) {
    static LtApi api;
    static std::string failure;
    static std::once_flag once;
    std::call_once(once, [] {
        std::string path;
        void* h = open_library(kCublasLtSoname, ASSAY_CUBLASLT_FALLBACK_DIR, path, failure);
        if (h == nullptr) {
            return;
        }
        LtApi a;
        a.handle = h;
        a.path = path;
        std::string w;
        const bool ok =
            resolve_symbol(h, kCublasLtSoname, "cublasLtCreate", a.create, w) &&
            resolve_symbol(h, kCublasLtSoname, "cublasLtDestroy", a.destroy, w) &&
            resolve_symbol(h, kCublasLtSoname, "cublasLtGetVersion", a.get_version, w) &&
            resolve_symbol(h, kCublasLtSoname, "cublasLtGetStatusString", a.status_string, w) &&
            resolve_symbol(h, kCublasLtSoname, "cublasLtMatmulDescCreate", a.desc_create, w) &&
            resolve_symbol(h, kCublasLtSoname, "cublasLtMatmulDescDestroy", a.desc_destroy, w) &&
            resolve_symbol(h, kCublasLtSoname, "cublasLtMatmulDescSetAttribute", a.desc_set, w) &&
            resolve_symbol(h, kCublasLtSoname, "cublasLtMatrixLayoutCreate", a.layout_create, w) &&
            resolve_symbol(h, kCublasLtSoname, "cublasLtMatrixLayoutDestroy", a.layout_destroy,
                           w) &&
            resolve_symbol(h, kCublasLtSoname, "cublasLtMatmulPreferenceCreate", a.pref_create,
                           w) &&
            resolve_symbol(h, kCublasLtSoname, "cublasLtMatmulPreferenceDestroy", a.pref_destroy,
                           w) &&
            resolve_symbol(h, kCublasLtSoname, "cublasLtMatmulPreferenceSetAttribute", a.pref_set,
                           w) &&
            resolve_symbol(h, kCublasLtSoname, "cublasLtMatmulAlgoGetHeuristic", a.heuristic, w) &&
            resolve_symbol(h, kCublasLtSoname, "cublasLtMatmul", a.matmul, w) &&
            resolve_symbol(h, kCublasLtSoname, "cublasLtMatmulAlgoConfigGetAttribute", a.algo_get,
                           w);
        if (!ok) {
            failure = w;
            dlclose(h);
            return;
        }
        api = a;
    });
    why = failure;
    return api;
}

const LtApi& lt() {
    std::string why;
    const LtApi& api = lt_api(why);
    if (api.handle == nullptr) {
        throw std::runtime_error("cuBLASLt unavailable: " + why);
    }
    return api;
}

void check(cudaError_t e, const char* what) {
    if (e != cudaSuccess) {
        throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e) + " (" +
                                 cudaGetErrorName(e) + ")");
    }
}

void check_lt(cublasStatus_t s, const char* what) {
    if (s != CUBLAS_STATUS_SUCCESS) {
        throw std::runtime_error(std::string(what) + ": " + lt().status_string(s) + " (status " +
                                 std::to_string(static_cast<int>(s)) + ")");
    }
}

// ---- input values -----------------------------------------------------------------------------

__host__ __device__ inline std::uint64_t mix(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

/// Explicit mantissa bits kept by the generator per dtype: every value is exactly representable
/// in the input type (and, for tf32, in tf32, so the tensor cores' rounding changes nothing).
__host__ __device__ inline int mantissa_bits(GemmDtype d) {
    switch (d) {
        case GemmDtype::f64:
            return 52;
        case GemmDtype::f32:
            return 23;
        case GemmDtype::tf32:
        case GemmDtype::f16:
            return 10;
        case GemmDtype::bf16:
            return 7;
        case GemmDtype::fp8e4m3:
            return 3;
        case GemmDtype::s8s8s32:
            return 0;
    }
    return 0;
}

/// Element `index` (storage order) of matrix `which` (0 = A, 1 = B): never zero, random sign;
/// floats are +-(1 + f / 2^bits) * 2^-e with e in {0, 1} (magnitudes in [0.5, 2)); int8 is
/// +-1..8.
__host__ __device__ inline double value_of(GemmDtype d, std::uint64_t seed, int which,
                                           std::uint64_t index) {
    const std::uint64_t h = mix(seed ^ mix(index * 2 + static_cast<std::uint64_t>(which)));
    const double sign = (h & 1) != 0 ? -1.0 : 1.0;
    if (d == GemmDtype::s8s8s32) {
        return sign * static_cast<double>(1 + ((h >> 1) & 7));
    }
    const int bits = mantissa_bits(d);
    const std::uint64_t frac = (h >> 12) & ((std::uint64_t{1} << bits) - 1);
    const double mant =
        1.0 + static_cast<double>(frac) / static_cast<double>(std::uint64_t{1} << bits);
    return sign * mant * (((h >> 1) & 1) != 0 ? 0.5 : 1.0);
}

__global__ void fill_kernel(void* out, GemmDtype d, std::uint64_t seed, int which,
                            std::uint64_t n) {
    for (std::uint64_t i = blockIdx.x * std::uint64_t{blockDim.x} + threadIdx.x; i < n;
         i += std::uint64_t{gridDim.x} * blockDim.x) {
        const double v = value_of(d, seed, which, i);
        // Every conversion below is exact (the value is representable), so rounding modes and
        // saturation never apply.
        switch (d) {
            case GemmDtype::f64:
                static_cast<double*>(out)[i] = v;
                break;
            case GemmDtype::f32:
            case GemmDtype::tf32:
                static_cast<float*>(out)[i] = static_cast<float>(v);
                break;
            case GemmDtype::f16:
                static_cast<__half*>(out)[i] = __float2half_rn(static_cast<float>(v));
                break;
            case GemmDtype::bf16:
                static_cast<__nv_bfloat16*>(out)[i] = __float2bfloat16_rn(static_cast<float>(v));
                break;
            case GemmDtype::fp8e4m3:
                static_cast<__nv_fp8_storage_t*>(out)[i] =
                    __nv_cvt_double_to_fp8(v, __NV_SATFINITE, __NV_E4M3);
                break;
            case GemmDtype::s8s8s32:
                static_cast<std::int8_t*>(out)[i] = static_cast<std::int8_t>(v);
                break;
        }
    }
}

/// Writes `v` into C[index] in the output type (one thread; tests of the verification path).
__global__ void poke_kernel(void* c, GemmDtype d, std::uint64_t index, double v) {
    switch (d) {
        case GemmDtype::f64:
            static_cast<double*>(c)[index] = v;
            break;
        case GemmDtype::f32:
        case GemmDtype::tf32:
            static_cast<float*>(c)[index] = static_cast<float>(v);
            break;
        case GemmDtype::f16:
            static_cast<__half*>(c)[index] = __float2half_rn(static_cast<float>(v));
            break;
        case GemmDtype::bf16:
        case GemmDtype::fp8e4m3:
            static_cast<__nv_bfloat16*>(c)[index] = __float2bfloat16_rn(static_cast<float>(v));
            break;
        case GemmDtype::s8s8s32:
            static_cast<std::int32_t*>(c)[index] = static_cast<std::int32_t>(v);
            break;
    }
}

// ---- host decoding of outputs -----------------------------------------------------------------

double half_bits_to_double(std::uint16_t b) {
    const double sign = (b & 0x8000) != 0 ? -1.0 : 1.0;
    const int exp = (b >> 10) & 0x1f;
    const int mant = b & 0x3ff;
    if (exp == 0) {
        return sign * std::ldexp(mant, -24);
    }
    if (exp == 31) {
        return mant == 0 ? sign * std::numeric_limits<double>::infinity()
                         : std::numeric_limits<double>::quiet_NaN();
    }
    return sign * std::ldexp(1024 + mant, exp - 25);
}

double bf16_bits_to_double(std::uint16_t b) {
    const std::uint32_t bits = static_cast<std::uint32_t>(b) << 16;
    float f = 0;
    std::memcpy(&f, &bits, sizeof f);
    return static_cast<double>(f);
}

/// Output elements (raw bytes) -> doubles.
std::vector<double> decode(GemmDtype d, const std::vector<unsigned char>& raw) {
    const std::size_t size = gemm_output_bytes(d);
    std::vector<double> out(raw.size() / size);
    for (std::size_t i = 0; i < out.size(); ++i) {
        const unsigned char* p = raw.data() + i * size;
        switch (d) {
            case GemmDtype::f64: {
                double v;
                std::memcpy(&v, p, sizeof v);
                out[i] = v;
                break;
            }
            case GemmDtype::f32:
            case GemmDtype::tf32: {
                float v;
                std::memcpy(&v, p, sizeof v);
                out[i] = static_cast<double>(v);
                break;
            }
            case GemmDtype::s8s8s32: {
                std::int32_t v;
                std::memcpy(&v, p, sizeof v);
                out[i] = static_cast<double>(v);
                break;
            }
            case GemmDtype::f16: {
                std::uint16_t v;
                std::memcpy(&v, p, sizeof v);
                out[i] = half_bits_to_double(v);
                break;
            }
            case GemmDtype::bf16:
            case GemmDtype::fp8e4m3: {
                std::uint16_t v;
                std::memcpy(&v, p, sizeof v);
                out[i] = bf16_bits_to_double(v);
                break;
            }
        }
    }
    return out;
}

// ---- cuBLASLt type table ----------------------------------------------------------------------

struct LtTypes {
    cublasComputeType_t compute;
    cudaDataType_t scale;
    cudaDataType_t ab;
    cudaDataType_t c;
};

LtTypes lt_types(GemmDtype d) {
    switch (d) {
        case GemmDtype::f64:
            return {CUBLAS_COMPUTE_64F, CUDA_R_64F, CUDA_R_64F, CUDA_R_64F};
        case GemmDtype::f32:
            return {CUBLAS_COMPUTE_32F, CUDA_R_32F, CUDA_R_32F, CUDA_R_32F};
        case GemmDtype::tf32:
            return {CUBLAS_COMPUTE_32F_FAST_TF32, CUDA_R_32F, CUDA_R_32F, CUDA_R_32F};
        case GemmDtype::f16:
            return {CUBLAS_COMPUTE_32F, CUDA_R_32F, CUDA_R_16F, CUDA_R_16F};
        case GemmDtype::bf16:
            return {CUBLAS_COMPUTE_32F, CUDA_R_32F, CUDA_R_16BF, CUDA_R_16BF};
        case GemmDtype::s8s8s32:
            return {CUBLAS_COMPUTE_32I, CUDA_R_32I, CUDA_R_8I, CUDA_R_32I};
        case GemmDtype::fp8e4m3:
            return {CUBLAS_COMPUTE_32F, CUDA_R_32F, CUDA_R_8F_E4M3, CUDA_R_16BF};
    }
    throw std::runtime_error("unknown GEMM dtype");
}

/// Unit roundoff of the accumulation and of the output type, and a safety factor on the
/// accumulation bound (see tolerance()).
struct Rounding {
    double acc_unit;
    double acc_factor;
    double out_unit;
};

Rounding rounding(GemmDtype d) {
    switch (d) {
        case GemmDtype::f64:
            return {std::ldexp(1.0, -53), 2, 0};
        case GemmDtype::f32:
            return {std::ldexp(1.0, -24), 2, 0};
        case GemmDtype::tf32:
            // Tensor-core fp32 accumulation truncates instead of rounding to nearest (Fasi et al.,
            // "Numerical behavior of NVIDIA tensor cores", 2021): 2x the RN bound, 2x margin.
            return {std::ldexp(1.0, -24), 4, 0};
        case GemmDtype::f16:
            return {std::ldexp(1.0, -24), 4, std::ldexp(1.0, -11)};
        case GemmDtype::bf16:
            return {std::ldexp(1.0, -24), 4, std::ldexp(1.0, -8)};
        case GemmDtype::fp8e4m3:
            // Hopper's fp8 tensor cores keep ~14 bits while accumulating (DeepSeek-V3 report,
            // 3.3.2) until cuBLAS promotes partial sums to fp32 (no FAST_ACCUM): bound the error
            // as 2^-14 per term over a promotion interval of up to 128 products (2^-7 of S).
            return {std::ldexp(1.0, -7), 0, std::ldexp(1.0, -8)};
        case GemmDtype::s8s8s32:
            return {0, 0, 0};
    }
    return {0, 0, 0};
}

std::string mib(std::size_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
    return buf;
}

std::string problem_text(const GemmProblem& p) {
    return std::string(gemm_dtype_name(p.dtype)) + " " + std::to_string(p.m) + "x" +
           std::to_string(p.n) + "x" + std::to_string(p.k) + (p.b_transposed ? " nt" : " nn");
}

}  // namespace

bool cublaslt_loadable(std::string& why) {
    return lt_api(why).handle != nullptr;
}

int compute_capability(int device) {
    int major = 0;
    int minor = 0;
    check(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device), "cc major");
    check(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device), "cc minor");
    return major * 10 + minor;
}

struct CublasLtGemm::Impl {
    GemmProblem p;
    GemmSetup s;
    LtTypes types{};
    void* a = nullptr;
    void* b = nullptr;
    void* c = nullptr;
    void* workspace = nullptr;
    void* flush = nullptr;
    float* fp8_scales = nullptr;  // A and B scale factors (1.0) for fp8
    std::size_t flush_bytes = 0;
    cudaStream_t stream{};
    cudaEvent_t start{}, stop{};
    cublasLtHandle_t handle{};
    cublasLtMatmulDesc_t desc{};
    cublasLtMatrixLayout_t la{}, lb{}, lc{};
    cublasLtMatmulAlgo_t algo{};
    std::size_t algo_workspace = 0;
    int candidates = 0;
    int candidates_run = 0;
    double first_over_best = 1.0;
    std::string impl_text;
    std::int32_t split_k = 1;
    std::uint64_t rows[2] = {0, 0};
    std::uint64_t cols[2] = {0, 0};

    Impl() = default;
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    /// Frees whatever was created, also after a constructor that threw half-way.
    ~Impl() {
        cudaSetDevice(s.device);
        if (stream != nullptr) {
            cudaStreamSynchronize(stream);
        }
        std::string why;
        const LtApi& api = lt_api(why);
        if (api.handle != nullptr) {
            if (lc != nullptr)
                api.layout_destroy(lc);
            if (lb != nullptr)
                api.layout_destroy(lb);
            if (la != nullptr)
                api.layout_destroy(la);
            if (desc != nullptr)
                api.desc_destroy(desc);
            if (handle != nullptr)
                api.destroy(handle);
        }
        cudaFree(a);
        cudaFree(b);
        cudaFree(c);
        cudaFree(workspace);
        cudaFree(flush);
        cudaFree(fp8_scales);
        if (start != nullptr)
            cudaEventDestroy(start);
        if (stop != nullptr)
            cudaEventDestroy(stop);
        if (stream != nullptr)
            cudaStreamDestroy(stream);
    }

    double alpha_d = 1.0, beta_d = 0.0;
    float alpha_f = 1.0f, beta_f = 0.0f;
    std::int32_t alpha_i = 1, beta_i = 0;

    const void* alpha() const {
        return types.scale == CUDA_R_64F   ? static_cast<const void*>(&alpha_d)
               : types.scale == CUDA_R_32I ? static_cast<const void*>(&alpha_i)
                                           : static_cast<const void*>(&alpha_f);
    }
    const void* beta() const {
        return types.scale == CUDA_R_64F   ? static_cast<const void*>(&beta_d)
               : types.scale == CUDA_R_32I ? static_cast<const void*>(&beta_i)
                                           : static_cast<const void*>(&beta_f);
    }

    /// a(i, k) and b(k, j) in row-major semantics, from the storage index of each layout.
    double a_at(std::uint64_t i, std::uint64_t k) const {
        return value_of(p.dtype, s.seed, 0, i * p.k + k);
    }
    double b_at(std::uint64_t k, std::uint64_t j) const {
        return value_of(p.dtype, s.seed, 1, p.b_transposed ? j * p.k + k : k * p.n + j);
    }

    void launch(const cublasLtMatmulAlgo_t& with, std::size_t ws) {
        // Column-major view: D^T (N x M) = op(B)^T (N x K) . A^T (K x M); see the header.
        check_lt(lt().matmul(handle, desc, alpha(), b, la, a, lb, beta(), c, lc, c, lc, &with,
                             workspace, ws, stream),
                 "cublasLtMatmul");
    }

    /// One GEMM, flushed first when enabled, timed by events around the GEMM only.
    double timed(const cublasLtMatmulAlgo_t& with, std::size_t ws) {
        if (flush != nullptr) {
            check(cudaMemsetAsync(flush, 0x5a, flush_bytes, stream), "L2 flush");
        }
        check(cudaEventRecord(start, stream), "cudaEventRecord");
        launch(with, ws);
        check(cudaEventRecord(stop, stream), "cudaEventRecord");
        check(cudaEventSynchronize(stop), "GEMM");
        float ms = 0;
        check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
        return static_cast<double>(ms) * 1e-3;
    }

    template <typename T>
    T algo_attr(const cublasLtMatmulAlgo_t& with, cublasLtMatmulAlgoConfigAttributes_t attr) {
        T v{};
        std::size_t written = 0;
        if (lt().algo_get(&with, attr, &v, sizeof v, &written) != CUBLAS_STATUS_SUCCESS) {
            return T{};
        }
        return v;
    }
};

CublasLtGemm::CublasLtGemm(const GemmProblem& problem, const GemmSetup& setup)
    : impl_(std::make_unique<Impl>()) {
    Impl& m = *impl_;
    m.p = problem;
    m.s = setup;
    if (problem.m == 0 || problem.n == 0 || problem.k == 0) {
        throw std::runtime_error("GEMM " + problem_text(problem) + ": empty dimension");
    }
    const LtApi& api = lt();
    m.types = lt_types(problem.dtype);
    check(cudaSetDevice(setup.device), "cudaSetDevice");
    check(cudaStreamCreateWithFlags(&m.stream, cudaStreamNonBlocking), "cudaStreamCreate");
    check(cudaEventCreate(&m.start), "cudaEventCreate");
    check(cudaEventCreate(&m.stop), "cudaEventCreate");

    const std::size_t in = gemm_input_bytes(problem.dtype);
    const std::size_t a_elems = problem.m * problem.k;
    const std::size_t b_elems = problem.k * problem.n;
    check(cudaMalloc(&m.a, a_elems * in), "cudaMalloc A");
    check(cudaMalloc(&m.b, b_elems * in), "cudaMalloc B");
    check(cudaMalloc(&m.c, problem.m * problem.n * gemm_output_bytes(problem.dtype)),
          "cudaMalloc C");
    check(cudaMemsetAsync(m.c, 0xff, problem.m * problem.n * gemm_output_bytes(problem.dtype),
                          m.stream),
          "cudaMemset C");
    if (setup.workspace_bytes != 0) {
        check(cudaMalloc(&m.workspace, setup.workspace_bytes), "cudaMalloc workspace");
    }
    if (setup.flush_l2) {
        int l2 = 0;
        check(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, setup.device), "L2 size");
        m.flush_bytes = 2 * static_cast<std::size_t>(l2);
        if (m.flush_bytes != 0) {
            check(cudaMalloc(&m.flush, m.flush_bytes), "cudaMalloc L2 flush buffer");
        }
    }
    int sms = 0;
    check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, setup.device), "SMs");
    const unsigned blocks = static_cast<unsigned>(std::max(1, sms) * 8);
    fill_kernel<<<blocks, 256, 0, m.stream>>>(m.a, problem.dtype, setup.seed, 0, a_elems);
    check(cudaGetLastError(), "fill A launch");
    fill_kernel<<<blocks, 256, 0, m.stream>>>(m.b, problem.dtype, setup.seed, 1, b_elems);
    check(cudaGetLastError(), "fill B launch");
    check(cudaStreamSynchronize(m.stream), "fill inputs");

    check_lt(api.create(&m.handle), "cublasLtCreate");
    check_lt(api.desc_create(&m.desc, m.types.compute, m.types.scale), "cublasLtMatmulDescCreate");
    const cublasOperation_t op_a = problem.b_transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
    const cublasOperation_t op_b = CUBLAS_OP_N;
    check_lt(api.desc_set(m.desc, CUBLASLT_MATMUL_DESC_TRANSA, &op_a, sizeof op_a), "TRANSA");
    check_lt(api.desc_set(m.desc, CUBLASLT_MATMUL_DESC_TRANSB, &op_b, sizeof op_b), "TRANSB");
    if (problem.dtype == GemmDtype::fp8e4m3) {
        // Per-tensor scales as a real fp8 pipeline passes them (1.0: the inputs need none).
        const float ones[2] = {1.0f, 1.0f};
        check(cudaMalloc(&m.fp8_scales, sizeof ones), "cudaMalloc fp8 scales");
        check(cudaMemcpyAsync(m.fp8_scales, ones, sizeof ones, cudaMemcpyHostToDevice, m.stream),
              "fp8 scales");
        check(cudaStreamSynchronize(m.stream), "fp8 scales");
        // A' of the column-major call is B and B' is A.
        const void* scale_a = m.fp8_scales + 1;
        const void* scale_b = m.fp8_scales;
        check_lt(
            api.desc_set(m.desc, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, &scale_a, sizeof scale_a),
            "A_SCALE_POINTER");
        check_lt(
            api.desc_set(m.desc, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, &scale_b, sizeof scale_b),
            "B_SCALE_POINTER");
    }
    const auto n = static_cast<std::uint64_t>(problem.n);
    const auto mm = static_cast<std::uint64_t>(problem.m);
    const auto k = static_cast<std::uint64_t>(problem.k);
    // A' = B: op(A') is N x K. Stored K x N column-major (ld K) for nt, N x K (ld N) for nn.
    if (problem.b_transposed) {
        check_lt(api.layout_create(&m.la, m.types.ab, k, n, static_cast<std::int64_t>(k)),
                 "layout A'");
    } else {
        check_lt(api.layout_create(&m.la, m.types.ab, n, k, static_cast<std::int64_t>(n)),
                 "layout A'");
    }
    // B' = A: K x M column-major (= row-major A), ld K. C/D: N x M column-major, ld N.
    check_lt(api.layout_create(&m.lb, m.types.ab, k, mm, static_cast<std::int64_t>(k)),
             "layout B'");
    check_lt(api.layout_create(&m.lc, m.types.c, n, mm, static_cast<std::int64_t>(n)), "layout C");

    cublasLtMatmulPreference_t pref{};
    check_lt(api.pref_create(&pref), "cublasLtMatmulPreferenceCreate");
    const std::uint64_t ws = setup.workspace_bytes;
    const cublasStatus_t ps =
        api.pref_set(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
    std::vector<cublasLtMatmulHeuristicResult_t> results(
        static_cast<std::size_t>(std::max(1, setup.heuristic_candidates)));
    int returned = 0;
    const cublasStatus_t hs =
        ps != CUBLAS_STATUS_SUCCESS
            ? ps
            : api.heuristic(m.handle, m.desc, m.la, m.lb, m.lc, m.lc, pref,
                            static_cast<int>(results.size()), results.data(), &returned);
    api.pref_destroy(pref);
    if (hs != CUBLAS_STATUS_SUCCESS || returned == 0) {
        throw std::runtime_error("cuBLASLt has no algorithm for GEMM " + problem_text(problem) +
                                 " on device " + std::to_string(setup.device) + " (" +
                                 api.status_string(hs) + ")");
    }

    // The heuristic's order is an estimate: time each candidate (one warm-up, best of 3) and
    // keep the fastest, as cuBLASLt's own samples and nvbench-based tuners do.
    double best = std::numeric_limits<double>::infinity();
    double first = 0;
    std::string last_error;
    for (int i = 0; i < returned; ++i) {
        const cublasLtMatmulHeuristicResult_t& r = results[static_cast<std::size_t>(i)];
        if (r.state != CUBLAS_STATUS_SUCCESS || r.workspaceSize > setup.workspace_bytes) {
            continue;
        }
        ++m.candidates;
        double t = std::numeric_limits<double>::infinity();
        try {
            m.timed(r.algo, r.workspaceSize);
            for (int rep = 0; rep < 3; ++rep) {
                t = std::min(t, m.timed(r.algo, r.workspaceSize));
            }
        } catch (const std::runtime_error& e) {
            last_error = e.what();
            continue;
        }
        ++m.candidates_run;
        if (m.candidates_run == 1) {
            first = t;
        }
        if (t < best) {
            best = t;
            m.algo = r.algo;
            m.algo_workspace = r.workspaceSize;
        }
    }
    if (m.candidates_run == 0) {
        throw std::runtime_error("cuBLASLt has no algorithm for GEMM " + problem_text(problem) +
                                 " that runs on device " + std::to_string(setup.device) +
                                 (last_error.empty() ? "" : ": " + last_error));
    }
    m.first_over_best = best > 0 ? first / best : 1.0;

    const auto id = m.algo_attr<std::int32_t>(m.algo, CUBLASLT_ALGO_CONFIG_ID);
    const auto tile = m.algo_attr<std::uint32_t>(m.algo, CUBLASLT_ALGO_CONFIG_TILE_ID);
    const auto stages = m.algo_attr<std::uint32_t>(m.algo, CUBLASLT_ALGO_CONFIG_STAGES_ID);
    m.split_k = std::max<std::int32_t>(
        1, m.algo_attr<std::int32_t>(m.algo, CUBLASLT_ALGO_CONFIG_SPLITK_NUM));
    const auto reduction =
        m.algo_attr<std::uint32_t>(m.algo, CUBLASLT_ALGO_CONFIG_REDUCTION_SCHEME);
    const auto swizzle = m.algo_attr<std::uint32_t>(m.algo, CUBLASLT_ALGO_CONFIG_CTA_SWIZZLING);
    const auto custom = m.algo_attr<std::uint32_t>(m.algo, CUBLASLT_ALGO_CONFIG_CUSTOM_OPTION);
    const auto inner = m.algo_attr<std::uint16_t>(m.algo, CUBLASLT_ALGO_CONFIG_INNER_SHAPE_ID);
    const auto cluster = m.algo_attr<std::uint16_t>(m.algo, CUBLASLT_ALGO_CONFIG_CLUSTER_SHAPE_ID);
    const std::size_t version = api.get_version();
    m.impl_text = "cuBLASLt " + std::to_string(version / 10000) + "." +
                  std::to_string((version / 100) % 100) + "." + std::to_string(version % 100) +
                  " algo " + std::to_string(id) + " tile_id " + std::to_string(tile) +
                  " stages_id " + std::to_string(stages) + " splitK " + std::to_string(m.split_k) +
                  " reduction " + std::to_string(reduction) + " swizzle " +
                  std::to_string(swizzle) + " custom " + std::to_string(custom) +
                  " inner_shape_id " + std::to_string(inner) + " cluster_shape_id " +
                  std::to_string(cluster) + " (fastest of " + std::to_string(m.candidates_run) +
                  " timed heuristic candidates), workspace " + mib(m.algo_workspace) + " of " +
                  mib(setup.workspace_bytes) +
                  (m.flush != nullptr ? ", L2 flush " + mib(m.flush_bytes) : ", no L2 flush") +
                  ", " + api.path;

    // Sampled rows and columns: deterministic from the seed, distinct from the corners when the
    // matrix has room.
    for (int i = 0; i < 2; ++i) {
        const std::uint64_t h = mix(setup.seed * 31 + static_cast<std::uint64_t>(i));
        m.rows[i] = problem.m > 2 ? 1 + (h % (problem.m - 2)) : h % problem.m;
        m.cols[i] = problem.n > 2 ? 1 + ((h >> 32) % (problem.n - 2)) : (h >> 32) % problem.n;
    }
}

CublasLtGemm::~CublasLtGemm() = default;

double CublasLtGemm::run_seconds() {
    Impl& m = *impl_;
    check(cudaSetDevice(m.s.device), "cudaSetDevice");
    return m.timed(m.algo, m.algo_workspace);
}

std::uint64_t CublasLtGemm::sampled_row() const {
    return impl_->rows[0];
}

bool CublasLtGemm::verify(std::string& detail) {
    Impl& m = *impl_;
    const GemmProblem& p = m.p;
    check(cudaSetDevice(m.s.device), "cudaSetDevice");
    check(cudaStreamSynchronize(m.stream), "GEMM");
    const std::size_t out = gemm_output_bytes(p.dtype);
    const auto* c = static_cast<const unsigned char*>(m.c);

    struct Entry {
        std::uint64_t i, j;
        double got, ref, sum_abs;
    };
    std::vector<Entry> entries;

    // Two full rows: C[i][*] is contiguous (N elements at i*N).
    std::vector<unsigned char> raw(p.n * out);
    std::vector<double> ref[2], sabs[2], got[2];
    for (int r = 0; r < 2; ++r) {
        check(cudaMemcpy(raw.data(), c + m.rows[r] * p.n * out, raw.size(), cudaMemcpyDeviceToHost),
              "read C row");
        got[r] = decode(p.dtype, raw);
        ref[r].assign(p.n, 0.0);
        sabs[r].assign(p.n, 0.0);
    }
    for (std::uint64_t k = 0; k < p.k; ++k) {
        const double a0 = m.a_at(m.rows[0], k);
        const double a1 = m.a_at(m.rows[1], k);
        for (std::uint64_t j = 0; j < p.n; ++j) {
            const double bv = m.b_at(k, j);
            ref[0][j] += a0 * bv;
            ref[1][j] += a1 * bv;
            sabs[0][j] += std::fabs(a0 * bv);
            sabs[1][j] += std::fabs(a1 * bv);
        }
    }
    for (int r = 0; r < 2; ++r) {
        for (std::uint64_t j = 0; j < p.n; ++j) {
            entries.push_back({m.rows[r], j, got[r][j], ref[r][j], sabs[r][j]});
        }
    }

    // Two full columns: C[*][j] is strided by N elements.
    raw.assign(p.m * out, 0);
    for (int q = 0; q < 2; ++q) {
        check(cudaMemcpy2D(raw.data(), out, c + m.cols[q] * out, p.n * out, out, p.m,
                           cudaMemcpyDeviceToHost),
              "read C column");
        got[q] = decode(p.dtype, raw);
        ref[q].assign(p.m, 0.0);
        sabs[q].assign(p.m, 0.0);
    }
    std::vector<double> bcol[2];
    for (int q = 0; q < 2; ++q) {
        bcol[q].resize(p.k);
        for (std::uint64_t k = 0; k < p.k; ++k) {
            bcol[q][k] = m.b_at(k, m.cols[q]);
        }
    }
    for (std::uint64_t i = 0; i < p.m; ++i) {
        for (std::uint64_t k = 0; k < p.k; ++k) {
            const double av = m.a_at(i, k);
            const double b0 = bcol[0][k];
            const double b1 = bcol[1][k];
            ref[0][i] += av * b0;
            ref[1][i] += av * b1;
            sabs[0][i] += std::fabs(av * b0);
            sabs[1][i] += std::fabs(av * b1);
        }
    }
    for (int q = 0; q < 2; ++q) {
        for (std::uint64_t i = 0; i < p.m; ++i) {
            entries.push_back({i, m.cols[q], got[q][i], ref[q][i], sabs[q][i]});
        }
    }

    // The four corners.
    const std::uint64_t ci[2] = {0, p.m - 1};
    const std::uint64_t cj[2] = {0, p.n - 1};
    raw.assign(out, 0);
    for (const std::uint64_t i : ci) {
        for (const std::uint64_t j : cj) {
            check(cudaMemcpy(raw.data(), c + (i * p.n + j) * out, out, cudaMemcpyDeviceToHost),
                  "read C corner");
            double r = 0, s = 0;
            for (std::uint64_t k = 0; k < p.k; ++k) {
                const double prod = m.a_at(i, k) * m.b_at(k, j);
                r += prod;
                s += std::fabs(prod);
            }
            entries.push_back({i, j, decode(p.dtype, raw)[0], r, s});
        }
    }

    // Tolerance per entry, relative to S = sum_k |a_ik b_kj| (an upper bound of every partial
    // sum, whatever the summation order, blocking or split-K):
    //   acc_factor * K * u_acc * S        accumulation (u_acc: fp64 2^-53, fp32 2^-24)
    //   + (splitK + 1) * u_out * S        output rounding, and a split-K reduction that may
    //                                     happen in the output type (16-bit outputs)
    // fp8: 2^-7 * S for the tensor cores' reduced-precision accumulation (see rounding()).
    // int8: exact (int32 accumulation cannot overflow: |C| <= 64 K).
    const Rounding rd = rounding(p.dtype);
    const double kk = static_cast<double>(p.k);
    const double acc_coeff =
        p.dtype == GemmDtype::fp8e4m3 ? rd.acc_unit : rd.acc_factor * (kk + 2) * rd.acc_unit;
    const double coeff = acc_coeff + static_cast<double>(m.split_k + 1) * rd.out_unit;
    std::size_t bad = 0;
    const Entry* first_bad = nullptr;
    double worst_ratio = 0;  // error / tolerance (or error, for exact dtypes)
    for (const Entry& e : entries) {
        const double err = std::fabs(e.got - e.ref);
        const double tol = coeff * e.sum_abs;
        const bool ok = p.dtype == GemmDtype::s8s8s32 ? e.got == e.ref : err <= tol;
        if (!ok) {  // also catches NaN
            ++bad;
            if (first_bad == nullptr)
                first_bad = &e;
        } else {
            worst_ratio = std::max(worst_ratio, tol > 0 ? err / tol : err);
        }
    }
    char buf[512];
    const std::string what = "C = A.B " + problem_text(p) + ": rows " + std::to_string(m.rows[0]) +
                             "," + std::to_string(m.rows[1]) + ", columns " +
                             std::to_string(m.cols[0]) + "," + std::to_string(m.cols[1]) +
                             " and the 4 corners (" + std::to_string(entries.size()) +
                             " entries) recomputed in fp64 from the exact inputs";
    if (bad == 0) {
        if (p.dtype == GemmDtype::s8s8s32) {
            std::snprintf(buf, sizeof buf, "; exact match required and found");
        } else {
            std::snprintf(buf, sizeof buf,
                          "; tolerance %.3g * sum|a||b| (K=%llu, splitK %d), worst error %.3g "
                          "of tolerance",
                          coeff, static_cast<unsigned long long>(p.k), m.split_k, worst_ratio);
        }
        detail = what + buf;
        return true;
    }
    std::snprintf(buf, sizeof buf,
                  "; %zu entries wrong, first C[%llu][%llu]: expected %.17g, got %.17g "
                  "(tolerance %.3g)",
                  bad, static_cast<unsigned long long>(first_bad->i),
                  static_cast<unsigned long long>(first_bad->j), first_bad->ref, first_bad->got,
                  p.dtype == GemmDtype::s8s8s32 ? 0.0 : coeff * first_bad->sum_abs);
    detail = what + buf;
    return false;
}

void CublasLtGemm::corrupt_output_for_test(std::uint64_t row, std::uint64_t col) {
    Impl& m = *impl_;
    check(cudaSetDevice(m.s.device), "cudaSetDevice");
    check(cudaStreamSynchronize(m.stream), "GEMM");
    double ref = 0, sum_abs = 0;
    for (std::uint64_t k = 0; k < m.p.k; ++k) {
        const double prod = m.a_at(row, k) * m.b_at(k, col);
        ref += prod;
        sum_abs += std::fabs(prod);
    }
    // Off by sum|a||b| (>= 1): outside every dtype's tolerance, and still a finite value.
    poke_kernel<<<1, 1, 0, m.stream>>>(m.c, m.p.dtype, row * m.p.n + col, ref + sum_abs);
    check(cudaGetLastError(), "corrupt launch");
    check(cudaStreamSynchronize(m.stream), "corrupt");
}

std::string CublasLtGemm::implementation() const {
    return impl_->impl_text;
}

double CublasLtGemm::first_choice_over_best() const {
    return impl_->first_over_best;
}

std::size_t CublasLtGemm::l2_flush_bytes() const {
    return impl_->flush != nullptr ? impl_->flush_bytes : 0;
}

}  // namespace assay::cuda
