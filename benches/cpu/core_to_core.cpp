#include "benches/cpu/core_to_core.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <set>
#include <utility>

#include "core/error.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace assay {
namespace {

/// Spin-wait hint: frees pipeline resources for an SMT sibling and, on x86, avoids the
/// memory-order machine clear when the awaited store arrives.
inline void cpu_relax() {
#if defined(__x86_64__)
    _mm_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

constexpr std::string_view kRelaxName =
#if defined(__x86_64__)
    "pause (_mm_pause)";
#elif defined(__aarch64__)
    "yield";
#else
    "none";
#endif

/// Spins between checks of the stop flag and the clock: rare enough to stay off the hot path.
constexpr std::uint32_t kSpinsPerCheck = 4096;

std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/// Position in core_list of the core holding PU `pu`, or nullopt.
std::optional<std::size_t> core_position(const TopologyInfo& topo, unsigned pu) {
    for (std::size_t i = 0; i < topo.core_list.size(); ++i) {
        const auto& pus = topo.core_list[i].pu_os_indices;
        if (std::find(pus.begin(), pus.end(), pu) != pus.end()) {
            return i;
        }
    }
    return std::nullopt;
}

/// The instance of the level-`level` data/unified cache serving `core`, when the level is uniform
/// (instances x cores_per_instance == cores); see core_relation().
std::optional<unsigned> cache_instance(const TopologyInfo& topo, int level, const CoreInfo& core) {
    for (const CacheLevel& cache : topo.caches) {
        if (cache.level != level || cache.type == "instruction") {
            continue;
        }
        if (cache.cores_per_instance == 0 ||
            std::size_t{cache.instances} * cache.cores_per_instance != topo.core_list.size()) {
            return std::nullopt;
        }
        return core.logical_index / cache.cores_per_instance;
    }
    return std::nullopt;
}

bool share_cache(const TopologyInfo& topo, int level, const CoreInfo& a, const CoreInfo& b) {
    const std::optional<unsigned> ia = cache_instance(topo, level, a);
    const std::optional<unsigned> ib = cache_instance(topo, level, b);
    return ia.has_value() && ib.has_value() && *ia == *ib;
}

}  // namespace

std::string_view core_relation_name(CoreRelation relation) {
    switch (relation) {
        case CoreRelation::smt:
            return "smt";
        case CoreRelation::same_l2:
            return "same_l2";
        case CoreRelation::same_l3:
            return "same_l3";
        case CoreRelation::same_package:
            return "same_package";
        case CoreRelation::cross_package:
            return "cross_package";
    }
    return "unknown";
}

CoreRelation core_relation(const TopologyInfo& topo, unsigned pu_a, unsigned pu_b) {
    const std::optional<std::size_t> pa = core_position(topo, pu_a);
    const std::optional<std::size_t> pb = core_position(topo, pu_b);
    if (!pa.has_value() || !pb.has_value()) {
        throw UsageError(fmt::format("core relation of PUs {} and {}: PU {} is not in the topology",
                                     pu_a, pu_b, pa.has_value() ? pu_b : pu_a));
    }
    const CoreInfo& a = topo.core_list[*pa];
    const CoreInfo& b = topo.core_list[*pb];
    if (*pa == *pb) {
        return CoreRelation::smt;
    }
    if (a.package != b.package) {
        return CoreRelation::cross_package;
    }
    if (share_cache(topo, 2, a, b)) {
        return CoreRelation::same_l2;
    }
    if (share_cache(topo, 3, a, b)) {
        return CoreRelation::same_l3;
    }
    return CoreRelation::same_package;
}

std::vector<CorePair> c2c_pair_plan(const TopologyInfo& topo) {
    std::vector<unsigned> firsts;  // first PU of each core, in core order
    for (const CoreInfo& core : topo.core_list) {
        if (!core.pu_os_indices.empty()) {
            firsts.push_back(core.pu_os_indices.front());
        }
    }
    std::optional<CorePair> smt_pair;
    for (const CoreInfo& core : topo.core_list) {
        if (core.pu_os_indices.size() >= 2) {
            smt_pair = CorePair{core.pu_os_indices[0], core.pu_os_indices[1], CoreRelation::smt};
            break;
        }
    }

    std::vector<CorePair> out;
    std::set<std::pair<unsigned, unsigned>> seen;
    const std::size_t budget = firsts.size() <= kC2cAllPairsMaxCores
                                   ? firsts.size() * firsts.size()  // no limit beyond all pairs
                                   : kC2cMaxSampledPairs - (smt_pair.has_value() ? 1 : 0);
    auto add = [&](std::size_t i, std::size_t j) {
        if (i == j || out.size() >= budget) {
            return;
        }
        const unsigned a = firsts[std::min(i, j)];
        const unsigned b = firsts[std::max(i, j)];
        if (a == b || !seen.insert({std::min(a, b), std::max(a, b)}).second) {
            return;
        }
        out.push_back(CorePair{a, b, core_relation(topo, a, b)});
    };

    const std::size_t n = firsts.size();
    if (n <= kC2cAllPairsMaxCores) {
        for (std::size_t i = 0; i < n; ++i) {
            for (std::size_t j = i + 1; j < n; ++j) {
                add(i, j);
            }
        }
    } else {
        // Core 0 against cores spread evenly over the machine (the row a heat map shows first).
        constexpr std::size_t kSpread = 24;
        for (std::size_t k = 1; k <= kSpread; ++k) {
            add(0, k * (n - 1) / kSpread);
        }
        // One pair per relation class core 0 has with some core.
        for (const CoreRelation wanted :
             {CoreRelation::same_l2, CoreRelation::same_l3, CoreRelation::same_package,
              CoreRelation::cross_package}) {
            const bool have = std::any_of(out.begin(), out.end(),
                                          [&](const CorePair& p) { return p.relation == wanted; });
            for (std::size_t j = 1; j < n && !have; ++j) {
                if (core_relation(topo, firsts[0], firsts[j]) == wanted) {
                    add(0, j);
                    break;
                }
            }
        }
        // Fill with pairs drawn from a fixed seed: the plan (and so the cases) never changes.
        std::uint64_t state = 0xc0c0'2c0c'0000'0001ULL;
        for (std::size_t attempt = 0; attempt < 64 * kC2cMaxSampledPairs && out.size() < budget;
             ++attempt) {
            state = splitmix64(state);
            const std::size_t i = static_cast<std::size_t>(state % n);
            const std::size_t j = static_cast<std::size_t>((state >> 32) % n);
            add(i, j);
        }
    }
    if (smt_pair.has_value() && seen.insert({std::min(smt_pair->pu_a, smt_pair->pu_b),
                                             std::max(smt_pair->pu_a, smt_pair->pu_b)})
                                    .second) {
        out.push_back(*smt_pair);
    }
    return out;
}

/// The counter, the stop flag and each thread's log each own 128 bytes: 64-byte lines plus the
/// adjacent-line prefetcher of Intel cores, which pulls lines in 128-byte pairs.
struct CoreToCoreKernel::Shared {
    /// What one thread observed during a run (written only by that thread while it runs).
    struct ThreadLog {
        std::uint64_t seen = 0;        ///< awaited values that arrived, in order
        std::uint64_t unexpected = 0;  ///< waits that saw a value neither awaited nor its own
        std::uint64_t first_unexpected_value = 0;
        std::uint64_t first_unexpected_wanted = 0;
        bool timed_out = false;
    };

    alignas(128) std::atomic<std::uint64_t> counter{0};
    alignas(128) std::atomic<bool> stop{false};
    alignas(128) ThreadLog initiator;
    alignas(128) ThreadLog responder;
};

namespace {

using Clock = std::chrono::steady_clock;
using ThreadLog = CoreToCoreKernel::Shared::ThreadLog;

/// Spins until the counter holds `wanted` (true). Returns false, having set the stop flag, when
/// the counter holds anything but `wanted` or `own` (the value this thread last wrote), on a
/// stop request from the other thread, or at `deadline`.
bool wait_for(CoreToCoreKernel::Shared& s, std::uint64_t wanted, std::uint64_t own, ThreadLog& log,
              Clock::time_point deadline) {
    std::uint32_t spins = 0;
    for (;;) {
        const std::uint64_t v = s.counter.load(std::memory_order_acquire);
        if (v == wanted) {
            ++log.seen;
            return true;
        }
        if (v != own) {
            if (log.unexpected++ == 0) {
                log.first_unexpected_value = v;
                log.first_unexpected_wanted = wanted;
            }
            s.stop.store(true, std::memory_order_relaxed);
            return false;
        }
        cpu_relax();
        if (++spins == kSpinsPerCheck) {
            spins = 0;
            if (s.stop.load(std::memory_order_relaxed)) {
                return false;
            }
            if (Clock::now() > deadline) {
                log.timed_out = true;
                s.stop.store(true, std::memory_order_relaxed);
                return false;
            }
        }
    }
}

}  // namespace

CoreToCoreKernel::CoreToCoreKernel(unsigned pu_a, unsigned pu_b, std::size_t round_trips)
    : pu_a_(pu_a), pu_b_(pu_b), round_trips_(round_trips) {
    if (pu_a == pu_b) {
        throw UsageError(fmt::format(
            "mem.c2c: both threads on PU {} would measure the scheduler, not a cache line", pu_a));
    }
    if (round_trips == 0) {
        throw UsageError("mem.c2c: round_trips must be at least 1");
    }
}

CoreToCoreKernel::~CoreToCoreKernel() = default;

void CoreToCoreKernel::prepare() {
    team_ = std::make_unique<ThreadTeam>(std::vector<unsigned>{pu_a_, pu_b_});
    shared_ = std::make_unique<Shared>();
    ran_ = false;
}

void CoreToCoreKernel::run() {
    if (!team_) {
        throw UsageError("mem.c2c: run() before prepare()");
    }
    Shared& s = *shared_;
    // ThreadTeam::run() hands work over under a mutex: these resets happen-before both threads.
    s.counter.store(0, std::memory_order_relaxed);
    s.stop.store(false, std::memory_order_relaxed);
    s.initiator = Shared::ThreadLog{};
    s.responder = Shared::ThreadLog{};
    const std::uint64_t trips = round_trips_;
    const Clock::time_point deadline =
        Clock::now() +
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(kTimeoutSeconds));
    team_->run([&s, trips, deadline](unsigned index, unsigned /*size*/) {
        try {
            if (index == 0) {
                for (std::uint64_t k = 0; k < trips; ++k) {
                    s.counter.store(2 * k + 1, std::memory_order_release);
                    if (!wait_for(s, 2 * k + 2, 2 * k + 1, s.initiator, deadline)) {
                        return;
                    }
                }
            } else {
                for (std::uint64_t k = 0; k < trips; ++k) {
                    if (!wait_for(s, 2 * k + 1, 2 * k, s.responder, deadline)) {
                        return;
                    }
                    s.counter.store(2 * k + 2, std::memory_order_release);
                }
            }
        } catch (...) {
            // Never leave the partner spinning on a thread that is gone.
            s.stop.store(true, std::memory_order_relaxed);
            throw;
        }
    });
    ran_ = true;
}

Verification CoreToCoreKernel::verify() {
    Verification v;
    if (!ran_) {
        v.detail = "not run: no ping-pong to check";
        return v;
    }
    const Shared& s = *shared_;
    const std::uint64_t expected = 2 * std::uint64_t{round_trips_};
    const std::uint64_t final_value = s.counter.load(std::memory_order_acquire);
    const ThreadLog& ini = s.initiator;
    const ThreadLog& res = s.responder;
    v.ok = final_value == expected && ini.seen == round_trips_ && res.seen == round_trips_ &&
           ini.unexpected == 0 && res.unexpected == 0 && !ini.timed_out && !res.timed_out;
    if (v.ok) {
        v.detail = fmt::format(
            "PU {} <-> PU {}: {} round trips, counter ended at {} as expected, each thread saw "
            "its {} awaited values in order",
            pu_a_, pu_b_, round_trips_, final_value, round_trips_);
        return v;
    }
    std::string why = fmt::format(
        "PU {} <-> PU {}: counter ended at {} (expected {}); initiator saw {} of {} values, "
        "responder {} of {}",
        pu_a_, pu_b_, final_value, expected, ini.seen, round_trips_, res.seen, round_trips_);
    for (const auto& [name, log] : {std::pair<const char*, const ThreadLog*>{"initiator", &ini},
                                    std::pair<const char*, const ThreadLog*>{"responder", &res}}) {
        if (log->unexpected != 0) {
            why += fmt::format("; {} waited for {} and saw {}", name, log->first_unexpected_wanted,
                               log->first_unexpected_value);
        }
        if (log->timed_out) {
            why += fmt::format("; {} timed out after {} s", name, kTimeoutSeconds);
        }
    }
    v.detail = std::move(why);
    return v;
}

WorkModel CoreToCoreKernel::work() const {
    WorkModel w;
    w.operations = 2.0 * static_cast<double>(round_trips_);
    return w;
}

std::string CoreToCoreKernel::implementation() const {
    return fmt::format("atomic u64 ping-pong, release/acquire, spin with {}", kRelaxName);
}

void CoreToCoreKernel::set_counter_for_test(std::uint64_t value) {
    if (shared_) {
        shared_->counter.store(value, std::memory_order_relaxed);
    }
}

}  // namespace assay
