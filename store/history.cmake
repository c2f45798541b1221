# History queries. Owner: regress.
target_sources(assay_store PRIVATE ${CMAKE_CURRENT_LIST_DIR}/history.cpp)
