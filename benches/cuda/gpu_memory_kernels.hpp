#pragma once
/// GPU memory benchmarks as Kernels (device-timed with CUDA events). Built only with CUDA; the
/// CUDA code sits behind benches/cuda/memory_cuda.hpp (plain C++17, no CUDA types).
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "benches/cuda/memory_cuda.hpp"
#include "benches/kernel.hpp"

namespace assay {

/// gpu.mem: copy / read (sum) / write (fill) over `elements` doubles of device memory.
/// Work model: STREAM bytes (copy 16 B, read 8 B, write 8 B per element); GPUs do not
/// read-for-ownership from DRAM on a full-sector store, so bytes_write_allocate = bytes_stream.
class CudaDeviceMemoryKernel final : public Kernel {
  public:
    CudaDeviceMemoryKernel(int device, cuda::DeviceMemOp op, std::size_t elements);
    ~CudaDeviceMemoryKernel() override;
    void prepare() override;
    void run() override;
    Verification verify() override;
    WorkModel work() const override;
    std::optional<double> last_run_seconds() const override { return last_seconds_; }
    std::string implementation() const override;

    /// See cuda::DeviceMemory::corrupt_for_test (after prepare()).
    void corrupt_for_test(std::size_t index, double value);

  private:
    int device_;
    cuda::DeviceMemOp op_;
    std::size_t elements_;
    std::unique_ptr<cuda::DeviceMemory> memory_;
    std::optional<double> last_seconds_;
};

/// gpu.transfer: `bytes` host<->device (bidir: `bytes` each way at once) between pinned host
/// buffers on NUMA node `host_node` and device memory of `device`. prepare() binds (when
/// `bind_to_node`: false on a one-node host, where every page is local anyway and binding may be
/// forbidden, e.g. mbind in containers), touches, checks where the pages landed (Error if not on
/// `host_node`) and page-locks them.
/// Work model: bytes moved (bidir counts both directions), bytes_write_allocate = bytes_stream.
class CudaHostTransferKernel final : public Kernel {
  public:
    CudaHostTransferKernel(int device, cuda::TransferDirection direction, unsigned host_node,
                           std::size_t bytes, bool bind_to_node = true);
    ~CudaHostTransferKernel() override;
    void prepare() override;
    void run() override;
    Verification verify() override;
    WorkModel work() const override;
    std::optional<double> last_run_seconds() const override { return last_seconds_; }
    /// host_buffer_numa_node: the node holding the host buffer's pages, as the OS reports it
    /// (absent when the OS cannot tell).
    std::vector<Metric> extra_metrics() const override;
    std::string implementation() const override;

    /// See cuda::HostTransfer::corrupt_for_test (after prepare()).
    void corrupt_for_test(std::size_t index, double value);

  private:
    class HostBuffer;  ///< page-aligned mmap'd memory, untouched until bound and touched here
    int device_;
    cuda::TransferDirection direction_;
    unsigned host_node_;
    std::size_t bytes_;
    bool bind_;
    std::unique_ptr<HostBuffer> host_src_;
    std::unique_ptr<HostBuffer> host_dst_;
    std::optional<unsigned> observed_node_;
    std::unique_ptr<cuda::HostTransfer> transfer_;  // destroyed first: unregisters the buffers
    std::optional<double> last_seconds_;
};

/// gpu.d2d: `bytes` from device `src` to device `dst` with cudaMemcpyPeerAsync, peer access
/// enabled when the devices allow it. Work model: bytes copied.
class CudaPeerCopyKernel final : public Kernel {
  public:
    CudaPeerCopyKernel(int src_device, int dst_device, std::size_t bytes);
    ~CudaPeerCopyKernel() override;
    void prepare() override;
    void run() override;
    Verification verify() override;
    WorkModel work() const override;
    std::optional<double> last_run_seconds() const override { return last_seconds_; }
    /// p2p: 1 when the copy went device to device directly (peer access enabled), else 0.
    std::vector<Metric> extra_metrics() const override;
    /// "cudaMemcpyPeerAsync, p2p=yes (...)" or "..., p2p=no (...)".
    std::string implementation() const override;

    /// See cuda::PeerCopy::corrupt_for_test (after prepare()).
    void corrupt_for_test(std::size_t index, double value);

  private:
    int src_;
    int dst_;
    std::size_t bytes_;
    std::unique_ptr<cuda::PeerCopy> copy_;
    std::optional<double> last_seconds_;
};

}  // namespace assay
