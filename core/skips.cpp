#include "core/skips.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

namespace assay {
namespace {

bool starts_with(const std::string& s, const char* prefix) {
    return s.rfind(prefix, 0) == 0;
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        out += (out.empty() ? "" : ", ") + item;
    }
    return out;
}

}  // namespace

std::string device_kind_of(const std::string& device) {
    if (device == "cpu" || starts_with(device, "cpu:")) {
        return "CPU";
    }
    for (const char* gpu : {"cuda", "gpu", "hip", "rocm"}) {
        if (starts_with(device, gpu)) {
            return "GPU";
        }
    }
    return {};
}

std::vector<SkipGroup> group_skipped(const std::vector<Result>& results) {
    std::vector<SkipGroup> groups;
    std::map<std::string, std::size_t> index;  // reason -> position in groups
    std::vector<bool> kind_agrees;
    for (const Result& r : results) {
        if (r.status != ResultStatus::skipped) {
            continue;
        }
        auto [it, inserted] = index.emplace(r.message, groups.size());
        const std::string kind = device_kind_of(r.device);
        if (inserted) {
            groups.push_back({r.message, 0, {}, kind, {}});
            kind_agrees.push_back(true);
        }
        SkipGroup& g = groups[it->second];
        ++g.count;
        const std::string family = r.bench_case.family();
        if (std::find(g.families.begin(), g.families.end(), family) == g.families.end()) {
            g.families.push_back(family);
        }
        if (kind != g.device_kind) {
            kind_agrees[it->second] = false;
        }
        std::string name = r.bench_case.id();
        if (!r.device.empty()) {
            name += "@" + r.device + (r.backend.empty() ? "" : ":" + r.backend);
        }
        g.benchmarks.push_back(std::move(name));
    }
    for (std::size_t i = 0; i < groups.size(); ++i) {
        std::sort(groups[i].families.begin(), groups[i].families.end());
        if (!kind_agrees[i]) {
            groups[i].device_kind.clear();
        }
    }
    std::stable_sort(groups.begin(), groups.end(), [](const SkipGroup& a, const SkipGroup& b) {
        return a.count != b.count ? a.count > b.count : a.reason < b.reason;
    });
    return groups;
}

std::string describe(const SkipGroup& g) {
    return fmt::format("{} {}benchmark{} skipped: {} ({}: {})", g.count,
                       g.device_kind.empty() ? "" : g.device_kind + " ", g.count == 1 ? "" : "s",
                       g.reason.empty() ? "no reason recorded" : g.reason,
                       g.families.size() == 1 ? "family" : "families", join(g.families));
}

}  // namespace assay
