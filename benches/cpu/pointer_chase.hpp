#pragma once
/// Memory latency by pointer chasing: a buffer of 64-byte lines, each holding the address of the
/// next line of one uniformly random cycle over all lines (Sattolo's algorithm), so every load
/// depends on the previous one and hardware prefetchers cannot predict the next address.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "benches/kernel.hpp"
#include "benches/thread_team.hpp"

namespace assay {

/// How the chase buffer is backed.
enum class PageMode {
    thp,    ///< transparent huge pages requested (madvise MADV_HUGEPAGE): few TLB misses
    small,  ///< huge pages refused (madvise MADV_NOHUGEPAGE): base pages, TLB misses included
};

/// "thp" or "small" (the catalog's `pages` parameter values).
std::string_view page_mode_name(PageMode pages);

/// Bytes of one chase element: one cache line on every current x86-64 and Arm server core.
inline constexpr std::size_t kChaseLineBytes = 64;
/// Default seed of the chase permutation (fixed, so every run chases the same cycle).
inline constexpr std::uint64_t kDefaultChaseSeed = 0x5eed'c4a5'e000'0001ULL;
/// Default dependent loads per run(): 2^21. At the 0.5 ns lower bound for any load latency a
/// sample lasts >= 1 ms; at DRAM latency (~100 ns) it lasts ~0.2 s. It does not grow with the
/// working set: a DRAM-sized buffer is not walked whole in each run (full laps of a
/// multi-gigabyte buffer would take seconds per sample). Instead each run continues where the
/// previous one stopped, so successive samples walk on along the cycle; each step still lands on
/// a uniformly random line of the whole buffer, which is what sets the latency.
inline constexpr std::size_t kDefaultChaseLoads = std::size_t{1} << 21;

/// The successor table of a uniformly random single cycle over `lines` elements (Sattolo's
/// algorithm driven by a splitmix64 stream seeded with `seed`): next[i] is the element after i,
/// and following next from any element visits all `lines` elements before returning. Throws
/// UsageError when lines is 0 or does not fit 32 bits.
std::vector<std::uint32_t> single_cycle_permutation(std::size_t lines, std::uint64_t seed);

/// The chase buffer: 2 MiB aligned (so THP can back it), with the page-mode hint and the optional
/// NUMA binding applied before first touch. Not thread-safe; link() and chase() must run on the
/// thread the chase is pinned to (link() first-touches the pages).
class ChaseBuffer {
  public:
    /// Allocates floor(bytes / 64) lines (no touch), applies the madvise hint and, when
    /// memory_node is set, binds the pages there (throws Error when the OS refuses). Throws
    /// UsageError for fewer than one line.
    ChaseBuffer(std::size_t bytes, PageMode pages, std::optional<unsigned> memory_node,
                std::uint64_t seed);
    ~ChaseBuffer();
    ChaseBuffer(const ChaseBuffer&) = delete;
    ChaseBuffer& operator=(const ChaseBuffer&) = delete;

    /// Writes the cycle (first touch) and resets the position to line 0.
    void link();
    /// `loads` dependent loads from the current position; the position advances.
    void chase(std::size_t loads);
    /// Walks the links once from line 0: every link must point at a line of this buffer, the walk
    /// must first return to line 0 after exactly lines() steps (one cycle over all lines), and the
    /// current position must be the line reached after all steps chased so far (mod lines()).
    Verification verify() const;

    std::size_t lines() const { return lines_; }
    std::size_t bytes() const { return lines_ * kChaseLineBytes; }
    /// Dependent loads performed since link().
    std::uint64_t steps() const { return steps_; }
    /// What backs the buffer, e.g. "THP requested (MADV_HUGEPAGE), AnonHugePages 4096 of 4096
    /// KiB"; the AnonHugePages figure is read from /proc/self/smaps when available. After link().
    std::string pages_description() const;

    /// Test seam: points line `line` at itself, breaking the cycle.
    void corrupt_link_for_test(std::size_t line);

  private:
    struct FreeDeleter {
        void operator()(std::byte* p) const noexcept;
    };
    std::unique_ptr<std::byte, FreeDeleter> data_;
    std::size_t lines_ = 0;
    std::size_t alloc_bytes_ = 0;
    PageMode pages_;
    bool madvise_ok_ = false;
    std::uint64_t seed_;
    std::uint64_t steps_ = 0;
    const void* position_ = nullptr;
};

/// Idle-load memory latency: one pinned thread chasing a ChaseBuffer. work().operations is the
/// loads per run(), so the harness reports latency_ns.* and latency_cycles.* per load.
class PointerChaseKernel : public Kernel {
  public:
    /// Chase on OS PU `pu_os_index` over working_set_bytes (rounded down to whole lines), backed
    /// as `pages`, optionally bound to NUMA node `memory_node`; `loads_per_run` dependent loads
    /// per run() (> 0). Nothing is allocated or pinned until prepare(). Throws UsageError for a
    /// working set below one line or loads_per_run == 0.
    PointerChaseKernel(unsigned pu_os_index, std::size_t working_set_bytes, PageMode pages,
                       std::optional<unsigned> memory_node = {},
                       std::uint64_t seed = kDefaultChaseSeed,
                       std::size_t loads_per_run = kDefaultChaseLoads);
    ~PointerChaseKernel() override;

    /// Pins the worker, allocates the buffer and links the cycle from the pinned thread.
    void prepare() override;
    /// loads_per_run dependent loads on the pinned thread, continuing along the cycle.
    void run() override;
    /// ChaseBuffer::verify(): one cycle over all lines and the position the chase must reach.
    Verification verify() override;
    /// operations = loads per run(); no bytes (a latency benchmark has no bandwidth).
    WorkModel work() const override;
    /// "pointer chase: 64 B lines, ..., <pages_description>".
    std::string implementation() const override;

    std::size_t loads_per_run() const { return loads_per_run_; }
    /// Test seam: breaks one link (after prepare()); throws UsageError before prepare().
    void corrupt_link_for_test(std::size_t line);
    /// Lines in the chase buffer (0 before prepare()).
    std::size_t lines() const;

  private:
    unsigned pu_;
    std::size_t working_set_bytes_;
    PageMode pages_;
    std::optional<unsigned> memory_node_;
    std::uint64_t seed_;
    std::size_t loads_per_run_;
    std::unique_ptr<ThreadTeam> team_;
    std::unique_ptr<ChaseBuffer> buffer_;
    std::string implementation_;
};

}  // namespace assay
