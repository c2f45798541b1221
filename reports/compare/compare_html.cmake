# Comparison HTML page with inline SVG charts. Owner: compare html.
target_sources(assay_reports PRIVATE compare/svg_chart.cpp compare/compare_html.cpp)
