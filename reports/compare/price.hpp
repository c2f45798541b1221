#pragma once
/// Price table for per-dollar columns: a TOML file of `[[price]]` entries (see
/// examples/prices.example.toml and docs/report-compare.md). Prices are user data, never
/// measured; every figure derived from one names the entry's date and source.
#include <optional>
#include <string>
#include <vector>

namespace assay {

/// One `[[price]]` entry.
struct PriceEntry {
    std::string match;  ///< "instance_type:p5.48xlarge", "hostname:foo" or "fingerprint:ab12"
    double usd_per_hour = 0;
    std::string date;    ///< when the price was read, e.g. "2026-11-01"
    std::string source;  ///< where it came from (URL or note)
};

/// Parses a price table. Throws InputError naming the file/entry (and line) on malformed TOML, a
/// missing usd_per_hour or one that is not a number in [1e-6, 1e6] (negative, zero, denormal,
/// infinite), or a match without a known "kind:" prefix.
std::vector<PriceEntry> parse_price_table(const std::string& toml_text, const std::string& origin);

/// Reads and parses a price table file; InputError when it cannot be read.
std::vector<PriceEntry> load_price_table(const std::string& path);

/// The first entry matching the host: instance_type, then hostname, then fingerprint prefix.
/// nullptr when none matches.
const PriceEntry* find_price(const std::vector<PriceEntry>& prices, const std::string& hostname,
                             const std::string& instance_type, const std::string& fingerprint);

/// Throughput per dollar, for a throughput `value` in `unit` per second (e.g. GFLOP/s) at
/// `usd_per_hour`: value × 3600 / usd_per_hour, with its unit ("GFLOP/$"). nullopt when the unit
/// is not a per-second throughput.
struct PerUnit {
    double value = 0;
    std::string unit;
};
std::optional<PerUnit> per_dollar(double value, const std::string& unit, double usd_per_hour);
/// Throughput per watt: value / watts, i.e. work per joule, unit "<work>/J" (e.g. "GFLOP/J" =
/// GFLOP/s per W); nullopt when not a per-second throughput or watts <= 0.
std::optional<PerUnit> per_watt(double value, const std::string& unit, double watts);

}  // namespace assay
