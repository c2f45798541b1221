#include "collect/formula.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include "core/error.hpp"

namespace assay {

namespace {

bool ident_start(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_';
}

bool ident_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == ':' || c == '.';
}

/// Recursive descent over: expr = term {(+|-) term}; term = unary {(*|/) unary};
/// unary = [+|-] unary | primary; primary = number | identifier | '(' expr ')'.
/// With `vars` null it only collects identifiers (values are 1, no division check).
class Parser {
  public:
    Parser(const std::string& text, const std::map<std::string, double>* vars)
        : text_(text), vars_(vars) {}

    std::optional<double> parse() {
        std::optional<double> v = expr();
        skip_space();
        if (pos_ != text_.size()) {
            fail(fmt::format("unexpected '{}' at offset {}", text_[pos_], pos_));
        }
        if (v && !std::isfinite(*v)) {
            return std::nullopt;
        }
        return v;
    }

    const std::vector<std::string>& identifiers() const { return identifiers_; }

  private:
    [[noreturn]] void fail(const std::string& what) const {
        throw InputError(fmt::format("formula '{}': {}", text_, what));
    }

    void skip_space() {
        while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_])) != 0) {
            ++pos_;
        }
    }

    bool accept(char c) {
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }

    static std::optional<double> combine(std::optional<double> a, std::optional<double> b,
                                         char op) {
        if (!a || !b) {
            return std::nullopt;
        }
        switch (op) {
            case '+':
                return *a + *b;
            case '-':
                return *a - *b;
            case '*':
                return *a * *b;
            default:
                if (*b == 0) {
                    return std::nullopt;
                }
                return *a / *b;
        }
    }

    std::optional<double> expr() {
        std::optional<double> v = term();
        for (;;) {
            if (accept('+')) {
                v = combine(v, term(), '+');
            } else if (accept('-')) {
                v = combine(v, term(), '-');
            } else {
                return v;
            }
        }
    }

    std::optional<double> term() {
        std::optional<double> v = unary();
        for (;;) {
            if (accept('*')) {
                v = combine(v, unary(), '*');
            } else if (accept('/')) {
                v = combine(v, unary(), '/');
            } else {
                return v;
            }
        }
    }

    std::optional<double> unary() {
        if (accept('-')) {
            std::optional<double> v = unary();
            return v ? std::optional<double>(-*v) : std::nullopt;
        }
        if (accept('+')) {
            return unary();
        }
        return primary();
    }

    std::optional<double> primary() {
        skip_space();
        if (pos_ >= text_.size()) {
            fail("unexpected end of formula");
        }
        const char c = text_[pos_];
        if (c == '(') {
            ++pos_;
            std::optional<double> v = expr();
            if (!accept(')')) {
                fail(fmt::format("missing ')' at offset {}", pos_));
            }
            return v;
        }
        if (std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '.') {
            const char* begin = text_.c_str() + pos_;
            char* end = nullptr;
            const double v = std::strtod(begin, &end);
            if (end == begin) {
                fail(fmt::format("bad number at offset {}", pos_));
            }
            pos_ += static_cast<std::size_t>(end - begin);
            return v;
        }
        if (ident_start(c)) {
            const std::size_t start = pos_;
            while (pos_ < text_.size()) {
                const char d = text_[pos_];
                if (ident_char(d)) {
                    ++pos_;
                } else if (d == '-' && pos_ + 1 < text_.size() &&
                           std::isalpha(static_cast<unsigned char>(text_[pos_ + 1])) != 0) {
                    ++pos_;  // perf::TASK-CLOCK: '-' inside an event name
                } else {
                    break;
                }
            }
            const std::string name = text_.substr(start, pos_ - start);
            if (std::find(identifiers_.begin(), identifiers_.end(), name) == identifiers_.end()) {
                identifiers_.push_back(name);
            }
            if (vars_ == nullptr) {
                return 1.0;
            }
            const auto it = vars_->find(name);
            if (it == vars_->end()) {
                fail(fmt::format("unknown identifier '{}'", name));
            }
            return it->second;
        }
        fail(fmt::format("unexpected '{}' at offset {}", c, pos_));
    }

    const std::string& text_;
    const std::map<std::string, double>* vars_;
    std::size_t pos_ = 0;
    std::vector<std::string> identifiers_;
};

}  // namespace

std::optional<double> evaluate_formula(const std::string& expr,
                                       const std::map<std::string, double>& vars) {
    Parser p(expr, &vars);
    return p.parse();
}

std::vector<std::string> formula_identifiers(const std::string& expr) {
    Parser p(expr, nullptr);
    p.parse();
    return p.identifiers();
}

}  // namespace assay
