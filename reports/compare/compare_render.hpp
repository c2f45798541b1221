#pragma once
/// Text renderings of a CompareModel: Markdown (fits a PR comment), CSV (one row per compared
/// row and host, stable column names) and JSON (schema "assay.compare/1"). Formats are
/// documented in docs/report-compare.md. Output is a pure function of the model (deterministic).
#include <string>

#include "reports/compare/compare_model.hpp"

namespace assay {

enum class CompareFormat { markdown, csv, json, html };
/// "md"/"markdown", "csv", "json", "html"; throws UsageError otherwise.
CompareFormat compare_format_from_string(const std::string& s);

/// A number as every compare format prints it: 4 significant digits, no exponent for
/// 1e-3 <= |v| < 1e7 (e.g. "5200", "0.9873", "1.234e+07"). Renderers share it so numbers match.
std::string compare_number(double v);
/// "1.234 [1.201, 1.270]" (ratio and CI); "-" when the ratio is 0 (not computable).
std::string ratio_text(const RatioCi& r);
/// "32 KiB", "1.5 MiB", "2 GiB".
std::string bytes_text(double bytes);

std::string render_compare_markdown(const CompareModel& model);
/// CSV columns (header row first), RFC 4180 quoting: see docs/report-compare.md.
std::string render_compare_csv(const CompareModel& model);
std::string render_compare_json(const CompareModel& model);

}  // namespace assay
