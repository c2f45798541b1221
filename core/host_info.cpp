#include "core/host_info.hpp"

#include <algorithm>

namespace assay {

std::string CacheLevel::name() const {
    std::string n = "L" + std::to_string(level);
    if (type == "data") {
        n += 'd';
    } else if (type == "instruction") {
        n += 'i';
    }
    return n;
}

const CacheLevel* TopologyInfo::last_level_cache() const {
    const CacheLevel* best = nullptr;
    for (const auto& c : caches) {
        if (c.type == "instruction") {
            continue;
        }
        if (best == nullptr || c.level > best->level) {
            best = &c;
        }
    }
    return best;
}

std::uint64_t TopologyInfo::total_llc_bytes() const {
    const CacheLevel* llc = last_level_cache();
    return llc != nullptr ? llc->size_bytes * llc->instances : 0;
}

bool CpuInfo::has(const std::string& feature) const {
    return std::find(isa_features.begin(), isa_features.end(), feature) != isa_features.end();
}

}  // namespace assay
