#pragma once
// A real hwloc XML with its cache objects taken out: the topology of a host whose probe finds no
// caches (qemu-user on a VM whose sysfs has no cache entries), for the probes and benches tests.
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace assay::test {

/// Copies the hwloc XML `source` to `target` without its <object type="L<n>Cache"> and
/// <object type="L<n>iCache"> elements: their child objects move up to the cache's parent, their
/// own <info> lines are dropped. Returns how many cache objects were removed (0: `source` was
/// unreadable or had none). Relies on lstopo's layout: one element per line.
inline std::size_t write_topology_without_caches(const std::filesystem::path& source,
                                                 const std::filesystem::path& target) {
    std::ifstream in(source);
    std::ostringstream out;
    std::vector<bool> open_is_cache;  // one entry per open (not self-closing) <object>
    std::size_t removed = 0;
    std::string line;
    while (std::getline(in, line)) {
        const std::size_t indent = line.find_first_not_of(" \t");
        const std::string body = indent == std::string::npos ? std::string() : line.substr(indent);
        if (body.rfind("<object type=\"", 0) == 0) {
            const std::size_t from = std::string("<object type=\"").size();
            const std::string type = body.substr(from, body.find('"', from) - from);
            const bool cache =
                type.size() > 6 && type[0] == 'L' && type.compare(type.size() - 5, 5, "Cache") == 0;
            const bool self_closing =
                body.size() >= 2 && body.compare(body.size() - 2, 2, "/>") == 0;
            if (!self_closing) {
                open_is_cache.push_back(cache);
            }
            if (cache) {
                ++removed;
                continue;
            }
        } else if (body.rfind("</object>", 0) == 0) {
            const bool closes_cache = !open_is_cache.empty() && open_is_cache.back();
            if (!open_is_cache.empty()) {
                open_is_cache.pop_back();
            }
            if (closes_cache) {
                continue;
            }
        } else if (!open_is_cache.empty() && open_is_cache.back()) {
            continue;  // the removed cache's own <info> lines
        }
        out << line << '\n';
    }
    std::ofstream(target) << out.str();
    return removed;
}

}  // namespace assay::test
