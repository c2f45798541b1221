#pragma once
/// `assay export`: a selection of stored results as CSV or JSON for other tools (spreadsheets,
/// pandas, dashboards). Column names and the JSON layout ("schema": "assay.export/1") are a
/// stable interface, documented in docs/export.md.
#include <string>
#include <vector>

#include "reports/run_report.hpp"

namespace assay {

enum class ExportFormat { csv, json };
/// "csv" or "json"; throws UsageError otherwise.
ExportFormat export_format_from_string(const std::string& s);

/// Selection applied on top of what the store query returned (host, tag and run id are store
/// filters).
struct ExportSelection {
    std::string filter;  ///< ECMAScript regex searched in the case id ("bench/k=v,..."); "" = all
    std::string since;   ///< only runs started at or after this UTC ISO-8601 time; "" = all
};

/// Throws UsageError for a malformed regex or `since` that is not ISO-8601 (YYYY-MM-DD...).
void validate_selection(const ExportSelection& selection);

/// The stable CSV header, in order (one row per result and metric; a result without metrics
/// has one row with empty metric columns).
const std::vector<std::string>& export_csv_columns();

/// Renders the selected runs and results. Runs left without results by the filter are left
/// out. `generated_at` is written into the JSON document.
std::string render_export(const std::vector<RunWithResults>& runs, const ExportSelection& selection,
                          ExportFormat format, const std::string& generated_at);

}  // namespace assay
