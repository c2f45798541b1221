#pragma once
/// A benchmark case: a benchmark name plus canonical key=value parameters. Results match across
/// runs and hosts by (case, device class), so parameters must describe *what* is measured
/// (dtype, shape, placement label), never host-specific amounts (those are metrics).
#include <map>
#include <string>

namespace assay {

using Params = std::map<std::string, std::string>;  ///< ordered: canonical by construction

struct Case {
    std::string benchmark;  ///< "<family>.<kernel>", e.g. "stream.triad"
    Params params;

    /// "k1=v1,k2=v2" with keys sorted; empty when there are no parameters. In keys and values
    /// ',', '=', '%' and control characters are percent-encoded ("%2C"), so any text (a Google
    /// Benchmark argument such as "1,2") round-trips through parse_params().
    std::string canonical_params() const;
    /// "stream.triad/dtype=f64,placement=all_cores"
    std::string id() const;
    /// The part of benchmark before the first '.', e.g. "stream".
    std::string family() const;

    /// Parses canonical_params() output back, decoding "%XX". Also reads text stored before
    /// the encoding: an item without '=' continues the previous value ("arg0=1,2" is arg0 =
    /// "1,2"), a '%' not followed by two hex digits is literal, an empty key is kept. Throws
    /// InputError when the text does not start with a key=value item (e.g. "x").
    static Params parse_params(const std::string& canonical);
    friend bool operator==(const Case&, const Case&) = default;
};

/// Percent-encodes ',', '=', '%' and control characters (< 0x20, 0x7f) of one key or value.
std::string encode_param_text(const std::string& text);
/// Decodes "%XX"; any other '%' stays literal.
std::string decode_param_text(const std::string& text);

}  // namespace assay
