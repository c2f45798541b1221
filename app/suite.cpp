#include "app/suite.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "core/error.hpp"

namespace assay::cli {

std::vector<BenchmarkDef> suite_selection(std::vector<BenchmarkDef> defs,
                                          const std::string& suite) {
    if (suite == "all") {
        return defs;
    }
    std::set<std::string> known;
    for (const auto& d : defs)
        known.insert(d.suites.begin(), d.suites.end());
    if (!known.count(suite)) {
        std::string names;
        for (const auto& k : known)
            names += (names.empty() ? "" : ", ") + k;
        throw UsageError(fmt::format("unknown suite '{}' (known: {}, all)", suite, names));
    }
    std::erase_if(defs, [&](const BenchmarkDef& d) {
        return std::find(d.suites.begin(), d.suites.end(), suite) == d.suites.end();
    });
    return defs;
}

}  // namespace assay::cli
