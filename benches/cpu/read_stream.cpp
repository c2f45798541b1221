#include "benches/cpu/read_stream.hpp"

namespace assay::detail {

std::uint64_t sum_u64(const std::uint64_t* data, std::size_t count) {
    // Four independent accumulators: enough parallel adds to keep the loads, not the add
    // latency, the limit even where the loop is not vectorised.
    std::uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    std::size_t i = 0;
    for (; i + 4 <= count; i += 4) {
        s0 += data[i];
        s1 += data[i + 1];
        s2 += data[i + 2];
        s3 += data[i + 3];
    }
    for (; i < count; ++i) {
        s0 += data[i];
    }
    return s0 + s1 + s2 + s3;
}

}  // namespace assay::detail
