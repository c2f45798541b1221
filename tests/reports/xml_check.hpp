#pragma once
// A tiny XML well-formedness checker for the SVG/HTML tests: balanced, properly nested tags,
// quoted attributes without duplicates, only the five predefined or numeric entities, no raw
// '<' or '&' in text. Not a validator: it knows nothing of SVG or HTML vocabularies.
#include <cctype>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace assay::test {

/// Empty when `text` is well-formed XML (a sequence of elements and text; several roots are
/// accepted so HTML fragments can be checked), else the first problem with its offset.
/// `void_elements` are HTML elements without end tags (e.g. "meta", "br") accepted unclosed.
inline std::string xml_problem(std::string_view text,
                               const std::set<std::string>& void_elements = {}) {
    std::vector<std::string> stack;
    std::size_t i = 0;
    const auto err = [&](const std::string& what) {
        return what + " at offset " + std::to_string(i);
    };
    const auto is_name_char = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' ||
               c == ':' || c == '.';
    };
    const auto check_entity = [&](std::size_t& k) -> bool {
        const std::size_t semi = text.find(';', k);
        if (semi == std::string_view::npos || semi - k > 10) {
            return false;
        }
        const std::string_view name = text.substr(k + 1, semi - k - 1);
        static const std::set<std::string_view> kNamed = {"amp", "lt", "gt", "quot", "apos"};
        bool ok = kNamed.count(name) > 0;
        if (!ok && name.size() >= 2 && name[0] == '#') {
            ok = true;
            const bool hex = name[1] == 'x';
            for (std::size_t j = hex ? 2 : 1; j < name.size(); ++j) {
                ok = ok && (hex ? std::isxdigit(static_cast<unsigned char>(name[j])) != 0
                                : std::isdigit(static_cast<unsigned char>(name[j])) != 0);
            }
        }
        k = semi + 1;
        return ok;
    };
    while (i < text.size()) {
        const char c = text[i];
        if (c == '&') {
            std::size_t k = i;
            if (!check_entity(k)) {
                return err("bad entity");
            }
            i = k;
            continue;
        }
        if (c != '<') {
            ++i;
            continue;
        }
        if (text.compare(i, 4, "<!--") == 0) {
            const std::size_t end = text.find("-->", i);
            if (end == std::string_view::npos) {
                return err("unterminated comment");
            }
            i = end + 3;
            continue;
        }
        if (text.compare(i, 2, "<!") == 0 || text.compare(i, 2, "<?") == 0) {
            const std::size_t end = text.find('>', i);
            if (end == std::string_view::npos) {
                return err("unterminated declaration");
            }
            i = end + 1;
            continue;
        }
        if (text.compare(i, 2, "</") == 0) {
            std::size_t k = i + 2;
            while (k < text.size() && is_name_char(text[k])) {
                ++k;
            }
            const std::string name(text.substr(i + 2, k - i - 2));
            if (k >= text.size() || text[k] != '>') {
                return err("malformed end tag");
            }
            if (stack.empty() || stack.back() != name) {
                return err("end tag </" + name + "> does not match <" +
                           (stack.empty() ? std::string("none") : stack.back()) + ">");
            }
            stack.pop_back();
            i = k + 1;
            continue;
        }
        std::size_t k = i + 1;
        while (k < text.size() && is_name_char(text[k])) {
            ++k;
        }
        const std::string name(text.substr(i + 1, k - i - 1));
        if (name.empty()) {
            return err("raw '<' in text");
        }
        std::set<std::string> attributes;
        bool self_closing = false;
        for (;;) {
            while (k < text.size() && std::isspace(static_cast<unsigned char>(text[k])) != 0) {
                ++k;
            }
            if (k >= text.size()) {
                return err("unterminated tag <" + name);
            }
            if (text[k] == '>') {
                ++k;
                break;
            }
            if (text.compare(k, 2, "/>") == 0) {
                self_closing = true;
                k += 2;
                break;
            }
            const std::size_t a0 = k;
            while (k < text.size() && is_name_char(text[k])) {
                ++k;
            }
            const std::string attr(text.substr(a0, k - a0));
            if (attr.empty() || k >= text.size() || text[k] != '=') {
                return err("malformed attribute in <" + name);
            }
            if (!attributes.insert(attr).second) {
                return err("duplicate attribute " + attr + " in <" + name);
            }
            ++k;
            if (k >= text.size() || (text[k] != '"' && text[k] != '\'')) {
                return err("unquoted attribute " + attr + " in <" + name);
            }
            const char quote = text[k++];
            while (k < text.size() && text[k] != quote) {
                if (text[k] == '<') {
                    return err("'<' in attribute " + attr);
                }
                if (text[k] == '&') {
                    if (!check_entity(k)) {
                        return err("bad entity in attribute " + attr);
                    }
                    continue;
                }
                ++k;
            }
            if (k >= text.size()) {
                return err("unterminated attribute " + attr);
            }
            ++k;
        }
        i = k;
        if (!self_closing && void_elements.count(name) == 0) {
            stack.push_back(name);
            // Raw-text elements: skip to their end tag (their content is CSS/JS, not markup).
            if (name == "script" || name == "style") {
                const std::size_t end = text.find("</" + name + ">", i);
                if (end == std::string_view::npos) {
                    return err("unterminated <" + name + ">");
                }
                i = end;
            }
        }
    }
    if (!stack.empty()) {
        return "unclosed <" + stack.back() + "> at end";
    }
    return {};
}

/// Number of non-overlapping occurrences of `needle` in `haystack`.
inline std::size_t count_of(std::string_view haystack, std::string_view needle) {
    std::size_t n = 0;
    for (std::size_t p = haystack.find(needle); p != std::string_view::npos;
         p = haystack.find(needle, p + needle.size())) {
        ++n;
    }
    return n;
}

}  // namespace assay::test
