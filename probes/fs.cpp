#include "probes/fs.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

namespace assay::probes {

std::filesystem::path under_root(const std::filesystem::path& root, std::string_view abs_path) {
    while (!abs_path.empty() && abs_path.front() == '/') {
        abs_path.remove_prefix(1);
    }
    return root / std::filesystem::path(abs_path);
}

std::optional<std::string> read_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    // Reading a directory or a file we may open but not read sets badbit/failbit.
    if (in.bad()) {
        return std::nullopt;
    }
    return buffer.str();
}

std::optional<std::string> read_line(const std::filesystem::path& path) {
    auto text = read_text(path);
    if (!text) {
        return std::nullopt;
    }
    std::string line = trim(text->substr(0, text->find('\n')));
    if (line.empty()) {
        return std::nullopt;
    }
    return line;
}

std::string trim(std::string_view text) {
    constexpr std::string_view kSpace = " \t\r\n\f\v";
    std::string s(text);
    // sysfs strings from firmware sometimes carry trailing NULs.
    while (!s.empty() && (kSpace.find(s.back()) != std::string_view::npos || s.back() == '\0')) {
        s.pop_back();
    }
    std::size_t first = 0;
    while (first < s.size() && kSpace.find(s[first]) != std::string_view::npos) {
        ++first;
    }
    return s.substr(first);
}

std::optional<std::uint64_t> parse_u64(std::string_view text) {
    const std::string t = trim(text);
    std::uint64_t value = 0;
    const char* end = t.data() + t.size();
    auto [ptr, ec] = std::from_chars(t.data(), end, value);
    if (t.empty() || ec != std::errc() || ptr != end) {
        return std::nullopt;
    }
    return value;
}

std::optional<int> parse_int(std::string_view text) {
    const std::string t = trim(text);
    int value = 0;
    const char* end = t.data() + t.size();
    auto [ptr, ec] = std::from_chars(t.data(), end, value);
    if (t.empty() || ec != std::errc() || ptr != end) {
        return std::nullopt;
    }
    return value;
}

std::optional<std::uint64_t> meminfo_value(std::string_view meminfo_text, std::string_view key) {
    std::istringstream in{std::string(meminfo_text)};
    std::string line;
    while (std::getline(in, line)) {
        const auto colon = line.find(':');
        if (colon == std::string::npos || trim(line.substr(0, colon)) != key) {
            continue;
        }
        std::istringstream fields(line.substr(colon + 1));
        std::string number;
        std::string unit;
        fields >> number >> unit;
        auto value = parse_u64(number);
        if (!value) {
            return std::nullopt;
        }
        if (unit == "kB") {
            return *value * 1024;
        }
        return value;
    }
    return std::nullopt;
}

std::string selected_choice(std::string_view text) {
    const auto open = text.find('[');
    const auto close = text.find(']', open == std::string_view::npos ? 0 : open);
    if (open == std::string_view::npos || close == std::string_view::npos) {
        return trim(text);
    }
    return trim(text.substr(open + 1, close - open - 1));
}

std::string key_value(std::string_view text, std::string_view key) {
    std::istringstream in{std::string(text)};
    std::string line;
    while (std::getline(in, line)) {
        const auto eq = line.find('=');
        if (eq == std::string::npos || trim(line.substr(0, eq)) != key) {
            continue;
        }
        std::string value = trim(line.substr(eq + 1));
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
            value.back() == value.front()) {
            value = value.substr(1, value.size() - 2);
        }
        return value;
    }
    return {};
}

}  // namespace assay::probes
