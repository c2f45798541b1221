#include "benches/thread_team.hpp"

#include <fmt/format.h>
#include <hwloc.h>

#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "core/error.hpp"

namespace assay {

struct ThreadTeam::Impl {
    std::vector<unsigned> pus;
    hwloc_topology_t topology = nullptr;
    std::vector<std::thread> threads;

    std::mutex mutex;
    std::condition_variable start_cv;
    std::condition_variable done_cv;
    std::uint64_t generation = 0;  ///< bumped by run(); workers wait for a change
    unsigned pending = 0;          ///< workers not yet done with the current step
    bool stopping = false;
    const std::function<void(unsigned, unsigned)>* fn = nullptr;
    std::exception_ptr first_error;
    std::string bind_error;

    /// Pins the calling thread to exactly PU `pu`; returns an error message or "".
    std::string bind_self(unsigned pu) const {
        if (hwloc_get_pu_obj_by_os_index(topology, pu) == nullptr) {
            return fmt::format(
                "cannot pin a worker thread to PU {}: no such PU in this process's "
                "topology (offline, or outside the allowed cpuset)",
                pu);
        }
        hwloc_bitmap_t set = hwloc_bitmap_alloc();
        if (set == nullptr) {
            return fmt::format("cannot pin a worker thread to PU {}: out of memory", pu);
        }
        hwloc_bitmap_only(set, pu);
        errno = 0;
        const int rc = hwloc_set_cpubind(topology, set, HWLOC_CPUBIND_THREAD);
        const int err = errno;
        hwloc_bitmap_free(set);
        if (rc != 0) {
            return fmt::format("cannot pin a worker thread to PU {}: {} (errno {})", pu,
                               std::strerror(err), err);
        }
        return {};
    }

    void worker(unsigned index) {
        const std::string err = bind_self(pus[index]);
        {
            std::lock_guard lock(mutex);
            if (!err.empty() && bind_error.empty()) {
                bind_error = err;
            }
            if (--pending == 0) {
                done_cv.notify_all();
            }
        }
        const auto team_size = static_cast<unsigned>(pus.size());
        std::uint64_t seen = 0;
        for (;;) {
            const std::function<void(unsigned, unsigned)>* task = nullptr;
            {
                std::unique_lock lock(mutex);
                start_cv.wait(lock, [&] { return stopping || generation != seen; });
                if (stopping) {
                    return;
                }
                seen = generation;
                task = fn;
            }
            try {
                (*task)(index, team_size);
            } catch (...) {
                std::lock_guard lock(mutex);
                if (!first_error) {
                    first_error = std::current_exception();
                }
            }
            std::lock_guard lock(mutex);
            if (--pending == 0) {
                done_cv.notify_all();
            }
        }
    }

    void stop_and_join() {
        {
            std::lock_guard lock(mutex);
            stopping = true;
        }
        start_cv.notify_all();
        for (auto& t : threads) {
            if (t.joinable()) {
                t.join();
            }
        }
        threads.clear();
    }

    ~Impl() {
        stop_and_join();
        if (topology != nullptr) {
            hwloc_topology_destroy(topology);
        }
    }
};

ThreadTeam::ThreadTeam(std::vector<unsigned> pu_os_indices) : impl_(std::make_unique<Impl>()) {
    if (pu_os_indices.empty()) {
        throw Error("cannot start a thread team with no PUs");
    }
    impl_->pus = std::move(pu_os_indices);
    if (hwloc_topology_init(&impl_->topology) != 0) {
        impl_->topology = nullptr;
        throw Error(fmt::format("hwloc_topology_init failed: {}", std::strerror(errno)));
    }
    if (hwloc_topology_load(impl_->topology) != 0) {
        throw Error(fmt::format("hwloc_topology_load failed: {}", std::strerror(errno)));
    }
    const auto n = static_cast<unsigned>(impl_->pus.size());
    {
        std::lock_guard lock(impl_->mutex);
        impl_->pending = n;
    }
    for (unsigned i = 0; i < n; ++i) {
        try {
            impl_->threads.emplace_back([impl = impl_.get(), i] { impl->worker(i); });
        } catch (...) {
            // Workers that never started will never decrement `pending`; join the others.
            impl_->stop_and_join();
            throw;
        }
    }
    std::unique_lock lock(impl_->mutex);
    impl_->done_cv.wait(lock, [&] { return impl_->pending == 0; });
    if (!impl_->bind_error.empty()) {
        const std::string message = impl_->bind_error;
        lock.unlock();
        impl_->stop_and_join();
        throw Error(message);
    }
}

ThreadTeam::~ThreadTeam() = default;

unsigned ThreadTeam::size() const {
    return static_cast<unsigned>(impl_->pus.size());
}

const std::vector<unsigned>& ThreadTeam::pus() const {
    return impl_->pus;
}

void ThreadTeam::run(const std::function<void(unsigned, unsigned)>& fn) {
    std::exception_ptr error;
    {
        std::unique_lock lock(impl_->mutex);
        impl_->fn = &fn;
        impl_->first_error = nullptr;
        impl_->pending = size();
        ++impl_->generation;
        impl_->start_cv.notify_all();
        impl_->done_cv.wait(lock, [&] { return impl_->pending == 0; });
        impl_->fn = nullptr;
        error = std::exchange(impl_->first_error, nullptr);
    }
    if (error) {
        std::rethrow_exception(error);
    }
}

}  // namespace assay
