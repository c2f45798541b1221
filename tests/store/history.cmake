# History queries and the schema-3 migration. Owner: regress.
target_sources(store_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR}/history_test.cpp)
