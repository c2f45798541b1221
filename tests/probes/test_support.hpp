#pragma once
// Shared helpers for the probes tests.
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

namespace assay::test {

/// The directory of real hwloc XML topologies; fails the calling test (not a silent pass) when
/// the build was configured without it.
inline std::filesystem::path topology_dir() {
    const std::filesystem::path dir = ASSAY_TOPOLOGY_DIR;
    INFO("ASSAY_TOPOLOGY_DIR='" << dir.string()
                                << "' does not exist: configure with "
                                   "-DASSAY_TOPOLOGY_DIR=<dir of hwloc XML files> "
                                   "(the repo expects ../shared/topologies)");
    REQUIRE(std::filesystem::is_directory(dir));
    return dir;
}

inline std::filesystem::path topology(const std::string& name) {
    const auto path = topology_dir() / name;
    INFO("missing topology file " << path.string());
    REQUIRE(std::filesystem::exists(path));
    return path;
}

/// A fresh, empty scratch directory under ASSAY_TEST_TMP.
inline std::filesystem::path scratch_dir(const std::string& name) {
    const std::filesystem::path dir = std::filesystem::path(ASSAY_TEST_TMP) / "probes" / name;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

}  // namespace assay::test
