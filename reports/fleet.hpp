#pragma once
/// `assay fleet`: outlier hosts and devices among hosts of one class (newest run per host).
/// A series is (case, device kind, backend, headline metric); each device of each host is one
/// point. Outlier = modified z-score 0.6745 (x - median) / MAD <= -3.5 AND at least a 3.5 % gap
/// below the fleet median (direction-aware: above, for lower-is-better metrics). See
/// docs/qualify.md for the MAD = 0 rule and the small-fleet fallback.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "reports/qualify.hpp"
#include "reports/run_report.hpp"

namespace assay {

struct FleetOptions {
    double z_threshold = 3.5;   ///< |modified z| at or beyond which a point may be an outlier
    double min_gap_pct = 3.5;   ///< and its practical gap from the median, in %
    std::size_t min_hosts = 5;  ///< fewer hosts: no fleet statistics (see FleetReport::too_small)
    /// Within one host, a series with at least this many devices (e.g. 8 GPUs) is also checked
    /// device against device, so one slow GPU is found even in a fleet too small for statistics.
    std::size_t min_devices_per_host = 5;
    std::string filter_regex;  ///< ECMAScript, searched in the case id; empty = every case
};

/// One device of one host in a series.
struct FleetPoint {
    std::string hostname;
    std::int64_t run_id = 0;
    std::string device;  ///< "cpu", "cuda:3"
    double value = 0;    ///< the headline metric's ".median"
    /// Modified z-score against the fleet (NaN when the spread is zero: all points equal).
    double z = 0;
    double gap_pct = 0;           ///< (value - median) / median in %, signed
    bool outlier = false;         ///< slow outlier against the whole fleet
    bool device_outlier = false;  ///< slow outlier against the other devices of its own host
};

struct FleetSeries {
    std::string key;  ///< "<case id>@<device kind>:<backend>"
    std::string case_id;
    std::string device_kind;
    std::string backend;
    std::string metric;  ///< e.g. "bandwidth_stream_gb_per_s.median"
    std::string unit;
    Direction direction = Direction::higher_is_better;
    std::size_t hosts = 0;
    double median = 0;
    double mad = 0;
    /// How z was computed: "MAD", "mean absolute deviation (MAD = 0)", "no spread", or
    /// "fleet too small" (z not computed).
    std::string spread_basis;
    std::vector<FleetPoint> points;  ///< sorted by host, then device
};

/// Per-host rollup, ranked by how many series the host fails.
struct FleetHostRollup {
    std::string hostname;
    std::int64_t run_id = 0;
    std::size_t series_total = 0;
    std::size_t series_failed = 0;    ///< series where one of its points is an outlier
    std::vector<std::string> failed;  ///< "<series key> [device]" of each outlier point
};

struct FleetReport {
    std::string host_class;
    std::size_t host_count = 0;
    bool too_small = false;  ///< fewer than min_hosts hosts: no fleet statistics
    std::string note;        ///< e.g. "fleet too small (3 hosts < 5): ..."
    FleetOptions options;
    std::vector<FleetSeries> series;
    std::vector<FleetHostRollup> hosts;  ///< most failed series first, then by name
    /// With too_small and a spec: the spec evaluated on each host's run (the fallback).
    std::vector<QualifyReport> spec_fallback;
    std::size_t outlier_points = 0;  ///< fleet and device outliers together
};

/// Analyses the newest run of each host (one RunWithResults per host; a second run of the same
/// host throws UsageError). Only ok, verified results with a headline metric count. `spec`,
/// when given, is evaluated per host when the fleet is too small. Throws UsageError for a bad
/// filter regex.
FleetReport analyze_fleet(const std::vector<RunWithResults>& newest_runs,
                          const std::string& host_class, const FleetOptions& options,
                          const QualifySpec* spec = nullptr);

/// Exit category of `assay fleet`: 1 when an outlier was found (or, in the spec fallback, a
/// check failed), 3 when the fallback spec had errors and nothing failed, else 0.
int fleet_exit_code(const FleetReport& report);

enum class FleetFormat { markdown, json };
/// "md"/"markdown" or "json"; throws UsageError otherwise.
FleetFormat fleet_format_from_string(const std::string& s);
std::string render_fleet(const FleetReport& report, FleetFormat format);

}  // namespace assay
