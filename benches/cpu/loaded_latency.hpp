#pragma once
/// Loaded memory latency (the Intel MLC / Arm ASCT "loaded latency" curve): one pinned thread
/// chases pointers through a DRAM-sized buffer while N other pinned threads stream memory, so the
/// latency is seen under a measured background bandwidth.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "benches/cpu/pointer_chase.hpp"
#include "benches/kernel.hpp"
#include "benches/thread_team.hpp"

namespace assay {

/// One chaser plus `streamer_pus.size()` read-only streamers. The streamers read (a sum of
/// 64-bit integers: loads only, no stores, so the background traffic is pure reads and each
/// pass has an exact reference) from their own first-touched buffer, pass after pass, from the
/// moment the chase starts until it finishes within each run(); the chaser starts only once every
/// streamer is streaming. Not thread-safe (see Kernel).
class LoadedLatencyKernel : public Kernel {
  public:
    /// Chaser on OS PU `chaser_pu` over chase_bytes (whole 64 B lines, as PointerChaseKernel with
    /// `pages`), one streamer per entry of streamer_pus, each over stream_bytes_per_thread
    /// (rounded down to whole 64 B lines; at least one line when there are streamers).
    /// Throws UsageError for a PU listed twice, a chase below one line, streamer buffers below one
    /// line, or loads_per_run == 0. Nothing is allocated or pinned until prepare().
    LoadedLatencyKernel(unsigned chaser_pu, std::vector<unsigned> streamer_pus,
                        std::size_t chase_bytes, std::size_t stream_bytes_per_thread,
                        PageMode pages = PageMode::thp, std::uint64_t seed = kDefaultChaseSeed,
                        std::size_t loads_per_run = kDefaultChaseLoads);
    ~LoadedLatencyKernel() override;

    /// Pins chaser and streamers; each first-touches and initialises its own buffer (stream
    /// element i = splitmix64(seed, i), never all zeros) and records the exact sum of one pass.
    void prepare() override;
    /// Streamers start, the chaser waits for all of them, chases loads_per_run loads, then stops
    /// them (they check every 16 KiB, so they stop within microseconds of the chase's end).
    void run() override;
    /// The chase (one cycle over all lines, expected final position), and for each streamer: it
    /// read bytes during the last run() and every completed pass summed to the exact reference.
    Verification verify() override;
    /// operations = chaser loads per run(); no bytes (the streamers' traffic is background).
    WorkModel work() const override;
    /// loaded.stream_gb_per_s (sum over streamers of bytes read / their streaming time during
    /// the last run(), 1e9 B/s) and loaded.streamer_threads.
    std::vector<Metric> extra_metrics() const override;
    std::string implementation() const override;

    /// Test seam: breaks one chase link (after prepare()).
    void corrupt_link_for_test(std::size_t line);
    /// Test seam: flips one element of streamer `streamer`'s buffer (after prepare()), so its
    /// pass sums no longer match the reference.
    void corrupt_stream_for_test(std::size_t streamer, std::size_t element);

  private:
    struct Streamer;
    void stream(Streamer& s);

    unsigned chaser_pu_;
    std::vector<unsigned> streamer_pus_;
    std::size_t chase_bytes_;
    std::size_t stream_elements_;
    PageMode pages_;
    std::uint64_t seed_;
    std::size_t loads_per_run_;
    std::unique_ptr<ThreadTeam> team_;
    std::unique_ptr<ChaseBuffer> chase_;
    std::vector<std::unique_ptr<Streamer>> streamers_;
    std::atomic<bool> stop_{false};
    std::atomic<unsigned> started_{0};
    std::string implementation_;
    bool ran_ = false;
};

}  // namespace assay
