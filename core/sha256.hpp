#pragma once
/// SHA-256 (FIPS 180-4), for fingerprints and content ids. Not for security purposes.
#include <string>
#include <string_view>

namespace assay {

/// Lower-case hex digest of the bytes of `data`.
std::string sha256_hex(std::string_view data);

}  // namespace assay
