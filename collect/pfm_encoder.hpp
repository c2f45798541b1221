#pragma once
/// libpfm4's event encoder behind plain types. Its header declares its own perf_event_attr,
/// which clashes with <linux/perf_event.h>, so it lives in a translation unit of its own.
#include <cstdint>
#include <optional>
#include <string>

namespace assay {

struct PfmEncoding {
    std::uint32_t type = 0;
    std::uint64_t config = 0;
    std::uint64_t config1 = 0;
    std::uint64_t config2 = 0;
    std::string pmu;  ///< libpfm4's PMU of the event ("perf" for the kernel's generic events)
};

/// Encodes `name` (libpfm4 syntax: "perf::CYCLES", "INST_RETIRED:ANY_P", "cycles", ...) for
/// perf_event_open. nullopt with `why` set when libpfm4 cannot initialise or does not know the
/// name (e.g. a CPU newer than the distribution's libpfm4 has no native events).
std::optional<PfmEncoding> pfm_encode(const std::string& name, std::string& why);

}  // namespace assay
