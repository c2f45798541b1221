#include "collect/counter_groups.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "collect/formula.hpp"
#include "core/error.hpp"

#ifndef ASSAY_COUNTER_GROUPS_DIR
#define ASSAY_COUNTER_GROUPS_DIR ""
#endif

namespace assay {

namespace {

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) {
        return {};
    }
    const auto e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

bool garbled(const std::string& name) {
    return !valid_counter_name(name);
}

}  // namespace

bool valid_counter_name(const std::string& name) {
    return !name.empty() && std::none_of(name.begin(), name.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return std::isspace(u) != 0 || std::iscntrl(u) != 0 || u >= 0x80;
    });
}

std::filesystem::path counter_groups_dir() {
    if (const char* env = std::getenv("ASSAY_COUNTER_GROUPS_DIR"); env != nullptr && *env) {
        return env;
    }
    return ASSAY_COUNTER_GROUPS_DIR;
}

CounterGroup parse_counter_group(const std::string& name, const std::string& text) {
    CounterGroup g;
    g.name = name;
    std::istringstream in(text);
    std::string raw;
    int line_no = 0;
    while (std::getline(in, raw)) {
        ++line_no;
        const auto hash = raw.find('#');
        const std::string line = trim(hash == std::string::npos ? raw : raw.substr(0, hash));
        if (line.empty()) {
            continue;
        }
        const auto fail = [&](const std::string& what) {
            throw InputError(fmt::format("counter group '{}' line {}: {}", name, line_no, what));
        };
        const auto space = line.find_first_of(" \t");
        const std::string keyword = line.substr(0, space);
        const std::string rest = space == std::string::npos ? "" : trim(line.substr(space));
        if (keyword == "event") {
            if (garbled(rest)) {
                fail(fmt::format("bad event name '{}'", rest));
            }
            if (std::find(g.events.begin(), g.events.end(), rest) == g.events.end()) {
                g.events.push_back(rest);
            }
        } else if (keyword == "metric") {
            const auto eq = rest.find('=');
            const auto semi = rest.rfind(';');
            if (eq == std::string::npos || semi == std::string::npos || semi < eq) {
                fail("expected 'metric NAME = EXPR ; UNIT'");
            }
            CounterGroup::Derived d{trim(rest.substr(0, eq)),
                                    trim(rest.substr(eq + 1, semi - eq - 1)),
                                    trim(rest.substr(semi + 1))};
            if (garbled(d.name) || d.expr.empty()) {
                fail("expected 'metric NAME = EXPR ; UNIT'");
            }
            try {
                for (const std::string& id : formula_identifiers(d.expr)) {
                    if (id != "time" &&
                        std::find(g.events.begin(), g.events.end(), id) == g.events.end()) {
                        fail(
                            fmt::format("metric '{}' uses '{}', not an event of the group "
                                        "(declare events before metrics)",
                                        d.name, id));
                    }
                }
            } catch (const InputError& e) {
                if (std::string(e.what()).rfind("counter group", 0) == 0) {
                    throw;
                }
                fail(e.what());
            }
            g.metrics.push_back(std::move(d));
        } else {
            fail(fmt::format("unknown directive '{}' (expected 'event' or 'metric')", keyword));
        }
    }
    if (g.events.empty()) {
        throw InputError(fmt::format("counter group '{}': no events", name));
    }
    return g;
}

namespace {

/// The directories searched for a target's groups, most specific first.
std::vector<std::filesystem::path> group_search_path(const std::filesystem::path& dir,
                                                     const CounterTarget& target) {
    std::vector<std::filesystem::path> path;
    const std::string slug = microarchitecture_slug(target.microarchitecture);
    if (!slug.empty() && slug != "unknown") {
        path.push_back(dir / slug);
    }
    if (!target.arch.empty() && !garbled(target.arch) &&
        target.arch.find('/') == std::string::npos) {
        path.push_back(dir / target.arch);
    }
    path.push_back(dir);
    return path;
}

}  // namespace

std::string microarchitecture_slug(const std::string& microarchitecture) {
    std::string slug;
    for (const char c : microarchitecture) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) != 0 && u < 0x80) {
            slug.push_back(static_cast<char>(std::tolower(u)));
        }
    }
    return slug;
}

CounterTarget this_counter_target(const std::string& microarchitecture) {
#if defined(__x86_64__)
    return {"x86_64", microarchitecture};
#elif defined(__aarch64__)
    return {"aarch64", microarchitecture};
#else
    return {"", microarchitecture};
#endif
}

std::vector<std::string> list_counter_groups(const std::filesystem::path& dir,
                                             const CounterTarget& target) {
    std::set<std::string> names;
    for (const auto& d : group_search_path(dir, target)) {
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(d, ec)) {
            if (entry.is_regular_file(ec) && entry.path().extension() == ".txt") {
                names.insert(entry.path().stem().string());
            }
        }
    }
    return {names.begin(), names.end()};
}

CounterGroup load_counter_group(const std::string& name, const std::filesystem::path& dir,
                                const CounterTarget& target) {
    if (!garbled(name) && name.find('/') == std::string::npos && name != "." && name != "..") {
        for (const auto& d : group_search_path(dir, target)) {
            const std::filesystem::path path = d / (name + ".txt");
            std::ifstream in(path);
            if (!in) {
                continue;
            }
            std::ostringstream text;
            text << in.rdbuf();
            CounterGroup g = parse_counter_group(name, text.str());
            g.file = path;
            return g;
        }
    }
    const auto known = list_counter_groups(dir, target);
    throw UsageError(
        fmt::format("unknown counter group '{}' (known in {}: {})", name, dir.string(),
                    known.empty() ? "none" : fmt::format("{}", fmt::join(known, ", "))));
}

}  // namespace assay
