#include "core/case.hpp"

#include <fmt/format.h>

#include "core/error.hpp"

namespace assay {

namespace {

bool needs_encoding(unsigned char c) {
    return c == ',' || c == '=' || c == '%' || c < 0x20 || c == 0x7f;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

}  // namespace

std::string encode_param_text(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (needs_encoding(c)) {
            out += fmt::format("%{:02X}", static_cast<unsigned>(c));
        } else {
            out += ch;
        }
    }
    return out;
}

std::string decode_param_text(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
            hex_value(text[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

std::string Case::canonical_params() const {
    std::string out;
    for (const auto& [key, value] : params) {
        if (!out.empty()) {
            out += ',';
        }
        out += encode_param_text(key);
        out += '=';
        out += encode_param_text(value);
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
    std::string key;
    std::string value;  // still encoded: a legacy continuation is appended before decoding
    bool have_item = false;
    const auto flush = [&] {
        if (have_item) {
            out[decode_param_text(key)] = decode_param_text(value);
        }
    };
    std::size_t pos = 0;
    while (pos < canonical.size()) {
        const std::size_t end = std::min(canonical.find(',', pos), canonical.size());
        const std::string item = canonical.substr(pos, end - pos);
        const std::size_t eq = item.find('=');
        if (eq == std::string::npos) {
            if (!have_item) {
                throw InputError(
                    fmt::format("malformed case parameters '{}': expected key=value, got '{}'",
                                canonical.substr(0, 200), item.substr(0, 200)));
            }
            // Written before ',' was encoded: the comma was part of the previous value.
            value += ',';
            value += item;
        } else {
            flush();
            key = item.substr(0, eq);
            value = item.substr(eq + 1);
            have_item = true;
        }
        pos = end + 1;
    }
    if (!canonical.empty() && canonical.back() == ',' && have_item) {
        value += ',';  // "a=1," : a trailing comma of a legacy value
    }
    flush();
    return out;
}

}  // namespace assay
