#pragma once
/// Private to probes: small, non-throwing readers for procfs/sysfs-style text files, always
/// relative to a root directory so tests can point the probe at a fake tree.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace assay::probes {

/// `root` joined with an absolute path such as "/proc/meminfo" (the leading '/' is dropped).
std::filesystem::path under_root(const std::filesystem::path& root, std::string_view abs_path);

/// The whole file, or nullopt when it is missing or unreadable.
std::optional<std::string> read_text(const std::filesystem::path& path);

/// The first line, whitespace-trimmed; nullopt when missing, unreadable or empty.
std::optional<std::string> read_line(const std::filesystem::path& path);

/// Copy of `text` without leading/trailing whitespace (spaces, tabs, CR, LF, NUL).
std::string trim(std::string_view text);

/// Parses an unsigned decimal integer (whole string, after trimming); nullopt otherwise.
std::optional<std::uint64_t> parse_u64(std::string_view text);

/// Parses a signed decimal integer (whole string, after trimming); nullopt otherwise.
std::optional<int> parse_int(std::string_view text);

/// A /proc/meminfo field in bytes ("MemTotal:  24576000 kB" -> 25165824000); fields without
/// a unit (HugePages_Total) are returned as they are. nullopt when the key is absent.
std::optional<std::uint64_t> meminfo_value(std::string_view meminfo_text, std::string_view key);

/// The selected word of a sysfs choice file ("always [madvise] never" -> "madvise"); the whole
/// trimmed text when there are no brackets; "" for empty input.
std::string selected_choice(std::string_view text);

/// Value of KEY=value (quotes removed) in an os-release style file; "" when absent.
std::string key_value(std::string_view text, std::string_view key);

}  // namespace assay::probes
