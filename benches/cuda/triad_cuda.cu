#include "benches/cuda/triad_cuda.hpp"

#include <cuda_runtime.h>

#include <cfloat>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace assay::cuda {
namespace {

constexpr double kScalar = 3.0;
constexpr int kThreadsPerBlock = 256;

void check(cudaError_t e, const char* what) {
    if (e != cudaSuccess) {
        throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e) + " (" +
                                 cudaGetErrorName(e) + ")");
    }
}

/// splitmix64 -> [0,1): deterministic, non-trivial inputs, regenerable from the index alone.
__host__ __device__ inline double unit_hash(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    x ^= x >> 31;
    return static_cast<double>(x >> 11) * (1.0 / 9007199254740992.0);
}
__host__ __device__ inline double b_of(std::uint64_t i) {
    return 1.0 + unit_hash(2 * i);
}
__host__ __device__ inline double c_of(std::uint64_t i) {
    return 0.5 + unit_hash(2 * i + 1);
}

__global__ void init_kernel(double* a, double* b, double* c, std::size_t n) {
    for (std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; i < n;
         i += std::size_t{gridDim.x} * blockDim.x) {
        a[i] = -1.0;
        b[i] = b_of(i);
        c[i] = c_of(i);
    }
}

__global__ void triad_kernel(double* __restrict__ a, const double* __restrict__ b,
                             const double* __restrict__ c, double scalar, std::size_t n) {
    for (std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; i < n;
         i += std::size_t{gridDim.x} * blockDim.x) {
        a[i] = b[i] + scalar * c[i];
    }
}

struct VerifyState {
    unsigned long long bad;
    unsigned long long first_bad;
    unsigned long long max_rel_err_bits;  // non-negative doubles order like their bit patterns
};

__global__ void verify_kernel(const double* a, std::size_t n, double scalar, double tolerance,
                              VerifyState* st) {
    for (std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; i < n;
         i += std::size_t{gridDim.x} * blockDim.x) {
        // Expected value from the analytic inputs, rounded step by step (no FMA contraction).
        const double expected = __dadd_rn(b_of(i), __dmul_rn(scalar, c_of(i)));
        const double err = fabs(a[i] - expected) / fabs(expected);
        if (!(err <= tolerance)) {  // also catches NaN
            atomicAdd(&st->bad, 1ULL);
            atomicMin(&st->first_bad, static_cast<unsigned long long>(i));
        } else {
            atomicMax(&st->max_rel_err_bits,
                      static_cast<unsigned long long>(__double_as_longlong(err)));
        }
    }
}

}  // namespace

int device_count(std::string& why) {
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        why = std::string("CUDA runtime reports ") + cudaGetErrorString(e) + " (" +
              cudaGetErrorName(e) + ")";
        return -1;
    }
    if (n == 0)
        why = "no CUDA device";
    return n;
}

struct DeviceTriad::Impl {
    int device = 0;
    std::size_t n = 0;
    double* a = nullptr;
    double* b = nullptr;
    double* c = nullptr;
    VerifyState* state = nullptr;
    cudaEvent_t start{}, stop{};
    unsigned blocks = 0;
};

DeviceTriad::DeviceTriad(int device, std::size_t elements) : impl_(std::make_unique<Impl>()) {
    Impl& m = *impl_;
    m.device = device;
    m.n = elements;
    check(cudaSetDevice(device), "cudaSetDevice");
    int sms = 0;
    check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device), "SM count");
    // Enough resident blocks to saturate HBM (grid-stride loops cover the rest).
    const std::size_t wanted = (elements + kThreadsPerBlock - 1) / kThreadsPerBlock;
    const std::size_t cap = static_cast<std::size_t>(sms) * 32;
    m.blocks = static_cast<unsigned>(wanted < cap ? wanted : cap);
    check(cudaMalloc(&m.a, elements * sizeof(double)), "cudaMalloc a");
    check(cudaMalloc(&m.b, elements * sizeof(double)), "cudaMalloc b");
    check(cudaMalloc(&m.c, elements * sizeof(double)), "cudaMalloc c");
    check(cudaMalloc(&m.state, sizeof(VerifyState)), "cudaMalloc state");
    check(cudaEventCreate(&m.start), "cudaEventCreate");
    check(cudaEventCreate(&m.stop), "cudaEventCreate");
    init_kernel<<<m.blocks, kThreadsPerBlock>>>(m.a, m.b, m.c, m.n);
    check(cudaGetLastError(), "init kernel launch");
    check(cudaDeviceSynchronize(), "init kernel");
}

DeviceTriad::~DeviceTriad() {
    Impl& m = *impl_;
    cudaSetDevice(m.device);
    cudaFree(m.a);
    cudaFree(m.b);
    cudaFree(m.c);
    cudaFree(m.state);
    cudaEventDestroy(m.start);
    cudaEventDestroy(m.stop);
}

double DeviceTriad::run_seconds() {
    Impl& m = *impl_;
    check(cudaSetDevice(m.device), "cudaSetDevice");
    check(cudaEventRecord(m.start), "cudaEventRecord");
    triad_kernel<<<m.blocks, kThreadsPerBlock>>>(m.a, m.b, m.c, kScalar, m.n);
    check(cudaGetLastError(), "triad kernel launch");
    check(cudaEventRecord(m.stop), "cudaEventRecord");
    check(cudaEventSynchronize(m.stop), "triad kernel");
    float ms = 0;
    check(cudaEventElapsedTime(&ms, m.start, m.stop), "cudaEventElapsedTime");
    return static_cast<double>(ms) * 1e-3;
}

bool DeviceTriad::verify(std::string& detail) {
    Impl& m = *impl_;
    check(cudaSetDevice(m.device), "cudaSetDevice");
    const VerifyState init{0, ~0ULL, 0};
    check(cudaMemcpy(m.state, &init, sizeof init, cudaMemcpyHostToDevice), "verify init");
    const double tolerance = 4 * DBL_EPSILON;
    verify_kernel<<<m.blocks, kThreadsPerBlock>>>(m.a, m.n, kScalar, tolerance, m.state);
    check(cudaGetLastError(), "verify kernel launch");
    VerifyState st{};
    check(cudaMemcpy(&st, m.state, sizeof st, cudaMemcpyDeviceToHost), "verify result");
    double max_err = 0;
    static_assert(sizeof(max_err) == sizeof(st.max_rel_err_bits));
    std::memcpy(&max_err, &st.max_rel_err_bits, sizeof max_err);
    if (st.bad == 0) {
        detail = "checked " + std::to_string(m.n) + " of " + std::to_string(m.n) +
                 " elements of a = b + 3*c on the device against the seeded inputs; max relative "
                 "error " +
                 std::to_string(max_err) + " (tolerance 4*DBL_EPSILON)";
        return true;
    }
    double got = 0;
    check(cudaMemcpy(&got, m.a + st.first_bad, sizeof got, cudaMemcpyDeviceToHost), "read back");
    const double expected = b_of(st.first_bad) + kScalar * c_of(st.first_bad);
    detail = std::to_string(st.bad) + " of " + std::to_string(m.n) +
             " elements wrong; first at index " + std::to_string(st.first_bad) + ": expected " +
             std::to_string(expected) + ", got " + std::to_string(got);
    return false;
}

void DeviceTriad::corrupt_output_for_test(std::size_t index, double value) {
    Impl& m = *impl_;
    check(cudaSetDevice(m.device), "cudaSetDevice");
    check(cudaMemcpy(m.a + index, &value, sizeof value, cudaMemcpyHostToDevice), "corrupt");
}

}  // namespace assay::cuda
