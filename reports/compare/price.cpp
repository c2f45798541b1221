#include "reports/compare/price.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "core/error.hpp"

namespace assay {
namespace {

/// A price outside this range is a typo or hostile input, not a price.
constexpr double kMinUsdPerHour = 1e-6;
constexpr double kMaxUsdPerHour = 1e6;

std::string to_string(toml::node_type type) {
    switch (type) {
        case toml::node_type::string:
            return "string";
        case toml::node_type::boolean:
            return "boolean";
        case toml::node_type::table:
            return "table";
        case toml::node_type::array:
            return "array";
        default:
            return "date or time";
    }
}

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
        throw InputError(fmt::format("price table {} line {}: {}", origin, e.source().begin.line,
                                     e.description()));
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
        const toml::node* usd_node = t->get("usd_per_hour");
        // A plain double (GCC's -Wmaybe-uninitialized misreads an optional here).
        const bool usd_is_number = usd_node != nullptr && usd_node->value<double>().has_value();
        const double usd = usd_is_number ? usd_node->value<double>().value_or(0.0) : 0.0;
        e.date = (*t)["date"].value_or(std::string{});
        e.source = (*t)["source"].value_or(std::string{});
        if (!has_prefix(e.match, "instance_type:") && !has_prefix(e.match, "hostname:") &&
            !has_prefix(e.match, "fingerprint:")) {
            throw InputError(fmt::format(
                "price table {}: entry {} has match '{}' (expected instance_type:X, hostname:X or "
                "fingerprint:X)",
                origin, index, e.match));
        }
        if (usd_node == nullptr) {
            throw InputError(
                fmt::format("price table {} line {}: entry {} ({}) has no usd_per_hour", origin,
                            t->source().begin.line, index, e.match));
        }
        // Denormals, infinities and absurd values would turn every per-$ figure into 0, inf or
        // an out-of-range number downstream.
        if (!usd_is_number || !std::isnormal(usd) || usd < kMinUsdPerHour || usd > kMaxUsdPerHour) {
            throw InputError(fmt::format(
                "price table {} line {}: usd_per_hour must be a number in [{}, {}] (US dollars "
                "per hour), got {}",
                origin, usd_node->source().begin.line, kMinUsdPerHour, kMaxUsdPerHour,
                usd_is_number ? fmt::format("{}", usd)
                              : std::string("a ") + to_string(usd_node->type())));
        }
        e.usd_per_hour = usd;
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
    if (!work || !std::isnormal(usd_per_hour) || usd_per_hour < 0) {
        return std::nullopt;
    }
    return PerUnit{value * 3600.0 / usd_per_hour, *work + "/$"};
}

std::optional<PerUnit> per_watt(double value, const std::string& unit, double watts) {
    if (!work_unit(unit) || !std::isnormal(watts) || watts < 0) {
        return std::nullopt;
    }
    // (work/s) / W = work per joule.
    return PerUnit{value / watts, *work_unit(unit) + "/J"};
}

}  // namespace assay
