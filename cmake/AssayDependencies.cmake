# Every dependency comes from a Debian 12 package (see scripts/install-deps.sh).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(fmt REQUIRED)
find_package(benchmark REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
pkg_check_modules(HWLOC REQUIRED IMPORTED_TARGET hwloc>=2.0)
pkg_check_modules(PAPI REQUIRED IMPORTED_TARGET papi)
# RE2 (libre2-dev): linear-time matching of user-supplied patterns (core/pattern.cpp).
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
# libpfm4 (libpfm4-dev): its event encoder resolves counter names for perf_event_open where PAPI
# cannot serve an event (collect/pfm_encoder.cpp). No pkg-config file: found by header + library.
find_path(ASSAY_PFM_INCLUDE_DIR perfmon/pfmlib_perf_event.h REQUIRED)
find_library(ASSAY_PFM_LIBRARY pfm REQUIRED)
add_library(assay_libpfm INTERFACE)
target_include_directories(assay_libpfm SYSTEM INTERFACE "${ASSAY_PFM_INCLUDE_DIR}")
target_link_libraries(assay_libpfm INTERFACE "${ASSAY_PFM_LIBRARY}")
if(ASSAY_BUILD_TESTS)
  find_package(Catch2 2 REQUIRED)
endif()
# toml++ (libtomlplusplus-dev): header-only TOML for specs and price tables. Found by its header,
# not its arch-specific CMake package, so the aarch64 cross-build uses the same (arch-independent)
# headers.
find_path(ASSAY_TOMLPP_INCLUDE_DIR toml++/toml.h REQUIRED)
add_library(assay_tomlplusplus INTERFACE)
target_include_directories(assay_tomlplusplus SYSTEM INTERFACE "${ASSAY_TOMLPP_INCLUDE_DIR}")
