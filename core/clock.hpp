#pragma once
/// Wall-clock helpers shared by every module (UTC, ISO-8601, and random ids).
#include <string>

namespace assay {

/// Current UTC time as "2026-11-24T20:31:05.123Z".
std::string utc_now_iso8601();

/// A random RFC 4122 version-4 UUID string.
std::string make_uuid_v4();

}  // namespace assay
