#pragma once
/// ThreadTeam: a fixed set of worker threads, each pinned (through hwloc) to one PU, that run a
/// function together and block the caller until all are done. Workers persist across runs, so
/// each thread keeps touching the memory it first-touched (NUMA-local placement).
#include <functional>
#include <memory>
#include <vector>

namespace assay {

class ThreadTeam {
  public:
    /// One worker per entry, pinned to that OS PU index. Throws Error if a PU cannot be bound.
    explicit ThreadTeam(std::vector<unsigned> pu_os_indices);
    ~ThreadTeam();
    ThreadTeam(const ThreadTeam&) = delete;
    ThreadTeam& operator=(const ThreadTeam&) = delete;

    unsigned size() const;
    const std::vector<unsigned>& pus() const;

    /// Runs fn(thread_index, team_size) on every worker; returns when all have finished.
    /// An exception thrown by a worker is rethrown here (the first one).
    void run(const std::function<void(unsigned, unsigned)>& fn);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace assay
