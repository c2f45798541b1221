# Comparison model, statistics, Markdown/CSV/JSON, prices, projections. Owner: compare data.
target_sources(assay_reports PRIVATE
  compare/compare_model.cpp
  compare/compare_stats.cpp
  compare/compare_render.cpp
  compare/price.cpp
  compare/projection.cpp)
