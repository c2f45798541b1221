#pragma once
/// `assay report compare --format html`: the comparison model as one self-contained HTML5 page
/// (inline CSS, inline SVG charts, a few lines of vanilla JS for sortable tables; nothing is
/// fetched from the network). Readable at laptop widths and printable (@media print).
///
/// Sections (ids for links and tests): #summary, #hosts (host cards), #ratios (ratio bars per
/// family and compared lane: svg.chart-ratio), #families (table#family-table), #rows
/// (table#rows-table, one <tbody> row per model row; table#one-sided-table), #curves
/// (svg#curve-bandwidth, svg#curve-latency), #rooflines (svg.chart-roofline, one per model
/// roofline), #gemm-efficiency (svg#gemm-efficiency-chart), #cost (table#cost-table),
/// #projections (table#projection-table). Numbers use the same formatting helpers as the
/// Markdown renderer, so the two formats show the same figures.
#include <string>

#include "reports/compare/compare_model.hpp"

namespace assay {

/// Renders the page. Pure: data in, text out (the CLI writes the file).
std::string render_compare_html(const CompareModel& model);

}  // namespace assay
