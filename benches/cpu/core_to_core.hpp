#pragma once
/// Core-to-core latency: two pinned threads bounce one cache line between their cores, and the
/// pair plan that chooses which cores to measure (all pairs on small hosts, a bounded sample on
/// big ones). The plan is a pure function of the probed topology (as data).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "benches/kernel.hpp"
#include "benches/thread_team.hpp"
#include "core/host_info.hpp"

namespace assay {

/// How close two PUs are, from nearest to farthest; a pair gets the nearest class that holds.
enum class CoreRelation {
    smt,            ///< two hardware threads of one core
    same_l2,        ///< different cores under one L2 instance
    same_l3,        ///< different L2s under one L3 instance
    same_package,   ///< same package, no shared L2/L3 (or sharing unknown)
    cross_package,  ///< different packages
};

/// "smt", "same_l2", "same_l3", "same_package", "cross_package" (the catalog's
/// `relation.<name>` context metric).
std::string_view core_relation_name(CoreRelation relation);

/// One measured pair: OS PU indices (pu_a runs the initiator, pu_b the responder).
struct CorePair {
    unsigned pu_a = 0;
    unsigned pu_b = 0;
    CoreRelation relation = CoreRelation::same_package;
};

/// The relation of two distinct PUs. Cache sharing is inferred from the probe's per-level sizes:
/// hwloc numbers cores in topology-tree order, so when a level's instances x cores_per_instance
/// equals the core count, core L sits under instance L / cores_per_instance. A level that is not
/// uniform that way is treated as unknown (the pair falls back to same_package). Throws
/// UsageError when a PU is not in the topology.
CoreRelation core_relation(const TopologyInfo& topo, unsigned pu_a, unsigned pu_b);

/// Cores (with PUs) up to which the plan measures every unordered pair.
inline constexpr std::size_t kC2cAllPairsMaxCores = 16;
/// Most pairs the sampled plan returns on bigger hosts.
inline constexpr std::size_t kC2cMaxSampledPairs = 64;

/// The pairs to measure. Up to kC2cAllPairsMaxCores cores: every unordered pair of the cores'
/// first PUs (a < b in core order). Beyond: at most kC2cMaxSampledPairs pairs: core 0 with cores
/// spread evenly over the machine, one pair per relation class the host has, then pairs drawn
/// with a fixed seed (the plan is deterministic). Either way plus one SMT-sibling pair (the first
/// core's first two PUs) when the host has SMT. No duplicates (unordered), never a == b.
std::vector<CorePair> c2c_pair_plan(const TopologyInfo& topo);

/// Cache-line ping-pong between two pinned threads: the initiator (on pu_a) writes 2k+1 and waits
/// for 2k+2, the responder (on pu_b) waits for 2k+1 and writes 2k+2, for k in [0, round_trips),
/// with release stores and acquire loads on one 64-bit counter that has its cache lines to itself.
/// work().operations = 2 x round_trips one-way transfers, so the harness's latency_ns is the
/// ONE-WAY core-to-core latency (half a round trip). Waits spin with a pause hint and give up
/// (failing verification) on a stop flag or after kTimeoutSeconds, so run() is bounded in time.
class CoreToCoreKernel : public Kernel {
  public:
    /// A run() that has not finished after this long is abandoned (verify() then fails).
    static constexpr double kTimeoutSeconds = 30.0;

    /// Throws UsageError when pu_a == pu_b (both threads on one PU would only measure the OS
    /// scheduler) or round_trips == 0. Nothing is pinned until prepare().
    CoreToCoreKernel(unsigned pu_a, unsigned pu_b, std::size_t round_trips);
    ~CoreToCoreKernel() override;

    /// Pins the two threads (ThreadTeam of 2) and resets the counter.
    void prepare() override;
    /// round_trips round trips, from a counter reset to 0.
    void run() override;
    /// Passes when the counter ends at 2 x round_trips, each thread saw each value it waited for
    /// in order (round_trips values each) and no wait saw an unexpected value or timed out.
    Verification verify() override;
    /// operations = 2 x round_trips (one-way transfers); no bytes or flops.
    WorkModel work() const override;
    /// The wait loop's pause instruction.
    std::string implementation() const override;

    unsigned pu_a() const { return pu_a_; }
    unsigned pu_b() const { return pu_b_; }
    std::size_t round_trips() const { return round_trips_; }

    /// Test seam: overwrites the shared counter (after run()), so a test can corrupt the result.
    void set_counter_for_test(std::uint64_t value);

    /// Implementation detail: the cache-line-aligned state both threads touch (defined in the
    /// .cpp; public only so the file's spin helper can name it).
    struct Shared;

  private:
    unsigned pu_a_;
    unsigned pu_b_;
    std::size_t round_trips_;
    std::unique_ptr<ThreadTeam> team_;
    std::unique_ptr<Shared> shared_;
    bool ran_ = false;
};

}  // namespace assay
