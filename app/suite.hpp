#pragma once
/// Suite selection shared by `list` and `run`.
#include <string>
#include <vector>

#include "benches/kernel.hpp"

namespace assay::cli {

/// The defs that belong to `suite` ("all" keeps every def). Throws UsageError for a suite no
/// benchmark belongs to.
std::vector<BenchmarkDef> suite_selection(std::vector<BenchmarkDef> defs, const std::string& suite);

}  // namespace assay::cli
