#include "benches/cpu/pointer_chase.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <new>
#include <sstream>
#include <utility>

#include "benches/cpu/numa_memory.hpp"
#include "core/error.hpp"

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace assay {
namespace {

/// 2 MiB: the x86-64 and (4 KiB-granule) aarch64 transparent huge page size.
constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

/// splitmix64 as a stream: fast, full-period, good enough to shuffle (not cryptographic).
class SplitMix64 {
  public:
    explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next() {
        std::uint64_t x = (state_ += 0x9e3779b97f4a7c15ULL);
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
        return x ^ (x >> 31);
    }
    /// Uniform-enough integer in [0, bound) for bound <= 2^32 (Lemire's multiply-shift; the
    /// bias is below 2^-32 and irrelevant to a cache-defeating shuffle).
    std::uint32_t below(std::uint64_t bound) {
        return static_cast<std::uint32_t>(((next() >> 32) * bound) >> 32);
    }

  private:
    std::uint64_t state_;
};

/// Sum of AnonHugePages (KiB) over the mappings of this process that overlap [begin, end), from
/// /proc/self/smaps; nullopt when the file cannot be read (qemu-user, non-Linux).
std::optional<std::uint64_t> anon_huge_kib(std::uintptr_t begin, std::uintptr_t end) {
    std::ifstream smaps("/proc/self/smaps");
    if (!smaps) {
        return std::nullopt;
    }
    std::string line;
    bool overlapping = false;
    bool any_mapping = false;
    std::uint64_t total_kib = 0;
    while (std::getline(smaps, line)) {
        const auto dash = line.find('-');
        const auto space = line.find(' ');
        if (dash != std::string::npos && space != std::string::npos && dash < space &&
            line.find(':') > space) {
            // A mapping header: "start-end perms offset dev inode path".
            char* parse_end = nullptr;
            const std::uintptr_t lo = std::strtoull(line.c_str(), &parse_end, 16);
            const std::uintptr_t hi = std::strtoull(line.c_str() + dash + 1, &parse_end, 16);
            overlapping = lo < end && begin < hi;
            any_mapping = any_mapping || overlapping;
            continue;
        }
        if (overlapping && line.rfind("AnonHugePages:", 0) == 0) {
            std::istringstream fields(line.substr(std::strlen("AnonHugePages:")));
            std::uint64_t kib = 0;
            if (fields >> kib) {
                total_kib += kib;
            }
        }
    }
    if (!any_mapping) {
        return std::nullopt;
    }
    return total_kib;
}

}  // namespace

std::string_view page_mode_name(PageMode pages) {
    switch (pages) {
        case PageMode::thp:
            return "thp";
        case PageMode::small:
            return "small";
    }
    return "unknown";
}

std::vector<std::uint32_t> single_cycle_permutation(std::size_t lines, std::uint64_t seed) {
    if (lines == 0) {
        throw UsageError("pointer chase: a permutation needs at least one line");
    }
    if (lines > std::numeric_limits<std::uint32_t>::max()) {
        throw UsageError(
            fmt::format("pointer chase: {} lines do not fit 32-bit line indices", lines));
    }
    std::vector<std::uint32_t> next(lines);
    for (std::size_t i = 0; i < lines; ++i) {
        next[i] = static_cast<std::uint32_t>(i);
    }
    // Sattolo: swapping only with strictly earlier elements yields a single cycle (a plain
    // Fisher-Yates shuffle would give several cycles, and a chase would stay in one of them).
    SplitMix64 rng(seed);
    for (std::size_t i = lines - 1; i > 0; --i) {
        const std::uint32_t j = rng.below(i);
        std::swap(next[i], next[j]);
    }
    return next;
}

void ChaseBuffer::FreeDeleter::operator()(std::byte* p) const noexcept {
    std::free(p);
}

ChaseBuffer::ChaseBuffer(std::size_t bytes, PageMode pages, std::optional<unsigned> memory_node,
                         std::uint64_t seed)
    : lines_(bytes / kChaseLineBytes), pages_(pages), seed_(seed) {
    if (lines_ == 0) {
        throw UsageError(
            fmt::format("pointer chase: a working set of {} bytes is less than one {}-byte line",
                        bytes, kChaseLineBytes));
    }
    alloc_bytes_ =
        (lines_ * kChaseLineBytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
    void* p = std::aligned_alloc(kHugePageBytes, alloc_bytes_);
    if (p == nullptr) {
        throw std::bad_alloc();
    }
    data_.reset(static_cast<std::byte*>(p));
#if defined(__linux__) && defined(MADV_HUGEPAGE) && defined(MADV_NOHUGEPAGE)
    // Before first touch: the hint decides how the pages are faulted in.
    madvise_ok_ =
        madvise(p, alloc_bytes_, pages == PageMode::thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) == 0;
#endif
    if (memory_node.has_value()) {
        bind_memory_to_numa_node(p, alloc_bytes_, *memory_node);
    }
}

ChaseBuffer::~ChaseBuffer() = default;

void ChaseBuffer::link() {
    const std::vector<std::uint32_t> next = single_cycle_permutation(lines_, seed_);
    std::byte* base = data_.get();
    for (std::size_t i = 0; i < lines_; ++i) {
        *reinterpret_cast<const void**>(base + i * kChaseLineBytes) =
            base + std::size_t{next[i]} * kChaseLineBytes;
    }
    position_ = base;
    steps_ = 0;
}

void ChaseBuffer::chase(std::size_t loads) {
    const void* p = position_;
#pragma GCC unroll 8
    for (std::size_t i = 0; i < loads; ++i) {
        // The dependent chain: the next address is the value just loaded.
        p = *static_cast<const void* const*>(p);
    }
    // Keeps the chain observable even if a caller ignored the position.
    asm volatile("" : "+r"(p)::"memory");
    position_ = p;
    steps_ += loads;
}

Verification ChaseBuffer::verify() const {
    Verification v;
    if (position_ == nullptr) {
        v.detail = "pointer chase: buffer not linked (prepare() not called)";
        return v;
    }
    const auto base = reinterpret_cast<std::uintptr_t>(data_.get());
    const std::uintptr_t end = base + lines_ * kChaseLineBytes;
    const std::size_t expected_step = static_cast<std::size_t>(steps_ % lines_);
    std::uintptr_t expected_position = base;
    std::uintptr_t p = base;
    for (std::size_t step = 1; step <= lines_; ++step) {
        const std::uintptr_t from = p;
        p = reinterpret_cast<std::uintptr_t>(*reinterpret_cast<const void* const*>(from));
        if (p < base || p >= end || (p - base) % kChaseLineBytes != 0) {
            v.detail = fmt::format(
                "pointer chase: the link of line {} points outside the {} lines of the buffer",
                (from - base) / kChaseLineBytes, lines_);
            return v;
        }
        if (p == base && step < lines_) {
            v.detail = fmt::format(
                "pointer chase: the cycle from line 0 closes after {} of {} lines (links "
                "corrupted)",
                step, lines_);
            return v;
        }
        if (step == expected_step) {
            expected_position = p;
        }
    }
    if (p != base) {
        v.detail = fmt::format(
            "pointer chase: {} steps from line 0 do not return to it (links corrupted)", lines_);
        return v;
    }
    const auto position = reinterpret_cast<std::uintptr_t>(position_);
    if (position != expected_position) {
        v.detail = fmt::format(
            "pointer chase: after {} loads the chase is at line {}, expected line {}", steps_,
            (position - base) / kChaseLineBytes, (expected_position - base) / kChaseLineBytes);
        return v;
    }
    v.ok = true;
    v.detail = fmt::format(
        "pointer chase: links form one cycle over all {} lines; position after {} loads matches "
        "an independent walk",
        lines_, steps_);
    return v;
}

std::string ChaseBuffer::pages_description() const {
    std::string out;
    if (pages_ == PageMode::thp) {
        out = madvise_ok_ ? "THP requested (MADV_HUGEPAGE)"
                          : "THP requested but madvise(MADV_HUGEPAGE) was refused";
    } else {
        out = madvise_ok_ ? "small pages (MADV_NOHUGEPAGE)"
                          : "small pages requested but madvise(MADV_NOHUGEPAGE) was refused";
    }
    const auto begin = reinterpret_cast<std::uintptr_t>(data_.get());
    const std::optional<std::uint64_t> huge_kib = anon_huge_kib(begin, begin + alloc_bytes_);
    if (huge_kib.has_value()) {
        out += fmt::format(", AnonHugePages {} KiB in the mapping(s) holding the {} KiB buffer",
                           *huge_kib, alloc_bytes_ / 1024);
    } else {
        out += ", huge pages observed: unknown (no /proc/self/smaps entry)";
    }
    return out;
}

void ChaseBuffer::corrupt_link_for_test(std::size_t line) {
    if (line >= lines_) {
        throw UsageError(fmt::format("pointer chase: line {} is outside the {} lines of the buffer",
                                     line, lines_));
    }
    std::byte* at = data_.get() + line * kChaseLineBytes;
    *reinterpret_cast<const void**>(at) = at;
}

PointerChaseKernel::PointerChaseKernel(unsigned pu_os_index, std::size_t working_set_bytes,
                                       PageMode pages, std::optional<unsigned> memory_node,
                                       std::uint64_t seed, std::size_t loads_per_run)
    : pu_(pu_os_index),
      working_set_bytes_(working_set_bytes),
      pages_(pages),
      memory_node_(memory_node),
      seed_(seed),
      loads_per_run_(loads_per_run) {
    if (working_set_bytes < kChaseLineBytes) {
        throw UsageError(
            fmt::format("pointer chase: a working set of {} bytes is less than one {}-byte line",
                        working_set_bytes, kChaseLineBytes));
    }
    if (loads_per_run == 0) {
        throw UsageError("pointer chase: loads per run must be positive");
    }
}

PointerChaseKernel::~PointerChaseKernel() = default;

void PointerChaseKernel::prepare() {
    team_ = std::make_unique<ThreadTeam>(std::vector<unsigned>{pu_});
    buffer_ = std::make_unique<ChaseBuffer>(working_set_bytes_, pages_, memory_node_, seed_);
    // First touch from the pinned thread, so the pages are local to the chasing core.
    team_->run([this](unsigned, unsigned) { buffer_->link(); });
    implementation_ = fmt::format(
        "pointer chase on PU {}: {} B lines, one random cycle (Sattolo) over {} lines, {} "
        "dependent loads per run, {}{}",
        pu_, kChaseLineBytes, buffer_->lines(), loads_per_run_, buffer_->pages_description(),
        memory_node_.has_value() ? fmt::format(", memory bound to NUMA node {}", *memory_node_)
                                 : std::string());
}

void PointerChaseKernel::run() {
    if (!buffer_) {
        throw UsageError("pointer chase: run() before prepare()");
    }
    team_->run([this](unsigned, unsigned) { buffer_->chase(loads_per_run_); });
}

Verification PointerChaseKernel::verify() {
    if (!buffer_) {
        return Verification{false, "pointer chase: not prepared"};
    }
    return buffer_->verify();
}

WorkModel PointerChaseKernel::work() const {
    WorkModel w;
    w.operations = static_cast<double>(loads_per_run_);
    return w;
}

std::string PointerChaseKernel::implementation() const {
    return implementation_;
}

void PointerChaseKernel::corrupt_link_for_test(std::size_t line) {
    if (!buffer_) {
        throw UsageError("pointer chase: corrupt_link_for_test() before prepare()");
    }
    buffer_->corrupt_link_for_test(line);
}

std::size_t PointerChaseKernel::lines() const {
    return buffer_ ? buffer_->lines() : 0;
}

}  // namespace assay
