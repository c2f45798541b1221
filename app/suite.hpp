#pragma once
/// Suite selection shared by `list` and `run`.
#include <string>
#include <vector>

#include "benches/kernel.hpp"
#include "core/ceiling.hpp"

namespace assay::cli {

/// The defs that belong to `suite` ("all" keeps every def). Throws UsageError for a suite no
/// benchmark belongs to.
std::vector<BenchmarkDef> suite_selection(std::vector<BenchmarkDef> defs, const std::string& suite);

/// Ceilings measured on the fly: for every selected def whose family is judged against a
/// ceiling (core/ceiling.hpp bounding_ceiling: attention prefill -> GEMM of its dtype,
/// attention decode -> DRAM read bandwidth) when neither `known` (the host's stored ceilings)
/// nor the selection itself provides that ceiling, the catalog defs that measure it: the
/// dtype's square GEMM at 2048 (every backend, the same placement) and the DRAM STREAM sum at
/// the same placement (gpu.mem read on a GPU). Returned in catalog order, none already selected,
/// none skipped here.
std::vector<const BenchmarkDef*> ceiling_dependencies(
    const std::vector<BenchmarkDef>& catalog, const std::vector<const BenchmarkDef*>& selected,
    const std::vector<Ceiling>& known);

}  // namespace assay::cli
