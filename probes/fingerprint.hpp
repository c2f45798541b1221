#pragma once
/// The hw_config fingerprint: sha256 over an explicit, documented list of key=value lines.
/// See docs/architecture.md ("Host identity") for the key list and why each key is in or out.
#include <string>
#include <vector>

#include "core/host_info.hpp"

namespace assay {

/// The key=value lines that identify a hardware configuration (never the hostname).
std::vector<std::string> fingerprint_keys(const HostInfo& host);

/// Fills host.fingerprint_keys and host.fingerprint.
void apply_fingerprint(HostInfo& host);

}  // namespace assay
