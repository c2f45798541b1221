#include "core/case.hpp"

#include <fmt/format.h>

#include "core/error.hpp"

namespace assay {

std::string Case::canonical_params() const {
    std::string out;
    for (const auto& [key, value] : params) {
        if (!out.empty()) {
            out += ',';
        }
        out += key;
        out += '=';
        out += value;
    }
    return out;
}

std::string Case::id() const {
    const std::string p = canonical_params();
    return p.empty() ? benchmark : benchmark + "/" + p;
}

std::string Case::family() const {
    return benchmark.substr(0, benchmark.find('.'));
}

Params Case::parse_params(const std::string& canonical) {
    Params out;
    std::size_t pos = 0;
    while (pos < canonical.size()) {
        const std::size_t end = std::min(canonical.find(',', pos), canonical.size());
        const std::string item = canonical.substr(pos, end - pos);
        const std::size_t eq = item.find('=');
        if (eq == std::string::npos || eq == 0) {
            throw InputError(fmt::format(
                "malformed case parameters '{}': expected key=value, got '{}'", canonical, item));
        }
        out[item.substr(0, eq)] = item.substr(eq + 1);
        pos = end + 1;
    }
    return out;
}

}  // namespace assay
