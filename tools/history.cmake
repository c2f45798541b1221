# make_synthetic_history: writes clearly labelled SYNTHETIC nightly history through the Store
# API (scripts/demo-regress.sh, scripts/bench-history.sh). Owner: regress.
# Included from the top-level CMakeLists.txt.
add_executable(make_synthetic_history
  ${CMAKE_CURRENT_LIST_DIR}/make_synthetic_history/make_synthetic_history.cpp)
assay_target(make_synthetic_history)
target_link_libraries(make_synthetic_history PRIVATE assay_store assay_core fmt::fmt)
