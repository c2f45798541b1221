# Series keys and change statistics tests (calibration on synthetic series). Owner: regress.
target_sources(core_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR}/series_test.cpp
                                  ${CMAKE_CURRENT_LIST_DIR}/change_stats_test.cpp)
