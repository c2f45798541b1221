// reports/escape: one escaping function per output format, fed hostile strings.
#include "reports/escape.hpp"

#include <string>

#include <catch2/catch.hpp>

using namespace assay::escape;
using namespace std::string_literals;

TEST_CASE("markdown_cell keeps a table row in its columns", "[escape]") {
    CHECK(markdown_cell("plain name-1.5") == "plain name-1.5");
    CHECK(markdown_cell("a|b") == "a\\|b");
    // A backslash of the text cannot escape the cell's own pipe escape.
    CHECK(markdown_cell("a\\|b") == "a\\\\\\|b");
    CHECK(markdown_cell("line1\nline2\r\nx\ty") == "line1 line2  x y");
    CHECK(markdown_cell("nul\0byte\x07 bell\x1b[31m"s) == "nulbyte bell[31m");
    CHECK(markdown_cell("µs ✓") == "µs ✓");
}

TEST_CASE("markdown_cell and markdown_text neutralise raw HTML", "[escape]") {
    CHECK(markdown_cell("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;");
    CHECK(markdown_cell("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert(1)&gt;");
    CHECK(markdown_cell("R&D") == "R&amp;D");
    CHECK(markdown_text("<b>x</b> | y") == "&lt;b&gt;x&lt;/b&gt; | y");
    CHECK(markdown_text("a\nb") == "a b");
    CHECK(markdown_text("a\nb", true) == "a\nb");
    CHECK(markdown_text("a\r\n\tb\0"s, true) == "a \n b");
}

TEST_CASE("markdown_code cannot be closed by the text", "[escape]") {
    CHECK(markdown_code("host-a") == "`host-a`");
    CHECK(markdown_code("a`b") == "``a`b``");
    CHECK(markdown_code("`x`") == "`` `x` ``");
    CHECK(markdown_code("a\nb") == "`a b`");
}

TEST_CASE("csv_field quotes per RFC 4180", "[escape]") {
    CHECK(csv_field("plain") == "plain");
    CHECK(csv_field("") == "");
    CHECK(csv_field("a,b") == "\"a,b\"");
    CHECK(csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
    CHECK(csv_field("two\nlines") == "\"two\nlines\"");
    CHECK(csv_field("nul\0x"s) == "nulx");
}

TEST_CASE("csv_field neutralises formulas but keeps numbers numbers", "[escape]") {
    CHECK(csv_field("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0");
    CHECK(csv_field("-2+3") == "'-2+3");
    CHECK(csv_field("+1+1") == "'+1+1");
    CHECK(csv_field("@SUM(A1)") == "'@SUM(A1)");
    CHECK(csv_field("\tx") == "'\tx");
    CHECK(csv_field("\r=1") == "\"'\r=1\"");
    CHECK(csv_field("=1,2") == "\"'=1,2\"");
    CHECK(csv_field("-inf") == "'-inf");
    for (const char* number : {"-1.5", "-3", "+3", "-2e-3", "1e+300", "-.5", "0", "42"}) {
        CAPTURE(number);
        CHECK(csv_field(number) == number);
        CHECK(is_plain_number(number));
    }
    for (const char* text : {"", "-", "+", "1e", "--1", "1.2.3", "0x10", "nan", "-1 "}) {
        CAPTURE(text);
        CHECK_FALSE(is_plain_number(text));
    }
}

TEST_CASE("html_text and html_attr escape the five markup characters", "[escape]") {
    CHECK(html_text("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
    CHECK(html_text("plain µs text") == "plain µs text");
    CHECK(html_text("bell\x07") == "bell");
    CHECK(html_text("a\nb") == "a\nb");
    CHECK(html_attr("\" onmouseover=\"x") == "&quot; onmouseover=&quot;x");
    CHECK(html_attr("a\tb\nc") == "a&#9;b&#10;c");
}

TEST_CASE("xml_text drops what XML 1.0 forbids", "[escape]") {
    CHECK(xml_text("<a b='c'>&") == "&lt;a b=&apos;c&apos;&gt;&amp;");
    CHECK(xml_text("nul\0 esc\x1b vt\x0b ok\ttab"s) == "nul esc vt ok\ttab");
    CHECK(xml_text("\xEF\xBF\xBE") == "");  // U+FFFE
}

TEST_CASE("invalid UTF-8 becomes U+FFFD in every format", "[escape]") {
    const std::string bad = "a\xff\xc3(b\xed\xa0\x80";  // stray byte, truncated, surrogate
    const std::string fffd = "\xEF\xBF\xBD";
    CHECK(xml_text(bad) == "a" + fffd + fffd + "(b" + fffd + fffd + fffd);
    CHECK(markdown_cell(bad) == xml_text(bad));
    CHECK(csv_field(bad) == xml_text(bad));
    CHECK(html_text("\xC0\x80") == fffd + fffd);  // overlong NUL
}
