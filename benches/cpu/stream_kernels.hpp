#pragma once
/// The STREAM family on the CPU in fp64: copy, scale, add, triad, a read-only sum and a
/// write-only fill, each with regular or non-temporal (cache-bypassing) stores. One contiguous
/// chunk per pinned worker thread, each chunk first-touched by the thread that later streams it.
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "benches/cpu/aligned_buffer.hpp"
#include "benches/kernel.hpp"
#include "benches/thread_team.hpp"

namespace assay {

/// Which STREAM operation a StreamKernel performs (arrays a = output, b and c = inputs).
enum class StreamOp {
    copy,   ///< a = b            (16 B/element STREAM-counted)
    scale,  ///< a = 3 * b        (16 B/element)
    add,    ///< a = b + c        (24 B/element)
    triad,  ///< a = b + 3 * c    (24 B/element)
    sum,    ///< s += b[i]        (8 B/element, read-only: no stores at all)
    fill,   ///< a = 1.25         (8 B/element, write-only)
};

/// How the kernel stores its output.
enum class StoreKind {
    regular,      ///< ordinary stores: each written line is first read for ownership (RFO)
    nontemporal,  ///< streaming stores (x86 MOVNTPD, aarch64 STNP) that avoid the RFO
};

/// "copy", "scale", "add", "triad", "sum", "fill".
std::string_view stream_op_name(StreamOp op);
/// "regular" or "nt" (the catalog's `stores` parameter values).
std::string_view store_kind_name(StoreKind stores);
/// Arrays the operation touches (1 to 3), each of elements_per_array doubles.
unsigned stream_op_arrays(StreamOp op);
/// True when the operation writes an output array (every op except sum).
bool stream_op_writes(StreamOp op);

/// Analytic work of `reps` passes over `elements` elements: bytes_stream uses the STREAM
/// convention (copy/scale 16 B, add/triad 24 B, sum/fill 8 B per element); bytes_write_allocate
/// adds 8 B per written element for the read-for-ownership of regular stores (non-temporal
/// stores avoid it, so there both counts are equal). flops: scale/add/sum 1, triad 2 per element.
WorkModel stream_work_model(StreamOp op, StoreKind stores, std::size_t elements,
                            std::size_t reps = 1);

/// One STREAM operation as a Kernel. Not thread-safe (see Kernel); owns its worker team.
class StreamKernel : public Kernel {
  public:
    /// The scalar of scale (a = s*b) and triad (a = b + s*c).
    static constexpr double kScalar = 3.0;
    /// The value fill writes: non-zero and exactly representable, so verification is exact.
    static constexpr double kFillValue = 1.25;

    /// One worker per PU (OS indices); each array holds elements_per_array doubles; run() makes
    /// `reps` (>= 1) passes so that tiny, cache-resident working sets take a timeable while.
    /// Throws UsageError for sum with non-temporal stores (sum stores nothing) or reps == 0.
    /// With `memory_node` (an OS index), every array is bound to that NUMA node before the
    /// workers first-touch it (the NUMA matrix); without it, pages land where first touch puts
    /// them (NUMA-local to each worker). Nothing is allocated or pinned until prepare().
    StreamKernel(StreamOp op, StoreKind stores, std::vector<unsigned> pu_os_indices,
                 std::size_t elements_per_array, std::size_t reps = 1,
                 std::optional<unsigned> memory_node = std::nullopt);
    ~StreamKernel() override;

    /// Pins the team, allocates the arrays the op needs (2 MiB aligned), binds them to the memory
    /// node if one was given (throws Error when the OS refuses), and lets each worker
    /// first-touch and initialise its own chunk: b = 1 + u, c = 0.5 + u' (u, u' seeded in
    /// [0,1)), output a = -1 (a sentinel that fails verification until run()).
    void prepare() override;
    /// `reps` passes of the operation over all elements, split across the team as in prepare().
    /// Non-temporal variants end with a store fence (x86) so the results are globally visible.
    void run() override;
    /// Checks every output element against the fp64 reference: copy and fill exactly, scale/add/
    /// triad within 4 eps relative (FMA contraction may round once instead of twice); sum against
    /// a Kahan-compensated fp64 sum within 1e-12 relative (the parallel blocked summation order
    /// differs from the reference; its rounding error grows like sqrt(n/32) eps, far below this).
    /// With a memory node, the first and last page of each array must also report that node
    /// (numa_node_of_page; when the OS cannot tell, the detail says placement was unchecked).
    Verification verify() override;
    /// stream_work_model(op, stores, elements, reps).
    WorkModel work() const override;

    /// Half-open element range [begin, end) of worker `index` of `team_size`: chunks are split on
    /// 64-byte (8-double) boundaries so no cache line is shared between workers.
    static std::pair<std::size_t, std::size_t> chunk(std::size_t elements, unsigned index,
                                                     unsigned team_size);

    StreamOp op() const { return op_; }
    StoreKind stores() const { return stores_; }
    std::size_t reps() const { return reps_; }
    /// The OS PU indices of the workers, in worker order.
    const std::vector<unsigned>& pus() const { return pus_; }
    /// Elements in each array.
    std::size_t elements() const { return elements_; }
    /// The NUMA node (OS index) the arrays are bound to, if any.
    std::optional<unsigned> memory_node() const { return memory_node_; }

    /// Test seam: the output (array a; for sum the one-element result), empty before prepare(),
    /// so a test can corrupt it.
    std::span<double> output_for_test();

  private:
    /// The output check of verify(), without the placement check.
    Verification verify_values();

    StreamOp op_;
    StoreKind stores_;
    std::vector<unsigned> pus_;
    std::size_t elements_;
    std::size_t reps_;
    std::optional<unsigned> memory_node_;
    std::unique_ptr<ThreadTeam> team_;
    detail::AlignedBuffer a_, b_, c_;
    std::vector<double> partial_sums_;  ///< one per worker, a cache line apart
    double sum_ = 0;
    bool prepared_ = false;
};

}  // namespace assay
