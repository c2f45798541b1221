#pragma once
/// STREAM triad on the CPU: a[i] = b[i] + 3 * c[i] in fp64, one contiguous chunk per pinned
/// worker thread, each chunk first-touched by the thread that later streams it.
#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "benches/cpu/aligned_buffer.hpp"
#include "benches/kernel.hpp"
#include "benches/thread_team.hpp"

namespace assay {

class StreamTriadKernel : public Kernel {
  public:
    /// The scalar of a = b + scalar * c.
    static constexpr double kScalar = 3.0;

    /// One worker per PU (OS indices); each of the three arrays holds elements_per_array doubles.
    /// Nothing is allocated or pinned until prepare().
    StreamTriadKernel(std::vector<unsigned> pu_os_indices, std::size_t elements_per_array);
    ~StreamTriadKernel() override;

    /// Pins the team, allocates three 2 MiB-aligned arrays and lets each worker first-touch and
    /// initialise its own chunk (b = 1 + u, c = 0.5 + u', a = -1 with u, u' seeded in [0,1)).
    void prepare() override;
    /// One triad over all elements, split across the team as in prepare().
    void run() override;
    /// Checks every element of a against b + 3*c computed in fp64 (relative tolerance 4 eps).
    Verification verify() override;
    /// bytes_stream = 24 N, bytes_write_allocate = 32 N, flops = 2 N.
    WorkModel work() const override;

    /// Half-open element range [begin, end) of worker `index` of `team_size`: chunks are split on
    /// 64-byte (8-double) boundaries so no cache line is shared between workers.
    static std::pair<std::size_t, std::size_t> chunk(std::size_t elements, unsigned index,
                                                     unsigned team_size);

    /// The OS PU indices of the workers, in worker order.
    const std::vector<unsigned>& pus() const { return pus_; }
    /// Elements in each of the three arrays.
    std::size_t elements() const { return elements_; }

    /// Test seam: the output array a (empty before prepare()), so a test can corrupt it.
    std::span<double> output_for_test();

  private:
    std::vector<unsigned> pus_;
    std::size_t elements_;
    std::unique_ptr<ThreadTeam> team_;
    detail::AlignedBuffer a_, b_, c_;
};

}  // namespace assay
