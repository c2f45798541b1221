#pragma once
/// History queries for regression tracking: every stored result grouped into time series
/// (core/series.hpp), oldest point first. Uses the indexes of schema migration 003.
#include <string>
#include <vector>

#include "core/series.hpp"
#include "store/store.hpp"

namespace assay {

struct HistoryFilter {
    std::string hostname;  ///< only runs of this hostname; empty = any
    std::string tag;       ///< only runs with this tag; empty = any
    /// Metric names to follow, in order of preference: each result contributes the first of
    /// these it has (e.g. {"bandwidth_stream_gb_per_s.median", "gflop_per_s.median"}).
    std::vector<std::string> metrics;
    /// A result with none of `metrics` follows its median time per execution instead, as
    /// metric "time.median" (unit of the samples, lower is better). Off: such results are left
    /// out.
    bool fallback_to_time = true;
    std::string since;  ///< only runs started at or after this ISO-8601 time; empty = all
};

/// Loads the series of every finished (complete or incomplete) run that matches `filter`;
/// only results with status ok and a finite value count; each backend of a case is its own
/// series. A run with two results for one series keeps the first stored. The host class of a
/// hw_config whose probe JSON cannot be read is "fp:" + the first 13 hex digits of its fingerprint,
/// so it never merges with other hosts. Throws StoreError.
History load_history(Store& store, const HistoryFilter& filter);

}  // namespace assay
