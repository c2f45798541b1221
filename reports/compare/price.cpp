#include "reports/compare/price.hpp"

#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "core/error.hpp"

namespace assay {
namespace {

bool has_prefix(const std::string& s, const std::string& prefix) {
    return s.rfind(prefix, 0) == 0;
}

/// Per-second throughput units and what one second-free unit is called.
std::optional<std::string> work_unit(const std::string& unit) {
    const std::string suffix = "/s";
    if (unit.size() > suffix.size() && unit.ends_with(suffix)) {
        return unit.substr(0, unit.size() - suffix.size());
    }
    return std::nullopt;
}

}  // namespace

std::vector<PriceEntry> parse_price_table(const std::string& toml_text, const std::string& origin) {
    toml::table doc;
    try {
        doc = toml::parse(toml_text, origin);
    } catch (const toml::parse_error& e) {
        throw InputError(fmt::format("price table {}: {} (line {})", origin, e.description(),
                                     e.source().begin.line));
    }
    std::vector<PriceEntry> out;
    const toml::array* prices = doc["price"].as_array();
    if (prices == nullptr) {
        throw InputError(
            fmt::format("price table {}: no [[price]] entries (see the example table)", origin));
    }
    std::size_t index = 0;
    for (const toml::node& node : *prices) {
        ++index;
        const toml::table* t = node.as_table();
        if (t == nullptr) {
            throw InputError(
                fmt::format("price table {}: price entry {} is not a table", origin, index));
        }
        PriceEntry e;
        e.match = (*t)["match"].value_or(std::string{});
        const std::optional<double> usd = (*t)["usd_per_hour"].value<double>();
        e.date = (*t)["date"].value_or(std::string{});
        e.source = (*t)["source"].value_or(std::string{});
        if (!has_prefix(e.match, "instance_type:") && !has_prefix(e.match, "hostname:") &&
            !has_prefix(e.match, "fingerprint:")) {
            throw InputError(fmt::format(
                "price table {}: entry {} has match '{}' (expected instance_type:X, hostname:X or "
                "fingerprint:X)",
                origin, index, e.match));
        }
        if (!usd || !(*usd > 0)) {
            throw InputError(
                fmt::format("price table {}: entry {} ({}) needs a positive usd_per_hour", origin,
                            index, e.match));
        }
        e.usd_per_hour = *usd;
        out.push_back(std::move(e));
    }
    return out;
}

std::vector<PriceEntry> load_price_table(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw InputError(fmt::format("price table {}: cannot be read", path));
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return parse_price_table(ss.str(), path);
}

const PriceEntry* find_price(const std::vector<PriceEntry>& prices, const std::string& hostname,
                             const std::string& instance_type, const std::string& fingerprint) {
    if (!instance_type.empty()) {
        for (const PriceEntry& e : prices) {
            if (e.match == "instance_type:" + instance_type) {
                return &e;
            }
        }
    }
    for (const PriceEntry& e : prices) {
        if (e.match == "hostname:" + hostname) {
            return &e;
        }
    }
    for (const PriceEntry& e : prices) {
        const std::string prefix = "fingerprint:";
        if (has_prefix(e.match, prefix) && e.match.size() > prefix.size() &&
            has_prefix(fingerprint, e.match.substr(prefix.size()))) {
            return &e;
        }
    }
    return nullptr;
}

std::optional<PerUnit> per_dollar(double value, const std::string& unit, double usd_per_hour) {
    const auto work = work_unit(unit);
    if (!work || !(usd_per_hour > 0)) {
        return std::nullopt;
    }
    return PerUnit{value * 3600.0 / usd_per_hour, *work + "/$"};
}

std::optional<PerUnit> per_watt(double value, const std::string& unit, double watts) {
    if (!work_unit(unit) || !(watts > 0)) {
        return std::nullopt;
    }
    // (work/s) / W = work per joule.
    return PerUnit{value / watts, *work_unit(unit) + "/J"};
}

}  // namespace assay
