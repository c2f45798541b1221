#pragma once
/// The read-only streaming loop of the loaded-latency streamers, in its own translation unit so
/// it is compiled with -O3 (vectorised) whatever the build type.
#include <cstddef>
#include <cstdint>

namespace assay::detail {

/// Wrapping (mod 2^64) sum of data[0, count): loads only, no stores. Exact, so every pass over
/// the same data has exactly one right answer.
std::uint64_t sum_u64(const std::uint64_t* data, std::size_t count);

}  // namespace assay::detail
