#pragma once
/// `assay report`: stored runs per host with their results (best, median, unit, noise, verified).
/// Rendering is data -> text; the CLI reads the store and writes the output.
#include <string>
#include <vector>

#include "core/ceiling.hpp"
#include "core/run_info.hpp"

namespace assay {

enum class ReportFormat { markdown, json };
/// "md"/"markdown" or "json"; throws UsageError otherwise.
ReportFormat report_format_from_string(const std::string& s);

struct RunWithResults {
    StoredRun run;
    std::vector<StoredResult> results;
    std::vector<StoredCeiling> ceilings;  ///< the run's measured ceilings (may be empty)
};

/// The headline figure of a result: a throughput metric when the result has one
/// ("<name>.best" with a matching ".median"), else its time per execution.
struct Headline {
    std::string quantity;  ///< "bandwidth (STREAM bytes)", "time", ...
    double best = 0;
    double median = 0;
    std::string unit;
    bool available = false;  ///< false for skipped/failed-without-samples results
};
Headline headline_of(const Result& result);

struct ReportContext {
    std::string db_path;
    std::string generated_at;  ///< UTC ISO-8601
};

/// Renders runs grouped by host (newest run first within a host).
std::string render_run_report(const std::vector<RunWithResults>& runs, const ReportContext& context,
                              ReportFormat format);

}  // namespace assay
