#include "core/pattern.hpp"

#include <re2/re2.h>

#include <fmt/format.h>

#include "core/error.hpp"

namespace assay {

struct Pattern::Impl {
    explicit Impl(const std::string& t) : text(t), re(t, options()) {}
    static RE2::Options options() {
        RE2::Options o;
        o.set_log_errors(false);  // libraries never print: the error comes back as text
        return o;
    }
    std::string text;
    RE2 re;
};

Pattern::Pattern(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

Pattern Pattern::compile(const std::string& text, const std::string& what) {
    auto impl = std::make_shared<const Impl>(text);
    if (!impl->re.ok()) {
        throw UsageError(
            fmt::format("{} '{}' is not a valid regex: {}", what, text, impl->re.error()));
    }
    return Pattern(std::move(impl));
}

std::string Pattern::compile_error(const std::string& text) {
    const Impl impl(text);
    return impl.re.ok() ? std::string() : impl.re.error();
}

bool Pattern::search(std::string_view text) const {
    return RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), impl_->re);
}

bool Pattern::full_match(std::string_view text) const {
    return RE2::FullMatch(re2::StringPiece(text.data(), text.size()), impl_->re);
}

const std::string& Pattern::text() const {
    return impl_->text;
}

}  // namespace assay
