#pragma once
/// Skipped results grouped by reason: a CPU-only host skips every GPU benchmark for the same
/// reason, so `assay run` and `assay report` show one line per reason instead of one per result.
/// The store keeps every skip; this is presentation data only.
#include <cstddef>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace assay {

struct SkipGroup {
    std::string reason;                   ///< the results' skip message ("" when none was given)
    std::size_t count = 0;                ///< skipped results with this reason
    std::vector<std::string> families;    ///< Case::family() of each, sorted, unique
    std::string device_kind;              ///< "GPU" or "CPU" when all agree, else ""
    std::vector<std::string> benchmarks;  ///< "<case id>@<device>:<backend>", in input order
};

/// "GPU" for CUDA/HIP/ROCm devices ("cuda:0"), "CPU" for "cpu", "" when unknown.
std::string device_kind_of(const std::string& device);

/// The skipped results of `results` grouped by their reason, most frequent first (ties by
/// reason). Results that are ok or failed are ignored; no skips gives an empty vector.
std::vector<SkipGroup> group_skipped(const std::vector<Result>& results);

/// One line shared by the CLI and the report, e.g. "11 GPU benchmarks skipped: no CUDA GPU:
/// none detected (families: attention, gemm, gpu)" or "1 benchmark skipped: why (family: x)".
std::string describe(const SkipGroup& group);

}  // namespace assay
