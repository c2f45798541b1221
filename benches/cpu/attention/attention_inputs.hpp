#pragma once
/// Private to benches/cpu/attention: the attention kernels' input buffers, allocated untouched and
/// filled (first-touched) by the pinned workers that later read them.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "benches/attention_cases.hpp"
#include "benches/thread_team.hpp"

namespace assay::attention_detail {

struct FreeBytes {
    void operator()(void* p) const noexcept { std::free(p); }
};
using Bytes = std::unique_ptr<void, FreeBytes>;

/// 2 MiB-aligned, untouched bytes: pages are placed by whichever thread writes them first.
inline Bytes allocate_bytes(std::uint64_t bytes) {
    constexpr std::uint64_t kAlign = std::uint64_t{2} << 20;
    const std::uint64_t rounded = std::max(kAlign, (bytes + kAlign - 1) / kAlign * kAlign);
    void* p = std::aligned_alloc(kAlign, static_cast<std::size_t>(rounded));
    if (p == nullptr) {
        throw std::bad_alloc();
    }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    (void)madvise(p, static_cast<std::size_t>(rounded), MADV_HUGEPAGE);  // a hint only
#endif
    return Bytes(p);
}

/// Elements [begin, end) of worker `index` of `workers` in a contiguous split of `count`.
inline void split_range(std::size_t count, unsigned index, unsigned workers, std::size_t& begin,
                        std::size_t& end) {
    const std::size_t per = count / workers;
    const std::size_t rest = count % workers;
    begin = index * per + std::min<std::size_t>(index, rest);
    end = begin + per + (index < rest ? 1 : 0);
}

/// Seeded fill of `count` elements, each worker writing (first-touching) its contiguous share.
inline void team_fill_random(ThreadTeam& team, void* data, attention::Dtype dtype,
                             std::size_t count, std::uint64_t seed) {
    team.run([&](unsigned t, unsigned n) {
        std::size_t begin = 0;
        std::size_t end = 0;
        split_range(count, t, n, begin, end);
        attention::fill_random(data, dtype, begin, end, seed);
    });
}

/// Zero fill of `count` floats, each worker touching its contiguous share.
inline void team_zero(ThreadTeam& team, float* data, std::size_t count) {
    team.run([&](unsigned t, unsigned n) {
        std::size_t begin = 0;
        std::size_t end = 0;
        split_range(count, t, n, begin, end);
        std::fill(data + begin, data + end, 0.0F);
    });
}

}  // namespace assay::attention_detail
