#pragma once
/// STREAM triad on a CUDA device, behind a C++17-clean interface (compiled by nvcc; no CUDA
/// type appears here). Timing uses CUDA events; verification runs on the device against the
/// analytic inputs (regenerated from their seed, not read back from b and c).
#include <cstddef>
#include <memory>
#include <string>

namespace assay::cuda {

/// Number of CUDA devices, or -1 with `why` set when the runtime cannot be used.
int device_count(std::string& why);

class DeviceTriad {
  public:
    /// Allocates a, b, c of `elements` doubles on `device` and initialises them on the device.
    /// Throws std::runtime_error with the CUDA error on failure.
    DeviceTriad(int device, std::size_t elements);
    ~DeviceTriad();
    DeviceTriad(const DeviceTriad&) = delete;
    DeviceTriad& operator=(const DeviceTriad&) = delete;

    /// One blocking triad a = b + 3*c; returns its duration from CUDA events, in seconds.
    double run_seconds();
    /// Checks every element of a on the device; fills `detail`, returns true when correct.
    bool verify(std::string& detail);
    /// Overwrites one output element (tests of the verification path).
    void corrupt_output_for_test(std::size_t index, double value);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace assay::cuda
