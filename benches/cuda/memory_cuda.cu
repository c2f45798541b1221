#include "benches/cuda/memory_cuda.hpp"

#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <string>

#include "core/error.hpp"

namespace assay::cuda {
namespace {

constexpr int kThreadsPerBlock = 256;
constexpr int kWarpsPerBlock = kThreadsPerBlock / 32;
/// Resident blocks per SM to aim for: enough in flight to saturate HBM; grid-stride loops cover
/// the rest (same rule as the triad).
constexpr std::size_t kBlocksPerSm = 32;

/// Input values of copy/read are 1 + k * 2^-20 with k in [0, 2^20): every partial sum of up to
/// 2^32 of them is a multiple of 2^-20 below 2^33, i.e. an integer below 2^53 times 2^-20, so
/// fp64 adds them *exactly* in any order. The read kernel's sum therefore has a closed form
/// (from an exact integer reference) and zero tolerance, whatever the reduction order.
constexpr int kFractionBits = 20;
constexpr double kFractionUnit = 1.0 / static_cast<double>(1u << kFractionBits);
constexpr std::size_t kMaxReadElements = (std::size_t{1} << 32) - 1;
/// Initial value of outputs: the first verification proves the kernel wrote every element.
constexpr double kUnwritten = -1.0;
/// Value of the write (fill) kernel: non-zero with a full mantissa.
constexpr double kFillValue = 2.718281828459045;
/// Seeds of the transfer patterns (distinct per direction, so bidir cannot cross-verify).
constexpr std::uint64_t kH2dSeed = 1;
constexpr std::uint64_t kD2hSeed = 2;
constexpr std::uint64_t kPeerSeed = 3;

void check(cudaError_t e, const char* what) {
    if (e != cudaSuccess) {
        throw Error(std::string(what) + ": " + cudaGetErrorString(e) + " (" + cudaGetErrorName(e) +
                    ")");
    }
}

std::string hex64(std::uint64_t v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
    return buf;
}

std::string fmt_double(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

/// splitmix64 finaliser: deterministic, non-trivial data regenerable from the index alone.
__host__ __device__ inline std::uint64_t mix64(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

__host__ __device__ inline std::uint64_t input_fraction(std::uint64_t i) {
    return mix64(i) >> (64 - kFractionBits);
}
__host__ __device__ inline double input_of(std::uint64_t i) {
    return 1.0 + static_cast<double>(input_fraction(i)) * kFractionUnit;
}
/// Word i of a transfer pattern (buffers are far below 2^48 words).
__host__ __device__ inline std::uint64_t pattern_word(std::uint64_t seed, std::uint64_t i) {
    return mix64((seed << 48) + i);
}

#define ASSAY_GRID_STRIDE(i, n)                                                       \
    for (std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; i < (n); \
         i += std::size_t{gridDim.x} * blockDim.x)

__global__ void init_input_kernel(double* a, std::size_t n) {
    ASSAY_GRID_STRIDE(i, n) {
        a[i] = input_of(i);
    }
}

__global__ void fill_kernel(double* a, std::size_t n, double value) {
    ASSAY_GRID_STRIDE(i, n) {
        a[i] = value;
    }
}

__global__ void fill_pattern_kernel(std::uint64_t* w, std::size_t n, std::uint64_t seed) {
    ASSAY_GRID_STRIDE(i, n) {
        w[i] = pattern_word(seed, i);
    }
}

__global__ void copy_kernel(double* __restrict__ b, const double* __restrict__ a, std::size_t n) {
    ASSAY_GRID_STRIDE(i, n) {
        b[i] = a[i];
    }
}

/// Warp shuffle, then one value per warp through shared memory, then one atomic per block.
template <typename T>
__device__ void block_sum_to(T s, T* result) {
    for (int offset = 16; offset > 0; offset >>= 1) {
        s += __shfl_down_sync(0xffffffffu, s, offset);
    }
    __shared__ T warp_sums[kWarpsPerBlock];
    const int lane = static_cast<int>(threadIdx.x) & 31;
    const int warp = static_cast<int>(threadIdx.x) >> 5;
    if (lane == 0) {
        warp_sums[warp] = s;
    }
    __syncthreads();
    if (warp == 0) {
        s = lane < kWarpsPerBlock ? warp_sums[lane] : T{0};
        for (int offset = 16; offset > 0; offset >>= 1) {
            s += __shfl_down_sync(0xffffffffu, s, offset);
        }
        if (lane == 0) {
            atomicAdd(result, s);
        }
    }
}

__global__ void read_kernel(const double* __restrict__ a, std::size_t n, double* result) {
    double s = 0;
    ASSAY_GRID_STRIDE(i, n) {
        s += a[i];
    }
    block_sum_to(s, result);
}

/// Exact integer reference of the read kernel's sum: sum of the inputs' fraction numerators.
__global__ void fraction_sum_kernel(std::size_t n, unsigned long long* result) {
    unsigned long long s = 0;
    ASSAY_GRID_STRIDE(i, n) {
        s += input_fraction(i);
    }
    block_sum_to(s, result);
}

struct VerifyState {
    unsigned long long bad;
    unsigned long long first_bad;
};

__device__ inline void record_bad(VerifyState* st, std::size_t i) {
    atomicAdd(&st->bad, 1ULL);
    atomicMin(&st->first_bad, static_cast<unsigned long long>(i));
}

/// Bit-exact: a copy or a fill must reproduce the value, so the tolerance is zero.
__global__ void verify_copy_kernel(const double* b, std::size_t n, VerifyState* st) {
    ASSAY_GRID_STRIDE(i, n) {
        if (__double_as_longlong(b[i]) != __double_as_longlong(input_of(i))) {
            record_bad(st, i);
        }
    }
}

__global__ void verify_fill_kernel(const double* a, std::size_t n, double value, VerifyState* st) {
    ASSAY_GRID_STRIDE(i, n) {
        if (__double_as_longlong(a[i]) != __double_as_longlong(value)) {
            record_bad(st, i);
        }
    }
}

__global__ void verify_pattern_kernel(const std::uint64_t* w, std::size_t n, std::uint64_t seed,
                                      VerifyState* st) {
    ASSAY_GRID_STRIDE(i, n) {
        if (w[i] != pattern_word(seed, i)) {
            record_bad(st, i);
        }
    }
}

unsigned blocks_for(int device, std::size_t elements) {
    int sms = 0;
    check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device), "SM count");
    const std::size_t wanted = (elements + kThreadsPerBlock - 1) / kThreadsPerBlock;
    const std::size_t cap = static_cast<std::size_t>(sms > 0 ? sms : 1) * kBlocksPerSm;
    const std::size_t blocks = wanted < cap ? wanted : cap;
    return static_cast<unsigned>(blocks > 0 ? blocks : 1);
}

/// Resets the verification kernels' device-side counters (stream-ordered before the kernel).
void run_verify_reset(VerifyState* state, cudaStream_t stream) {
    static const VerifyState init{0, ~0ULL};
    check(cudaMemcpyAsync(state, &init, sizeof init, cudaMemcpyHostToDevice, stream),
          "verify init");
}

VerifyState read_verify_state(const VerifyState* state, cudaStream_t stream) {
    VerifyState st{};
    check(cudaMemcpyAsync(&st, state, sizeof st, cudaMemcpyDeviceToHost, stream), "verify result");
    check(cudaStreamSynchronize(stream), "verify kernel");
    return st;
}

/// Counts mismatching words of a device pattern buffer; "" when all match, else the failure.
std::string verify_device_pattern(const std::uint64_t* words, std::size_t n, std::uint64_t seed,
                                  unsigned blocks, VerifyState* state, cudaStream_t stream,
                                  const char* what) {
    run_verify_reset(state, stream);
    verify_pattern_kernel<<<blocks, kThreadsPerBlock, 0, stream>>>(words, n, seed, state);
    check(cudaGetLastError(), "verify kernel launch");
    const VerifyState st = read_verify_state(state, stream);
    if (st.bad == 0) {
        return {};
    }
    std::uint64_t got = 0;
    check(cudaMemcpyAsync(&got, words + st.first_bad, sizeof got, cudaMemcpyDeviceToHost, stream),
          "read back");
    check(cudaStreamSynchronize(stream), "read back");
    return std::string(what) + ": " + std::to_string(st.bad) + " of " + std::to_string(n) +
           " words wrong; first at index " + std::to_string(st.first_bad) + ": expected " +
           hex64(pattern_word(seed, st.first_bad)) + ", got " + hex64(got);
}

/// Waits for `stop` (a failure names `what`) and returns the milliseconds since `start`.
float synced_elapsed_ms(cudaEvent_t start, cudaEvent_t stop, const char* what) {
    check(cudaEventSynchronize(stop), what);
    float ms = 0;
    check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
    return ms;
}

/// Destroys those of `events` and `streams` that were created (destructors: no error checks).
void destroy_events_and_streams(std::initializer_list<cudaEvent_t> events,
                                std::initializer_list<cudaStream_t> streams) {
    for (cudaEvent_t e : events) {
        if (e != nullptr) {
            cudaEventDestroy(e);
        }
    }
    for (cudaStream_t s : streams) {
        if (s != nullptr) {
            cudaStreamDestroy(s);
        }
    }
}

/// corrupt_for_test's range check: `index` must be below `size`.
void require_test_index(std::size_t index, std::size_t size) {
    if (index >= size) {
        throw Error("corrupt_for_test: index " + std::to_string(index) + " out of range");
    }
}

/// Overwrites the 8 bytes of device memory at `dst` with `value` (corrupt_for_test).
void write_device_word(void* dst, double value) {
    check(cudaMemcpy(dst, &value, sizeof value, cudaMemcpyHostToDevice), "corrupt");
}

}  // namespace

const char* device_mem_op_name(DeviceMemOp op) {
    switch (op) {
        case DeviceMemOp::copy:
            return "copy";
        case DeviceMemOp::read:
            return "read";
        case DeviceMemOp::write:
            return "write";
    }
    return "?";
}

const char* transfer_direction_name(TransferDirection direction) {
    switch (direction) {
        case TransferDirection::h2d:
            return "h2d";
        case TransferDirection::d2h:
            return "d2h";
        case TransferDirection::bidir:
            return "bidir";
    }
    return "?";
}

// ---------------------------------------------------------------------------------------------
// DeviceMemory

struct DeviceMemory::Impl {
    int device = 0;
    DeviceMemOp op = DeviceMemOp::copy;
    std::size_t n = 0;
    unsigned blocks = 0;
    double* a = nullptr;  // input of copy/read, output of write
    double* b = nullptr;  // output of copy
    double* sum = nullptr;
    unsigned long long* reference = nullptr;
    VerifyState* state = nullptr;
    cudaStream_t stream = nullptr;
    cudaEvent_t start = nullptr;
    cudaEvent_t stop = nullptr;

    // Frees whatever the constructor got to, also when it threw half-way.
    ~Impl() {
        cudaSetDevice(device);
        cudaFree(a);
        cudaFree(b);
        cudaFree(sum);
        cudaFree(reference);
        cudaFree(state);
        destroy_events_and_streams({start, stop}, {stream});
    }
};

DeviceMemory::DeviceMemory(int device, DeviceMemOp op, std::size_t elements)
    : impl_(std::make_unique<Impl>()) {
    Impl& m = *impl_;
    m.device = device;
    m.op = op;
    m.n = elements;
    if (elements == 0) {
        throw Error("gpu.mem: zero elements requested");
    }
    if (op == DeviceMemOp::read && elements > kMaxReadElements) {
        throw Error("gpu.mem read: " + std::to_string(elements) +
                    " elements exceed the exact-sum limit of 2^32 - 1");
    }
    check(cudaSetDevice(device), "cudaSetDevice");
    m.blocks = blocks_for(device, elements);
    check(cudaStreamCreateWithFlags(&m.stream, cudaStreamNonBlocking), "cudaStreamCreate");
    check(cudaEventCreate(&m.start), "cudaEventCreate");
    check(cudaEventCreate(&m.stop), "cudaEventCreate");
    check(cudaMalloc(&m.a, elements * sizeof(double)), "cudaMalloc a");
    check(cudaMalloc(&m.state, sizeof(VerifyState)), "cudaMalloc state");
    switch (op) {
        case DeviceMemOp::copy:
            check(cudaMalloc(&m.b, elements * sizeof(double)), "cudaMalloc b");
            init_input_kernel<<<m.blocks, kThreadsPerBlock, 0, m.stream>>>(m.a, m.n);
            check(cudaGetLastError(), "init kernel launch");
            fill_kernel<<<m.blocks, kThreadsPerBlock, 0, m.stream>>>(m.b, m.n, kUnwritten);
            break;
        case DeviceMemOp::read:
            check(cudaMalloc(&m.sum, sizeof(double)), "cudaMalloc sum");
            check(cudaMalloc(&m.reference, sizeof(unsigned long long)), "cudaMalloc reference");
            init_input_kernel<<<m.blocks, kThreadsPerBlock, 0, m.stream>>>(m.a, m.n);
            check(cudaGetLastError(), "init kernel launch");
            fill_kernel<<<1, 1, 0, m.stream>>>(m.sum, 1, kUnwritten);
            break;
        case DeviceMemOp::write:
            fill_kernel<<<m.blocks, kThreadsPerBlock, 0, m.stream>>>(m.a, m.n, kUnwritten);
            break;
    }
    check(cudaGetLastError(), "init kernel launch");
    check(cudaStreamSynchronize(m.stream), "init kernel");
}

DeviceMemory::~DeviceMemory() = default;

double DeviceMemory::run_seconds() {
    Impl& m = *impl_;
    check(cudaSetDevice(m.device), "cudaSetDevice");
    if (m.op == DeviceMemOp::read) {
        // Outside the timed region: the sum accumulates into a zeroed double.
        check(cudaMemsetAsync(m.sum, 0, sizeof(double), m.stream), "cudaMemsetAsync");
    }
    check(cudaEventRecord(m.start, m.stream), "cudaEventRecord");
    switch (m.op) {
        case DeviceMemOp::copy:
            copy_kernel<<<m.blocks, kThreadsPerBlock, 0, m.stream>>>(m.b, m.a, m.n);
            break;
        case DeviceMemOp::read:
            read_kernel<<<m.blocks, kThreadsPerBlock, 0, m.stream>>>(m.a, m.n, m.sum);
            break;
        case DeviceMemOp::write:
            fill_kernel<<<m.blocks, kThreadsPerBlock, 0, m.stream>>>(m.a, m.n, kFillValue);
            break;
    }
    check(cudaGetLastError(), "gpu.mem kernel launch");
    check(cudaEventRecord(m.stop, m.stream), "cudaEventRecord");
    return static_cast<double>(synced_elapsed_ms(m.start, m.stop, "gpu.mem kernel")) * 1e-3;
}

bool DeviceMemory::verify(std::string& detail) {
    Impl& m = *impl_;
    check(cudaSetDevice(m.device), "cudaSetDevice");
    const std::string count = std::to_string(m.n);
    if (m.op == DeviceMemOp::read) {
        check(cudaMemsetAsync(m.reference, 0, sizeof(unsigned long long), m.stream), "memset");
        fraction_sum_kernel<<<m.blocks, kThreadsPerBlock, 0, m.stream>>>(m.n, m.reference);
        check(cudaGetLastError(), "reference kernel launch");
        double got = 0;
        unsigned long long fractions = 0;
        check(cudaMemcpyAsync(&got, m.sum, sizeof got, cudaMemcpyDeviceToHost, m.stream),
              "read sum");
        check(cudaMemcpyAsync(&fractions, m.reference, sizeof fractions, cudaMemcpyDeviceToHost,
                              m.stream),
              "read reference");
        check(cudaStreamSynchronize(m.stream), "reference kernel");
        // n * 2^20 + fractions < 2^53: exact as a double, so `expected` is exact too.
        const auto scaled = (static_cast<std::uint64_t>(m.n) << kFractionBits) +
                            static_cast<std::uint64_t>(fractions);
        const double expected = static_cast<double>(scaled) * kFractionUnit;
        if (got == expected) {
            detail = "sum of " + count +
                     " inputs (1 + k*2^-20, exact in fp64 in any order) equals the integer "
                     "reference " +
                     fmt_double(expected) + " exactly (tolerance 0)";
            return true;
        }
        detail = "sum of " + count + " inputs is " + fmt_double(got) + ", expected exactly " +
                 fmt_double(expected) + " (difference " + fmt_double(got - expected) + ")";
        return false;
    }
    const double* out = m.op == DeviceMemOp::copy ? m.b : m.a;
    run_verify_reset(m.state, m.stream);
    if (m.op == DeviceMemOp::copy) {
        verify_copy_kernel<<<m.blocks, kThreadsPerBlock, 0, m.stream>>>(out, m.n, m.state);
    } else {
        verify_fill_kernel<<<m.blocks, kThreadsPerBlock, 0, m.stream>>>(out, m.n, kFillValue,
                                                                        m.state);
    }
    check(cudaGetLastError(), "verify kernel launch");
    const VerifyState st = read_verify_state(m.state, m.stream);
    const char* what = m.op == DeviceMemOp::copy ? "b = a (seeded inputs)" : "a = fill value";
    if (st.bad == 0) {
        detail = "checked " + count + " of " + count + " elements of " + what +
                 " on the device, bit-exact (tolerance 0)";
        return true;
    }
    double got = 0;
    check(cudaMemcpy(&got, out + st.first_bad, sizeof got, cudaMemcpyDeviceToHost), "read back");
    const double expected = m.op == DeviceMemOp::copy ? input_of(st.first_bad) : kFillValue;
    detail = std::to_string(st.bad) + " of " + count + " elements of " + what +
             " wrong; first at index " + std::to_string(st.first_bad) + ": expected " +
             fmt_double(expected) + ", got " + fmt_double(got);
    return false;
}

void DeviceMemory::corrupt_for_test(std::size_t index, double value) {
    Impl& m = *impl_;
    require_test_index(index, m.n);
    check(cudaSetDevice(m.device), "cudaSetDevice");
    double* target = m.op == DeviceMemOp::copy ? m.b : m.a;
    write_device_word(target + index, value);
}

std::string DeviceMemory::description() const {
    const Impl& m = *impl_;
    return std::string("grid-stride fp64 ") + device_mem_op_name(m.op) + " kernel, " +
           std::to_string(m.blocks) + " blocks x " + std::to_string(kThreadsPerBlock) + " threads" +
           (m.op == DeviceMemOp::read ? ", warp-shuffle + atomicAdd reduction" : "");
}

// ---------------------------------------------------------------------------------------------
// HostTransfer

struct HostTransfer::Impl {
    int device = 0;
    TransferDirection direction = TransferDirection::h2d;
    std::uint64_t* host_src = nullptr;  // registered when non-null after construction
    std::uint64_t* host_dst = nullptr;
    bool src_registered = false;
    bool dst_registered = false;
    std::size_t bytes = 0;
    std::size_t words = 0;
    unsigned blocks = 0;
    std::uint64_t* dev_dst = nullptr;  // receives h2d
    std::uint64_t* dev_src = nullptr;  // source of d2h
    VerifyState* state = nullptr;
    cudaStream_t h2d_stream = nullptr;
    cudaStream_t d2h_stream = nullptr;
    cudaEvent_t start = nullptr;
    cudaEvent_t h2d_stop = nullptr;
    cudaEvent_t d2h_stop = nullptr;

    bool does_h2d() const { return direction != TransferDirection::d2h; }
    bool does_d2h() const { return direction != TransferDirection::h2d; }

    ~Impl() {
        cudaSetDevice(device);
        if (src_registered) {
            cudaHostUnregister(host_src);
        }
        if (dst_registered) {
            cudaHostUnregister(host_dst);
        }
        cudaFree(dev_dst);
        cudaFree(dev_src);
        cudaFree(state);
        destroy_events_and_streams({start, h2d_stop, d2h_stop}, {h2d_stream, d2h_stream});
    }
};

HostTransfer::HostTransfer(int device, TransferDirection direction, void* host_src, void* host_dst,
                           std::size_t bytes)
    : impl_(std::make_unique<Impl>()) {
    Impl& m = *impl_;
    m.device = device;
    m.direction = direction;
    m.bytes = bytes;
    m.words = bytes / sizeof(std::uint64_t);
    if (bytes == 0 || bytes % sizeof(std::uint64_t) != 0) {
        throw Error("gpu.transfer: size " + std::to_string(bytes) +
                    " bytes is not a positive multiple of 8");
    }
    if ((m.does_h2d() && host_src == nullptr) || (m.does_d2h() && host_dst == nullptr)) {
        throw Error(std::string("gpu.transfer ") + transfer_direction_name(direction) +
                    ": missing host buffer");
    }
    check(cudaSetDevice(device), "cudaSetDevice");
    m.blocks = blocks_for(device, m.words);
    check(cudaEventCreate(&m.start), "cudaEventCreate");
    check(cudaEventCreate(&m.h2d_stop), "cudaEventCreate");
    check(cudaEventCreate(&m.d2h_stop), "cudaEventCreate");
    // Non-blocking streams: no implicit synchronisation with the legacy default stream.
    check(cudaStreamCreateWithFlags(&m.h2d_stream, cudaStreamNonBlocking), "cudaStreamCreate");
    check(cudaStreamCreateWithFlags(&m.d2h_stream, cudaStreamNonBlocking), "cudaStreamCreate");
    check(cudaMalloc(&m.state, sizeof(VerifyState)), "cudaMalloc state");
    if (m.does_h2d()) {
        m.host_src = static_cast<std::uint64_t*>(host_src);
        for (std::size_t i = 0; i < m.words; ++i) {
            m.host_src[i] = pattern_word(kH2dSeed, i);
        }
        // Page-locks the caller's NUMA-placed pages where they are (no copy, no migration).
        check(cudaHostRegister(m.host_src, bytes, cudaHostRegisterPortable),
              "cudaHostRegister (h2d source)");
        m.src_registered = true;
        check(cudaMalloc(&m.dev_dst, bytes), "cudaMalloc h2d destination");
        check(cudaMemsetAsync(m.dev_dst, 0, bytes, m.h2d_stream), "cudaMemsetAsync");
    }
    if (m.does_d2h()) {
        m.host_dst = static_cast<std::uint64_t*>(host_dst);
        std::memset(m.host_dst, 0, bytes);
        check(cudaHostRegister(m.host_dst, bytes, cudaHostRegisterPortable),
              "cudaHostRegister (d2h destination)");
        m.dst_registered = true;
        check(cudaMalloc(&m.dev_src, bytes), "cudaMalloc d2h source");
        fill_pattern_kernel<<<m.blocks, kThreadsPerBlock, 0, m.d2h_stream>>>(m.dev_src, m.words,
                                                                             kD2hSeed);
        check(cudaGetLastError(), "pattern kernel launch");
    }
    check(cudaStreamSynchronize(m.h2d_stream), "transfer init");
    check(cudaStreamSynchronize(m.d2h_stream), "transfer init");
}

HostTransfer::~HostTransfer() = default;

double HostTransfer::run_seconds() {
    Impl& m = *impl_;
    check(cudaSetDevice(m.device), "cudaSetDevice");
    cudaStream_t first = m.does_h2d() ? m.h2d_stream : m.d2h_stream;
    check(cudaEventRecord(m.start, first), "cudaEventRecord");
    if (m.direction == TransferDirection::bidir) {
        // Both copies start after the one start event, so the elapsed time spans both.
        check(cudaStreamWaitEvent(m.d2h_stream, m.start, 0), "cudaStreamWaitEvent");
    }
    if (m.does_h2d()) {
        check(cudaMemcpyAsync(m.dev_dst, m.host_src, m.bytes, cudaMemcpyHostToDevice, m.h2d_stream),
              "cudaMemcpyAsync h2d");
        check(cudaEventRecord(m.h2d_stop, m.h2d_stream), "cudaEventRecord");
    }
    if (m.does_d2h()) {
        check(cudaMemcpyAsync(m.host_dst, m.dev_src, m.bytes, cudaMemcpyDeviceToHost, m.d2h_stream),
              "cudaMemcpyAsync d2h");
        check(cudaEventRecord(m.d2h_stop, m.d2h_stream), "cudaEventRecord");
    }
    float ms = 0;
    if (m.does_h2d()) {
        ms = synced_elapsed_ms(m.start, m.h2d_stop, "h2d transfer");
    }
    if (m.does_d2h()) {
        const float d2h_ms = synced_elapsed_ms(m.start, m.d2h_stop, "d2h transfer");
        ms = d2h_ms > ms ? d2h_ms : ms;
    }
    return static_cast<double>(ms) * 1e-3;
}

bool HostTransfer::verify(std::string& detail) {
    Impl& m = *impl_;
    check(cudaSetDevice(m.device), "cudaSetDevice");
    const std::string count = std::to_string(m.words);
    std::string checked;
    std::string failures;
    if (m.does_h2d()) {
        const std::string bad = verify_device_pattern(m.dev_dst, m.words, kH2dSeed, m.blocks,
                                                      m.state, m.h2d_stream, "h2d");
        failures += bad;
        checked += "h2d: all " + count + " 8-byte words in device memory (checked on the device)";
    }
    if (m.does_d2h()) {
        std::size_t bad = 0;
        std::size_t first_bad = 0;
        for (std::size_t i = 0; i < m.words; ++i) {
            if (m.host_dst[i] != pattern_word(kD2hSeed, i)) {
                if (bad == 0) {
                    first_bad = i;
                }
                ++bad;
            }
        }
        if (bad != 0) {
            failures += std::string(failures.empty() ? "" : "; ") + "d2h: " + std::to_string(bad) +
                        " of " + count + " words wrong; first at index " +
                        std::to_string(first_bad) + ": expected " +
                        hex64(pattern_word(kD2hSeed, first_bad)) + ", got " +
                        hex64(m.host_dst[first_bad]);
        }
        checked += std::string(checked.empty() ? "" : "; ") + "d2h: all " + count +
                   " 8-byte words in host memory (checked on the host)";
    }
    if (failures.empty()) {
        detail = checked + ", against the seeded pattern, bit-exact";
        return true;
    }
    detail = failures;
    return false;
}

void HostTransfer::corrupt_for_test(std::size_t index, double value) {
    Impl& m = *impl_;
    require_test_index(index, m.words);
    check(cudaSetDevice(m.device), "cudaSetDevice");
    if (m.does_h2d()) {
        write_device_word(m.dev_dst + index, value);
    } else {
        std::memcpy(m.host_dst + index, &value, sizeof value);
    }
}

// ---------------------------------------------------------------------------------------------
// PeerCopy

struct PeerCopy::Impl {
    int src = 0;
    int dst = 0;
    std::size_t bytes = 0;
    std::size_t words = 0;
    unsigned dst_blocks = 0;
    std::uint64_t* src_buf = nullptr;
    std::uint64_t* dst_buf = nullptr;
    VerifyState* state = nullptr;   // on dst
    cudaStream_t stream = nullptr;  // on src: the copy and its events
    cudaStream_t dst_stream = nullptr;
    cudaEvent_t start = nullptr;
    cudaEvent_t stop = nullptr;
    bool peer = false;
    bool enabled_forward = false;  // enabled here (so disabled again in the destructor)
    bool enabled_reverse = false;

    ~Impl() {
        if (cudaSetDevice(src) == cudaSuccess) {
            if (enabled_forward) {
                cudaDeviceDisablePeerAccess(dst);
            }
            cudaFree(src_buf);
            destroy_events_and_streams({start, stop}, {stream});
        }
        if (cudaSetDevice(dst) == cudaSuccess) {
            if (enabled_reverse) {
                cudaDeviceDisablePeerAccess(src);
            }
            cudaFree(dst_buf);
            cudaFree(state);
            destroy_events_and_streams({}, {dst_stream});
        }
    }
};

namespace {

/// Enables access from the current device to `peer`. Returns whether *this call* enabled it
/// (false when it was already enabled, so the destructor leaves it as it found it).
bool enable_peer(int peer) {
    const cudaError_t e = cudaDeviceEnablePeerAccess(peer, 0);
    if (e == cudaErrorPeerAccessAlreadyEnabled) {
        cudaGetLastError();  // clear the sticky-until-read error state
        return false;
    }
    check(e, "cudaDeviceEnablePeerAccess");
    return true;
}

}  // namespace

PeerCopy::PeerCopy(int src_device, int dst_device, std::size_t bytes)
    : impl_(std::make_unique<Impl>()) {
    Impl& m = *impl_;
    m.src = src_device;
    m.dst = dst_device;
    m.bytes = bytes;
    m.words = bytes / sizeof(std::uint64_t);
    if (bytes == 0 || bytes % sizeof(std::uint64_t) != 0) {
        throw Error("gpu.d2d: size " + std::to_string(bytes) +
                    " bytes is not a positive multiple of 8");
    }
    if (src_device == dst_device) {
        throw Error("gpu.d2d: source and destination are both device " +
                    std::to_string(src_device));
    }
    int forward = 0;
    int reverse = 0;
    check(cudaDeviceCanAccessPeer(&forward, src_device, dst_device), "cudaDeviceCanAccessPeer");
    check(cudaDeviceCanAccessPeer(&reverse, dst_device, src_device), "cudaDeviceCanAccessPeer");

    check(cudaSetDevice(dst_device), "cudaSetDevice (destination)");
    m.dst_blocks = blocks_for(dst_device, m.words);
    check(cudaStreamCreateWithFlags(&m.dst_stream, cudaStreamNonBlocking), "cudaStreamCreate");
    check(cudaMalloc(&m.dst_buf, bytes), "cudaMalloc d2d destination");
    check(cudaMalloc(&m.state, sizeof(VerifyState)), "cudaMalloc state");
    check(cudaMemsetAsync(m.dst_buf, 0, bytes, m.dst_stream), "cudaMemsetAsync");
    if (reverse != 0) {
        m.enabled_reverse = enable_peer(src_device);
    }
    check(cudaStreamSynchronize(m.dst_stream), "d2d init (destination)");

    check(cudaSetDevice(src_device), "cudaSetDevice (source)");
    const unsigned src_blocks = blocks_for(src_device, m.words);
    check(cudaStreamCreateWithFlags(&m.stream, cudaStreamNonBlocking), "cudaStreamCreate");
    check(cudaEventCreate(&m.start), "cudaEventCreate");
    check(cudaEventCreate(&m.stop), "cudaEventCreate");
    check(cudaMalloc(&m.src_buf, bytes), "cudaMalloc d2d source");
    fill_pattern_kernel<<<src_blocks, kThreadsPerBlock, 0, m.stream>>>(m.src_buf, m.words,
                                                                       kPeerSeed);
    check(cudaGetLastError(), "pattern kernel launch");
    if (forward != 0) {
        m.enabled_forward = enable_peer(dst_device);
        m.peer = true;
    }
    check(cudaStreamSynchronize(m.stream), "d2d init (source)");
}

PeerCopy::~PeerCopy() = default;

double PeerCopy::run_seconds() {
    Impl& m = *impl_;
    check(cudaSetDevice(m.src), "cudaSetDevice");
    check(cudaEventRecord(m.start, m.stream), "cudaEventRecord");
    check(cudaMemcpyPeerAsync(m.dst_buf, m.dst, m.src_buf, m.src, m.bytes, m.stream),
          "cudaMemcpyPeerAsync");
    check(cudaEventRecord(m.stop, m.stream), "cudaEventRecord");
    return static_cast<double>(synced_elapsed_ms(m.start, m.stop, "d2d copy")) * 1e-3;
}

bool PeerCopy::verify(std::string& detail) {
    Impl& m = *impl_;
    check(cudaSetDevice(m.dst), "cudaSetDevice");
    const std::string bad = verify_device_pattern(m.dst_buf, m.words, kPeerSeed, m.dst_blocks,
                                                  m.state, m.dst_stream, "d2d");
    if (bad.empty()) {
        detail = "checked all " + std::to_string(m.words) + " 8-byte words on device " +
                 std::to_string(m.dst) + " against the seeded pattern, bit-exact";
        return true;
    }
    detail = bad;
    return false;
}

void PeerCopy::corrupt_for_test(std::size_t index, double value) {
    Impl& m = *impl_;
    require_test_index(index, m.words);
    check(cudaSetDevice(m.dst), "cudaSetDevice");
    write_device_word(m.dst_buf + index, value);
}

bool PeerCopy::peer_access() const {
    return impl_->peer;
}

}  // namespace assay::cuda
