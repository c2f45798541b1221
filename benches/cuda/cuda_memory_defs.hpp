#pragma once
/// Catalog entries of the GPU memory benchmarks (compiled with and without CUDA; without CUDA
/// or without GPUs every entry is still offered, skipped with the reason):
///  - gpu.mem      {dtype=f64, op=copy|read|write, size=dram} per GPU: grid-stride kernels over
///                 min(2^28 doubles, 1/4 of device memory) per array (the triad's rule; triad
///                 itself is stream.triad placement=device and is not repeated here);
///  - gpu.transfer {direction=h2d|d2h|bidir, host_node=local|remote} per GPU: 256 MiB per
///                 direction between pinned host buffers bound to the GPU's NUMA node (local) or
///                 to the first other node with CPUs and memory (remote);
///  - gpu.d2d      {src=i, dst=j} for every ordered pair of GPUs: 256 MiB cudaMemcpyPeerAsync.
/// Suites: one h2d/local transfer per GPU is in "quick"; everything is in "full".
#include <optional>
#include <string>
#include <vector>

#include "benches/catalog.hpp"
#include "benches/kernel.hpp"
#include "core/host_info.hpp"

namespace assay {

/// Where a GPU's pinned host buffers go for gpu.transfer: a NUMA node (OS index), or why none.
struct TransferHostNode {
    std::optional<unsigned> node;
    std::string skip_reason;  ///< set when node is empty
};

/// local (remote = false): the GPU's NUMA node; with unknown affinity, the only node of a
/// one-node host (unknown on a multi-node host). remote: the first other node with both CPUs
/// and memory (another socket's DRAM); none on a one-node host. Pure: tested on real topologies.
TransferHostNode transfer_host_node(const HostInfo& host, const GpuInfo& gpu, bool remote);

/// Appends the GPU memory benchmarks for `host` to `defs`.
void add_cuda_memory_defs(const HostInfo& host, const CatalogOptions& options,
                          std::vector<BenchmarkDef>& defs);

}  // namespace assay
