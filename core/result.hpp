#pragma once
/// Result and Metric: what a benchmark produced, as it goes from collect to store to reports.
#include <string>
#include <vector>

#include "core/case.hpp"
#include "core/stats.hpp"

namespace assay {

enum class Direction { higher_is_better, lower_is_better, none };
const char* to_string(Direction d);
Direction direction_from_string(const std::string& s);  ///< throws InputError

/// A named value attached to a result: a derived throughput, a counter, a telemetry reading.
/// Names carry their convention, e.g. "bandwidth_stream_gb_per_s.best".
struct Metric {
    std::string name;
    double value = 0;
    std::string unit;  ///< "GB/s", "bytes", "threads", "FLOP/s", ...
    Direction direction = Direction::none;
};

enum class ResultStatus {
    ok,       ///< measured and verified
    failed,   ///< ran but failed (verification failed, kernel threw, interrupted)
    skipped,  ///< could not run here; `message` says why
};
const char* to_string(ResultStatus s);
ResultStatus result_status_from_string(const std::string& s);  ///< throws InputError

struct Result {
    Case bench_case;
    std::string device;   ///< "cpu", "cuda:0"
    std::string backend;  ///< implementation, e.g. "cpu.native", "cuda"
    ResultStatus status = ResultStatus::skipped;
    std::string message;          ///< skip reason / failure detail; empty when ok
    std::string unit = "s";       ///< unit of samples: seconds per kernel execution
    std::vector<double> samples;  ///< every timed sample, in measurement order
    SampleStats stats;            ///< summarize(samples)
    bool verified = false;        ///< output checked against its reference and correct
    std::string verification;     ///< what was checked, tolerance, worst error
    std::string implementation;   ///< what actually ran (library kernel, algorithm), if known
    std::vector<Metric> metrics;
    std::string started_at;   ///< UTC ISO-8601
    double wall_seconds = 0;  ///< warm-up + sampling + verification

    const Metric* find_metric(const std::string& name) const;
};

}  // namespace assay
