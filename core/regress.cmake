# Series keys and change statistics. Owner: regress.
target_sources(assay_core PRIVATE ${CMAKE_CURRENT_LIST_DIR}/series.cpp ${CMAKE_CURRENT_LIST_DIR}/change_stats.cpp)
