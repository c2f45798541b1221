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

    /// "k1=v1,k2=v2" with keys sorted; empty when there are no parameters.
    std::string canonical_params() const;
    /// "stream.triad/dtype=f64,placement=all_cores"
    std::string id() const;
    /// The part of benchmark before the first '.', e.g. "stream".
    std::string family() const;

    /// Parses canonical_params() output back; throws InputError on malformed text.
    static Params parse_params(const std::string& canonical);
    friend bool operator==(const Case&, const Case&) = default;
};

}  // namespace assay
