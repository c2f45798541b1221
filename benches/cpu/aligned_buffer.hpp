#pragma once
/// Private to benches: an uninitialised, huge-page-aligned array of doubles.
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace assay::detail {

/// 2 MiB: the x86-64 and (4 KiB-granule) aarch64 transparent huge page size.
inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

struct FreeDeleter {
    void operator()(double* p) const noexcept { std::free(p); }
};

/// `count` doubles, 2 MiB aligned, NOT touched: pages are placed by whichever thread writes them
/// first. Throws std::bad_alloc on failure.
class AlignedBuffer {
  public:
    AlignedBuffer() = default;
    explicit AlignedBuffer(std::size_t count) : count_(count) {
        std::size_t bytes = count * sizeof(double);
        bytes = (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
        if (bytes == 0) {
            bytes = kHugePageBytes;
        }
        void* p = std::aligned_alloc(kHugePageBytes, bytes);
        if (p == nullptr) {
            throw std::bad_alloc();
        }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
        // Fewer TLB misses in the bandwidth loop; a hint only, failure (THP off) is harmless.
        (void)madvise(p, bytes, MADV_HUGEPAGE);
#endif
        data_.reset(static_cast<double*>(p));
    }

    double* data() const {
        return data_.get();
    }
    std::size_t size() const {
        return count_;
    }

  private:
    std::unique_ptr<double, FreeDeleter> data_;
    std::size_t count_ = 0;
};

}  // namespace assay::detail
