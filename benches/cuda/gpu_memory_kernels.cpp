#include "benches/cuda/gpu_memory_kernels.hpp"

#include <fmt/format.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "benches/cpu/numa_memory.hpp"
#include "core/error.hpp"

namespace assay {
namespace {

/// Runs a verification and turns a CUDA error during it into a failed verification.
template <typename Check>
Verification verified(Check&& check) {
    Verification v;
    try {
        v.ok = check(v.detail);
    } catch (const Error& e) {
        v.ok = false;
        v.detail = e.what();
    }
    return v;
}

void require_prepared(const void* state, const char* what) {
    if (state == nullptr) {
        throw UsageError(fmt::format("{}: run() or verify() before prepare()", what));
    }
}

}  // namespace

// ---------------------------------------------------------------------------------------------

CudaDeviceMemoryKernel::CudaDeviceMemoryKernel(int device, cuda::DeviceMemOp op,
                                               std::size_t elements)
    : device_(device), op_(op), elements_(elements) {}

CudaDeviceMemoryKernel::~CudaDeviceMemoryKernel() = default;

void CudaDeviceMemoryKernel::prepare() {
    memory_ = std::make_unique<cuda::DeviceMemory>(device_, op_, elements_);
}

void CudaDeviceMemoryKernel::run() {
    require_prepared(memory_.get(), "gpu.mem");
    last_seconds_ = memory_->run_seconds();
}

Verification CudaDeviceMemoryKernel::verify() {
    require_prepared(memory_.get(), "gpu.mem");
    return verified([&](std::string& detail) { return memory_->verify(detail); });
}

WorkModel CudaDeviceMemoryKernel::work() const {
    const auto n = static_cast<double>(elements_);
    WorkModel w;
    switch (op_) {
        case cuda::DeviceMemOp::copy:
            w.bytes_stream = 16 * n;
            break;
        case cuda::DeviceMemOp::read:
            w.bytes_stream = 8 * n;
            w.flops = n;  // one add per element, as the CPU stream.sum counts it
            break;
        case cuda::DeviceMemOp::write:
            w.bytes_stream = 8 * n;
            break;
    }
    w.bytes_write_allocate = w.bytes_stream;
    return w;
}

std::string CudaDeviceMemoryKernel::implementation() const {
    return memory_ ? memory_->description() : std::string{};
}

void CudaDeviceMemoryKernel::corrupt_for_test(std::size_t index, double value) {
    require_prepared(memory_.get(), "gpu.mem");
    memory_->corrupt_for_test(index, value);
}

// ---------------------------------------------------------------------------------------------

/// Page-aligned anonymous memory (mmap), untouched until the owner touches it, so a NUMA binding
/// set before first touch decides where its pages land.
class CudaHostTransferKernel::HostBuffer {
  public:
    explicit HostBuffer(std::size_t bytes);
    ~HostBuffer();
    HostBuffer(const HostBuffer&) = delete;
    HostBuffer& operator=(const HostBuffer&) = delete;
    void* data() const { return data_; }

  private:
    void* data_ = nullptr;
    std::size_t bytes_ = 0;
};

CudaHostTransferKernel::HostBuffer::HostBuffer(std::size_t bytes) : bytes_(bytes) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        const int err = errno;
        throw Error(
            fmt::format("cannot map {} bytes of host memory: {}", bytes, std::strerror(err)));
    }
    data_ = p;
}

CudaHostTransferKernel::HostBuffer::~HostBuffer() {
    if (data_ != nullptr) {
        munmap(data_, bytes_);
    }
}

CudaHostTransferKernel::CudaHostTransferKernel(int device, cuda::TransferDirection direction,
                                               unsigned host_node, std::size_t bytes,
                                               bool bind_to_node)
    : device_(device),
      direction_(direction),
      host_node_(host_node),
      bytes_(bytes),
      bind_(bind_to_node) {}

CudaHostTransferKernel::~CudaHostTransferKernel() = default;

void CudaHostTransferKernel::prepare() {
    transfer_.reset();
    auto placed_buffer = [&](const char* role) {
        auto buffer = std::make_unique<HostBuffer>(bytes_);
        if (bind_) {
            bind_memory_to_numa_node(buffer->data(), bytes_, host_node_);
        }
        // First touch under the binding; then check where the pages really are (first, middle,
        // last page): a "remote" result whose pages sit next to the GPU would be a wrong answer.
        std::memset(buffer->data(), 0x5A, bytes_);
        const auto* base = static_cast<const unsigned char*>(buffer->data());
        for (const std::size_t offset : {std::size_t{0}, bytes_ / 2, bytes_ - 1}) {
            const std::optional<unsigned> node = numa_node_of_page(base + offset);
            if (node.has_value() && *node != host_node_) {
                throw Error(fmt::format(
                    "gpu.transfer {} buffer: page at offset {} is on NUMA node {}, not on the "
                    "requested node {}",
                    role, offset, *node, host_node_));
            }
            if (node.has_value()) {
                observed_node_ = node;
            }
        }
        return buffer;
    };
    const bool h2d = direction_ != cuda::TransferDirection::d2h;
    const bool d2h = direction_ != cuda::TransferDirection::h2d;
    host_src_ = h2d ? placed_buffer("source") : nullptr;
    host_dst_ = d2h ? placed_buffer("destination") : nullptr;
    transfer_ = std::make_unique<cuda::HostTransfer>(
        device_, direction_, host_src_ ? host_src_->data() : nullptr,
        host_dst_ ? host_dst_->data() : nullptr, bytes_);
}

void CudaHostTransferKernel::run() {
    require_prepared(transfer_.get(), "gpu.transfer");
    last_seconds_ = transfer_->run_seconds();
}

Verification CudaHostTransferKernel::verify() {
    require_prepared(transfer_.get(), "gpu.transfer");
    return verified([&](std::string& detail) { return transfer_->verify(detail); });
}

WorkModel CudaHostTransferKernel::work() const {
    const double moved =
        static_cast<double>(bytes_) * (direction_ == cuda::TransferDirection::bidir ? 2.0 : 1.0);
    WorkModel w;
    w.bytes_stream = moved;
    w.bytes_write_allocate = moved;
    return w;
}

std::vector<Metric> CudaHostTransferKernel::extra_metrics() const {
    if (!observed_node_.has_value()) {
        return {};
    }
    return {Metric{"host_buffer_numa_node", static_cast<double>(*observed_node_), "node",
                   Direction::none}};
}

std::string CudaHostTransferKernel::implementation() const {
    const std::string how =
        direction_ == cuda::TransferDirection::bidir
            ? "cudaMemcpyAsync h2d and d2h concurrently on two streams"
            : fmt::format("cudaMemcpyAsync {}", cuda::transfer_direction_name(direction_));
    return fmt::format(
        "{}, host buffers mmap'd, bound to NUMA node {}, page-locked with "
        "cudaHostRegister",
        how, host_node_);
}

void CudaHostTransferKernel::corrupt_for_test(std::size_t index, double value) {
    require_prepared(transfer_.get(), "gpu.transfer");
    transfer_->corrupt_for_test(index, value);
}

// ---------------------------------------------------------------------------------------------

CudaPeerCopyKernel::CudaPeerCopyKernel(int src_device, int dst_device, std::size_t bytes)
    : src_(src_device), dst_(dst_device), bytes_(bytes) {}

CudaPeerCopyKernel::~CudaPeerCopyKernel() = default;

void CudaPeerCopyKernel::prepare() {
    copy_.reset();
    copy_ = std::make_unique<cuda::PeerCopy>(src_, dst_, bytes_);
}

void CudaPeerCopyKernel::run() {
    require_prepared(copy_.get(), "gpu.d2d");
    last_seconds_ = copy_->run_seconds();
}

Verification CudaPeerCopyKernel::verify() {
    require_prepared(copy_.get(), "gpu.d2d");
    return verified([&](std::string& detail) { return copy_->verify(detail); });
}

WorkModel CudaPeerCopyKernel::work() const {
    WorkModel w;
    w.bytes_stream = static_cast<double>(bytes_);
    w.bytes_write_allocate = w.bytes_stream;
    return w;
}

std::vector<Metric> CudaPeerCopyKernel::extra_metrics() const {
    if (!copy_) {
        return {};
    }
    return {Metric{"p2p", copy_->peer_access() ? 1.0 : 0.0, "flag", Direction::none}};
}

std::string CudaPeerCopyKernel::implementation() const {
    if (!copy_) {
        return {};
    }
    return copy_->peer_access()
               ? "cudaMemcpyPeerAsync, p2p=yes (peer access enabled)"
               : "cudaMemcpyPeerAsync, p2p=no (no peer access: the driver stages the copy "
                 "through host memory)";
}

void CudaPeerCopyKernel::corrupt_for_test(std::size_t index, double value) {
    require_prepared(copy_.get(), "gpu.d2d");
    copy_->corrupt_for_test(index, value);
}

}  // namespace assay
