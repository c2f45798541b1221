#pragma once
/// The one place reports/ escapes text for an output format. Hostnames, benchmark names and
/// params, metric names, counter keys and messages come from stores anyone can write (ingested
/// files, Google Benchmark JSON), so every renderer passes them through these functions.
///
/// Every function reads UTF-8; an invalid byte sequence becomes U+FFFD so that no output format
/// receives bytes its parsers refuse.
#include <string>
#include <string_view>

namespace assay::escape {

/// A Markdown table cell: '|' and '\' are backslash-escaped (a row keeps its columns), CR, LF
/// and TAB become spaces, NUL and other control characters are dropped, and '<', '>', '&' become
/// entities so raw HTML (`<script>`, `<img onerror=...>`) cannot pass through a Markdown
/// renderer that allows HTML (PR comments, wikis).
std::string markdown_cell(std::string_view s);

/// Markdown outside tables (headings, list items, paragraphs): raw HTML neutralised as in
/// markdown_cell, control characters dropped, CR and TAB become spaces; LF is kept when
/// `keep_newlines`, else it becomes a space (a heading or list item stays one line).
std::string markdown_text(std::string_view s, bool keep_newlines = false);

/// An inline code span outside tables (`text`): the fence is one backtick longer than the
/// longest run of backticks in the text, so the text cannot close it; CR, LF and TAB become
/// spaces and control characters are dropped. Inside a code span HTML is shown, never run.
std::string markdown_code(std::string_view s);

/// One RFC 4180 CSV field: quoted when it holds ',', '"', CR or LF (quotes doubled). A field a
/// spreadsheet would run as a formula (first character '=', '+', '-', '@', TAB or CR) gets a
/// leading "'" unless the whole field is a plain decimal number ("-1.5", "+3", "-2e-3" stay
/// numbers). NUL and control characters other than TAB, CR and LF are dropped.
std::string csv_field(std::string_view s);

/// Text content of HTML or inline SVG: '&', '<', '>', '"', '\'' as entities; characters XML 1.0
/// forbids (C0 controls other than TAB, LF, CR; U+FFFE, U+FFFF) dropped.
std::string html_text(std::string_view s);

/// An HTML/SVG attribute value (inside double quotes): as html_text, and TAB/LF/CR as character
/// references so attribute normalisation keeps them.
std::string html_attr(std::string_view s);

/// XML 1.0 text or attribute content (JUnit): '&', '<', '>', '"', '\'' as entities (&apos;),
/// characters XML 1.0 forbids dropped.
std::string xml_text(std::string_view s);

/// True when `s` is a plain decimal number: optional sign, digits with an optional fraction,
/// optional exponent ("-1.5", "3", "+2e-3", ".5"); not "inf", "nan", hex or empty.
bool is_plain_number(std::string_view s);

}  // namespace assay::escape
