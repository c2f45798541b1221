#pragma once
/// Views of one run's results by benchmark family, for the Markdown report: the measured
/// ceilings, the memory hierarchy (cache-level sweep and pointer-chase latency side by side,
/// with level labels), loaded latency, the NUMA matrix, the core-to-core latency matrix and
/// the GEMM summary. Each section appears only when the run has results for it.
#include <string>
#include <vector>

#include "core/ceiling.hpp"
#include "core/run_info.hpp"

namespace assay {

/// "Measured ceilings" table (device, name, value, unit, how derived); "" when none.
std::string render_ceilings_section(const std::vector<StoredCeiling>& ceilings);

/// Every family section the results support, in a fixed order; "" when none applies.
std::string render_family_sections(const std::vector<StoredResult>& results);

}  // namespace assay
