#pragma once
/// Small helpers every Markdown renderer in reports/ shares (run report, family sections,
/// attention, compare, regress): one definition each instead of a private copy per file.
/// Escaping for every format lives in reports/escape.hpp.
#include <optional>
#include <string>

#include "core/result.hpp"

namespace assay::report_support {

/// The case parameter `key`, or "" when the case has none.
std::string param(const Result& r, const std::string& key);
/// The metric's value when the result has it and it is finite.
std::optional<double> finite_metric(const Result& r, const std::string& name);
/// Measured and verified: the only results a report turns into figures.
bool usable(const Result& r);

}  // namespace assay::report_support
