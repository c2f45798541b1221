#include "benches/cpu/loaded_latency.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <new>
#include <set>
#include <utility>

#include "benches/cpu/read_stream.hpp"
#include "core/error.hpp"

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace assay {
namespace {

constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;
/// Elements a streamer sums between two looks at the stop flag: 16 KiB, microseconds even at
/// DRAM speed, so the streamers stop right after the chase and do not stretch run()'s time.
constexpr std::size_t kChunkElements = 2048;
constexpr std::uint64_t kStreamSeedSalt = 0x57e4'0000'0000'0000ULL;

std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

struct FreeDeleter {
    void operator()(std::uint64_t* p) const noexcept { std::free(p); }
};

}  // namespace

/// One streamer's buffer and its counters. Written by its worker during run(); read by the
/// caller only after ThreadTeam::run() returned (which orders the accesses).
struct alignas(64) LoadedLatencyKernel::Streamer {
    std::unique_ptr<std::uint64_t, FreeDeleter> data;
    std::size_t elements = 0;
    std::uint64_t seed = 0;
    std::uint64_t reference_sum = 0;  ///< exact (mod 2^64) sum of one pass
    // Position persists across runs, so passes over a large buffer complete over several runs.
    std::size_t next_index = 0;
    std::uint64_t pass_sum = 0;
    std::uint64_t passes = 0;      ///< completed passes since prepare()
    std::uint64_t bad_passes = 0;  ///< completed passes whose sum was wrong
    std::uint64_t last_run_bytes = 0;
    double last_run_seconds = 0;
};

LoadedLatencyKernel::LoadedLatencyKernel(unsigned chaser_pu, std::vector<unsigned> streamer_pus,
                                         std::size_t chase_bytes,
                                         std::size_t stream_bytes_per_thread, PageMode pages,
                                         std::uint64_t seed, std::size_t loads_per_run)
    : chaser_pu_(chaser_pu),
      streamer_pus_(std::move(streamer_pus)),
      chase_bytes_(chase_bytes),
      stream_elements_(stream_bytes_per_thread / kChaseLineBytes * kChaseLineBytes /
                       sizeof(std::uint64_t)),
      pages_(pages),
      seed_(seed),
      loads_per_run_(loads_per_run) {
    std::set<unsigned> seen = {chaser_pu_};
    for (const unsigned pu : streamer_pus_) {
        if (!seen.insert(pu).second) {
            throw UsageError(
                fmt::format("loaded latency: PU {} is used twice (chaser and streamers need one "
                            "PU each)",
                            pu));
        }
    }
    if (chase_bytes < kChaseLineBytes) {
        throw UsageError(
            fmt::format("loaded latency: a chase of {} bytes is less than one {}-byte line",
                        chase_bytes, kChaseLineBytes));
    }
    if (!streamer_pus_.empty() && stream_elements_ == 0) {
        throw UsageError(
            fmt::format("loaded latency: {} bytes per streamer is less than one {}-byte line",
                        stream_bytes_per_thread, kChaseLineBytes));
    }
    if (loads_per_run == 0) {
        throw UsageError("loaded latency: loads per run must be positive");
    }
}

LoadedLatencyKernel::~LoadedLatencyKernel() = default;

void LoadedLatencyKernel::prepare() {
    std::vector<unsigned> pus = {chaser_pu_};
    pus.insert(pus.end(), streamer_pus_.begin(), streamer_pus_.end());
    team_ = std::make_unique<ThreadTeam>(pus);
    chase_ = std::make_unique<ChaseBuffer>(chase_bytes_, pages_, std::nullopt, seed_);
    streamers_.clear();
    for (std::size_t k = 0; k < streamer_pus_.size(); ++k) {
        auto s = std::make_unique<Streamer>();
        s->elements = stream_elements_;
        s->seed = splitmix64(seed_ ^ kStreamSeedSalt ^ k);
        const std::size_t bytes = (stream_elements_ * sizeof(std::uint64_t) + kHugePageBytes - 1) /
                                  kHugePageBytes * kHugePageBytes;
        void* p = std::aligned_alloc(kHugePageBytes, bytes);
        if (p == nullptr) {
            throw std::bad_alloc();
        }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
        // A hint for fewer TLB misses while streaming; failure (THP off) is harmless.
        (void)madvise(p, bytes, MADV_HUGEPAGE);
#endif
        s->data.reset(static_cast<std::uint64_t*>(p));
        streamers_.push_back(std::move(s));
    }
    // Each thread first-touches its own buffer, so every page is local to the core using it.
    team_->run([this](unsigned index, unsigned) {
        if (index == 0) {
            chase_->link();
            return;
        }
        Streamer& s = *streamers_[index - 1];
        std::uint64_t sum = 0;
        for (std::size_t i = 0; i < s.elements; ++i) {
            // | 1: odd, never zero (zeros would make a wrong read look right).
            const std::uint64_t value = splitmix64(s.seed + i) | 1;
            s.data.get()[i] = value;
            sum += value;
        }
        s.reference_sum = sum;
    });
    implementation_ = fmt::format(
        "loaded latency: chaser on PU {} ({} B lines, one random cycle over {} lines, {} loads "
        "per run, {}); {} read-only streamer(s) on PUs [{}] summing {} KiB each of 64-bit "
        "integers",
        chaser_pu_, kChaseLineBytes, chase_->lines(), loads_per_run_, chase_->pages_description(),
        streamer_pus_.size(), fmt::join(streamer_pus_, ", "),
        stream_elements_ * sizeof(std::uint64_t) / 1024);
    ran_ = false;
}

void LoadedLatencyKernel::stream(Streamer& s) {
    const auto start = std::chrono::steady_clock::now();
    started_.fetch_add(1, std::memory_order_release);
    const std::uint64_t* data = s.data.get();
    std::uint64_t elements_read = 0;
    do {
        const std::size_t end = std::min(s.next_index + kChunkElements, s.elements);
        s.pass_sum += detail::sum_u64(data + s.next_index, end - s.next_index);
        elements_read += end - s.next_index;
        s.next_index = end;
        if (end == s.elements) {
            ++s.passes;
            if (s.pass_sum != s.reference_sum) {
                ++s.bad_passes;
            }
            s.pass_sum = 0;
            s.next_index = 0;
        }
    } while (!stop_.load(std::memory_order_relaxed));
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    s.last_run_bytes = elements_read * sizeof(std::uint64_t);
    s.last_run_seconds = elapsed.count();
}

void LoadedLatencyKernel::run() {
    if (!chase_) {
        throw UsageError("loaded latency: run() before prepare()");
    }
    stop_.store(false, std::memory_order_relaxed);
    started_.store(0, std::memory_order_relaxed);
    const auto streamers = static_cast<unsigned>(streamers_.size());
    team_->run([this, streamers](unsigned index, unsigned) {
        if (index != 0) {
            stream(*streamers_[index - 1]);
            return;
        }
        // The latency must be measured under load: wait until every streamer is streaming.
        while (started_.load(std::memory_order_acquire) < streamers) {
        }
        chase_->chase(loads_per_run_);
        stop_.store(true, std::memory_order_relaxed);
    });
    ran_ = true;
}

Verification LoadedLatencyKernel::verify() {
    if (!chase_) {
        return Verification{false, "loaded latency: not prepared"};
    }
    Verification v = chase_->verify();
    if (!v.ok) {
        return v;
    }
    if (!ran_) {
        return Verification{false, "loaded latency: run() was never called"};
    }
    std::uint64_t passes = 0;
    for (std::size_t k = 0; k < streamers_.size(); ++k) {
        const Streamer& s = *streamers_[k];
        if (s.last_run_bytes == 0) {
            return Verification{
                false, fmt::format("loaded latency: streamer {} on PU {} read nothing during "
                                   "the last run",
                                   k, streamer_pus_[k])};
        }
        if (s.bad_passes != 0) {
            return Verification{
                false, fmt::format("loaded latency: streamer {} on PU {}: {} of {} passes summed "
                                   "to a wrong value",
                                   k, streamer_pus_[k], s.bad_passes, s.passes)};
        }
        // Independent of what the streamer saw: the data itself must still be intact.
        const std::uint64_t now = detail::sum_u64(s.data.get(), s.elements);
        if (now != s.reference_sum) {
            return Verification{
                false, fmt::format("loaded latency: streamer {} buffer sum {:#x} differs from the "
                                   "reference {:#x} (buffer corrupted)",
                                   k, now, s.reference_sum)};
        }
        passes += s.passes;
    }
    v.detail += fmt::format(
        "; {} streamer(s) read during the last run, {} completed passes summed exactly "
        "(64-bit integer sums)",
        streamers_.size(), passes);
    return v;
}

WorkModel LoadedLatencyKernel::work() const {
    WorkModel w;
    w.operations = static_cast<double>(loads_per_run_);
    return w;
}

std::vector<Metric> LoadedLatencyKernel::extra_metrics() const {
    double bytes_per_second = 0;
    for (const auto& s : streamers_) {
        if (s->last_run_seconds > 0) {
            bytes_per_second += static_cast<double>(s->last_run_bytes) / s->last_run_seconds;
        }
    }
    return {
        Metric{"loaded.stream_gb_per_s", bytes_per_second / 1e9, "GB/s", Direction::none},
        Metric{"loaded.streamer_threads", static_cast<double>(streamer_pus_.size()), "threads",
               Direction::none},
    };
}

std::string LoadedLatencyKernel::implementation() const {
    return implementation_;
}

void LoadedLatencyKernel::corrupt_link_for_test(std::size_t line) {
    if (!chase_) {
        throw UsageError("loaded latency: corrupt_link_for_test() before prepare()");
    }
    chase_->corrupt_link_for_test(line);
}

void LoadedLatencyKernel::corrupt_stream_for_test(std::size_t streamer, std::size_t element) {
    if (streamer >= streamers_.size() || element >= streamers_[streamer]->elements) {
        throw UsageError(fmt::format(
            "loaded latency: no element {} of streamer {} (after prepare(), {} streamers)", element,
            streamer, streamers_.size()));
    }
    streamers_[streamer]->data.get()[element] ^= 0x10;
}

}  // namespace assay
