#pragma once
/// STREAM triad on the CPU: a[i] = b[i] + 3 * c[i] in fp64 with regular stores, one contiguous
/// chunk per pinned worker thread. Kept as a name for the original "stream.triad" cases; the
/// implementation is the generic StreamKernel (benches/cpu/stream_kernels.hpp).
#include <cstddef>
#include <vector>

#include "benches/cpu/stream_kernels.hpp"

namespace assay {

class StreamTriadKernel : public StreamKernel {
  public:
    /// One worker per PU (OS indices); each of the three arrays holds elements_per_array doubles.
    /// bytes_stream = 24 N, bytes_write_allocate = 32 N, flops = 2 N per run().
    StreamTriadKernel(std::vector<unsigned> pu_os_indices, std::size_t elements_per_array)
        : StreamKernel(StreamOp::triad, StoreKind::regular, std::move(pu_os_indices),
                       elements_per_array) {}
};

}  // namespace assay
