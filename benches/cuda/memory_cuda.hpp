#pragma once
/// GPU memory benchmarks behind a C++17-clean interface (compiled by nvcc; no CUDA type appears
/// here): device-memory kernels (copy, read, write), host<->device transfers between pinned host
/// buffers and device memory, and device-to-device copies between two GPUs. Every operation is
/// timed with CUDA events on its own stream; every output is checked in full against values
/// regenerated from their seed (never read back from the source buffer). CUDA failures throw
/// assay::Error naming the call and carrying cudaGetErrorString's text.
#include <cstddef>
#include <memory>
#include <string>

namespace assay::cuda {

/// The device-memory kernels of gpu.mem (triad is stream.triad placement=device, elsewhere).
enum class DeviceMemOp {
    copy,   ///< b[i] = a[i]: 8 B read + 8 B written per element
    read,   ///< s = sum(a): 8 B read per element (one double result)
    write,  ///< a[i] = fill value: 8 B written per element
};

/// "copy", "read", "write".
const char* device_mem_op_name(DeviceMemOp op);

/// Grid-stride fp64 kernel on one device's memory.
class DeviceMemory {
  public:
    /// Allocates the op's arrays of `elements` doubles on `device` and initialises them on the
    /// device (a = 1 + hash(i) * 2^-10-granular values, outputs = -1). Throws Error on failure.
    DeviceMemory(int device, DeviceMemOp op, std::size_t elements);
    ~DeviceMemory();
    DeviceMemory(const DeviceMemory&) = delete;
    DeviceMemory& operator=(const DeviceMemory&) = delete;

    /// One blocking execution; returns its duration from CUDA events, in seconds.
    double run_seconds();
    /// Checks the last run's output (every element for copy/write; the exact sum for read)
    /// on the device; fills `detail` and returns true when correct.
    bool verify(std::string& detail);
    /// copy/write: overwrites output element `index`. read: overwrites input element `index`,
    /// so the *next* run's sum is wrong. For tests of the verification path.
    void corrupt_for_test(std::size_t index, double value);
    /// Launch shape, e.g. "grid-stride fp64 copy, 4224 blocks x 256 threads".
    std::string description() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// Direction of a host<->device transfer.
enum class TransferDirection {
    h2d,    ///< host -> device
    d2h,    ///< device -> host
    bidir,  ///< both at once on two streams
};

/// "h2d", "d2h", "bidir".
const char* transfer_direction_name(TransferDirection direction);

/// cudaMemcpyAsync between caller-owned host buffers (already placed on the wanted NUMA node and
/// touched) and device memory. The host buffers are page-locked here with cudaHostRegister and
/// unregistered in the destructor; they must outlive this object.
class HostTransfer {
  public:
    /// `host_src` (read by h2d; needed for h2d and bidir) and `host_dst` (written by d2h; needed
    /// for d2h and bidir) are `bytes` long (a multiple of 8); the one a direction does not use
    /// may be null. Fills host_src with the seeded pattern and the device source on the device.
    HostTransfer(int device, TransferDirection direction, void* host_src, void* host_dst,
                 std::size_t bytes);
    ~HostTransfer();
    HostTransfer(const HostTransfer&) = delete;
    HostTransfer& operator=(const HostTransfer&) = delete;

    /// One blocking transfer (bidir: both copies, each on its own stream, started together);
    /// seconds from the start event to the last stop event.
    double run_seconds();
    /// h2d: every word of device memory against the pattern (on the device). d2h: every word of
    /// host_dst against the pattern (on the host). bidir: both.
    bool verify(std::string& detail);
    /// Overwrites 8-byte word `index` of what the last run delivered (device memory for h2d and
    /// bidir, host_dst for d2h). For tests of the verification path.
    void corrupt_for_test(std::size_t index, double value);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// cudaMemcpyPeerAsync of `bytes` from device `src` to device `dst`, with peer access enabled
/// (both ways) when cudaDeviceCanAccessPeer allows it; otherwise the driver stages the copy.
class PeerCopy {
  public:
    PeerCopy(int src_device, int dst_device, std::size_t bytes);
    ~PeerCopy();
    PeerCopy(const PeerCopy&) = delete;
    PeerCopy& operator=(const PeerCopy&) = delete;

    /// One blocking copy; seconds from CUDA events on a stream of the source device.
    double run_seconds();
    /// Every word of the destination against the pattern, on the destination device.
    bool verify(std::string& detail);
    /// Overwrites destination word `index` (tests of the verification path).
    void corrupt_for_test(std::size_t index, double value);
    /// True when peer access src -> dst is enabled, so the copy goes directly (NVLink/PCIe P2P).
    bool peer_access() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace assay::cuda
