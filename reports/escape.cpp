#include "reports/escape.hpp"

#include <cstdint>

namespace assay::escape {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

/// Decodes one UTF-8 sequence at s[i], advancing i; an invalid, overlong, surrogate or truncated
/// sequence yields U+FFFD and consumes one byte.
char32_t next_code_point(std::string_view s, std::size_t& i) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
        ++i;
        return b0;
    }
    std::size_t len = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if ((b0 & 0xE0) == 0xC0) {
        len = 2;
        cp = b0 & 0x1Fu;
        min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
        len = 3;
        cp = b0 & 0x0Fu;
        min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
        len = 4;
        cp = b0 & 0x07u;
        min = 0x10000;
    } else {
        ++i;
        return kReplacement;
    }
    if (i + len > s.size()) {
        ++i;
        return kReplacement;
    }
    for (std::size_t k = 1; k < len; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xC0) != 0x80) {
            ++i;
            return kReplacement;
        }
        cp = (cp << 6) | (b & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        ++i;
        return kReplacement;
    }
    i += len;
    return cp;
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

/// C0 controls and DEL.
bool is_control(char32_t cp) {
    return cp < 0x20 || cp == 0x7F;
}

/// Characters XML 1.0 does not allow at all, not even as references.
bool xml_forbidden(char32_t cp) {
    return (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0xFFFE || cp == 0xFFFF;
}

/// Calls `emit(out, cp)` for every code point of s; emit appends what the format needs.
template <typename Emit>
std::string map_code_points(std::string_view s, Emit emit) {
    std::string out;
    out.reserve(s.size() + s.size() / 8);
    for (std::size_t i = 0; i < s.size();) {
        emit(out, next_code_point(s, i));
    }
    return out;
}

/// '&', '<', '>' as entities; true when cp was one of them.
bool append_html_entity(std::string& out, char32_t cp) {
    switch (cp) {
        case '&':
            out += "&amp;";
            return true;
        case '<':
            out += "&lt;";
            return true;
        case '>':
            out += "&gt;";
            return true;
        default:
            return false;
    }
}

/// The markup escapes of html_text/xml_text; `apos` is how '\'' is spelt.
std::string markup(std::string_view s, const char* apos, bool attribute) {
    return map_code_points(s, [&](std::string& out, char32_t cp) {
        if (xml_forbidden(cp) || append_html_entity(out, cp)) {
            return;
        }
        if (cp == '"') {
            out += "&quot;";
        } else if (cp == '\'') {
            out += apos;
        } else if (attribute && cp == '\t') {
            out += "&#9;";
        } else if (attribute && cp == '\n') {
            out += "&#10;";
        } else if (attribute && cp == '\r') {
            out += "&#13;";
        } else {
            append_utf8(out, cp);
        }
    });
}

/// Advances i over one optional '+' or '-'.
void skip_sign(std::string_view s, std::size_t& i) {
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
        ++i;
    }
}

/// Advances i over decimal digits; returns how many.
std::size_t skip_digits(std::string_view s, std::size_t& i) {
    const std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        ++i;
    }
    return i - start;
}

}  // namespace

std::string markdown_cell(std::string_view s) {
    return map_code_points(s, [](std::string& out, char32_t cp) {
        if (append_html_entity(out, cp)) {
            return;
        }
        if (cp == '|' || cp == '\\') {
            // GitHub splits a row at every '|' not preceded by an escaping backslash, so a
            // backslash of the text itself must be escaped too ("a\|b" would split).
            out += '\\';
            out += static_cast<char>(cp);
        } else if (cp == '\n' || cp == '\r' || cp == '\t') {
            out += ' ';
        } else if (!is_control(cp)) {
            append_utf8(out, cp);
        }
    });
}

std::string markdown_text(std::string_view s, bool keep_newlines) {
    return map_code_points(s, [keep_newlines](std::string& out, char32_t cp) {
        if (append_html_entity(out, cp)) {
            return;
        }
        if (cp == '\n') {
            out += keep_newlines ? '\n' : ' ';
        } else if (cp == '\r' || cp == '\t') {
            out += ' ';
        } else if (!is_control(cp)) {
            append_utf8(out, cp);
        }
    });
}

std::string markdown_code(std::string_view s) {
    std::size_t longest = 0;
    std::size_t run = 0;
    const std::string text = map_code_points(s, [&](std::string& out, char32_t cp) {
        run = cp == '`' ? run + 1 : 0;
        longest = run > longest ? run : longest;
        if (cp == '\n' || cp == '\r' || cp == '\t') {
            out += ' ';
        } else if (!is_control(cp)) {
            append_utf8(out, cp);
        }
    });
    const std::string fence(longest + 1, '`');
    // A span that starts or ends with a backtick needs a space so the fence stays separate.
    const bool pad = !text.empty() && (text.front() == '`' || text.back() == '`');
    return fence + (pad ? " " : "") + text + (pad ? " " : "") + fence;
}

bool is_plain_number(std::string_view s) {
    std::size_t i = 0;
    skip_sign(s, i);
    std::size_t digits = skip_digits(s, i);
    if (i < s.size() && s[i] == '.') {
        ++i;
        digits += skip_digits(s, i);
    }
    if (digits == 0) {
        return false;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        skip_sign(s, i);
        if (skip_digits(s, i) == 0) {
            return false;
        }
    }
    return i == s.size();
}

std::string csv_field(std::string_view s) {
    std::string text = map_code_points(s, [](std::string& out, char32_t cp) {
        if (!is_control(cp) || cp == '\t' || cp == '\n' || cp == '\r') {
            append_utf8(out, cp);
        }
    });
    // Spreadsheets run a cell starting with these as a formula (CSV injection).
    if (!text.empty() &&
        std::string_view("=+-@\t\r").find(text.front()) != std::string_view::npos &&
        !is_plain_number(text)) {
        text.insert(text.begin(), '\'');
    }
    if (text.find_first_of(",\"\n\r") == std::string::npos) {
        return text;
    }
    std::string out = "\"";
    for (const char ch : text) {
        if (ch == '"') {
            out += '"';
        }
        out += ch;
    }
    return out + "\"";
}

std::string html_text(std::string_view s) {
    return markup(s, "&#39;", false);
}

std::string html_attr(std::string_view s) {
    return markup(s, "&#39;", true);
}

std::string xml_text(std::string_view s) {
    return markup(s, "&apos;", false);
}

}  // namespace assay::escape
