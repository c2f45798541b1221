#pragma once
/// User-supplied regular expressions (--filter, --family, spec selectors) matched in linear
/// time (RE2): no pattern and no stored name, however long or hostile, can make a match take
/// exponential time or overflow the stack. RE2 syntax is ECMAScript's without backreferences
/// and lookaround. Immutable and cheap to copy; safe to share between threads.
#include <memory>
#include <string>
#include <string_view>

namespace assay {

class Pattern {
  public:
    /// Compiles `text`; throws UsageError "<what> '<text>' is not a valid regex: <reason>".
    static Pattern compile(const std::string& text, const std::string& what);
    /// RE2's reason why `text` does not compile, or "" when it does.
    static std::string compile_error(const std::string& text);

    /// True when the pattern matches somewhere in `text` (std::regex_search semantics).
    bool search(std::string_view text) const;
    /// True when the pattern matches the whole of `text` (std::regex_match semantics).
    bool full_match(std::string_view text) const;
    const std::string& text() const;

  private:
    struct Impl;
    explicit Pattern(std::shared_ptr<const Impl> impl);
    std::shared_ptr<const Impl> impl_;
};

}  // namespace assay
