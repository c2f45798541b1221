#pragma once
// The real hwloc topology files the benches tests run on (ASSAY_TOPOLOGY_DIR).
#include <algorithm>
#include <filesystem>
#include <vector>

namespace assay::test {

/// Every .xml file in ASSAY_TOPOLOGY_DIR, sorted by path.
inline std::vector<std::filesystem::path> topology_xmls() {
    std::vector<std::filesystem::path> out;
    for (const auto& entry : std::filesystem::directory_iterator(ASSAY_TOPOLOGY_DIR)) {
        if (entry.path().extension() == ".xml") {
            out.push_back(entry.path());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace assay::test
