#pragma once
/// Counter groups as data (likwid's lesson): `collect/groups/*.txt` files that list events and
/// derived metrics. Portable groups name the kernel's generic events (perf::CYCLES, ...), so
/// they count on any CPU with a PMU driver; a group may be specialised per architecture or
/// microarchitecture by a file of the same name in a subdirectory (see load_counter_group).
#include <filesystem>
#include <string>
#include <vector>

namespace assay {

/// A counter group read from `<dir>/<name>.txt`. Format, one directive a line ('#' comments):
///   event NAME                      an event to count (PAPI preset, libpfm4 / perf generic
///                                   name, or a sysfs PMU event `<pmu>/<event>`)
///   metric NAME = EXPR ; UNIT       a derived metric; EXPR over the group's events and `time`
///                                   (seconds per iteration), see collect/formula.hpp
/// Event values in formulas are per kernel execution (iteration).
struct CounterGroup {
    struct Derived {
        std::string name;
        std::string expr;
        std::string unit;
    };
    std::string name;
    std::vector<std::string> events;
    std::vector<Derived> metrics;
    std::filesystem::path file;  ///< where it was read from (empty for parsed text)
};

/// Which specialisations of a group apply: the CPU architecture ("x86_64", "aarch64") and the
/// probed microarchitecture ("Zen 5", "Neoverse V2"). Empty fields match nothing specific.
struct CounterTarget {
    std::string arch;
    std::string microarchitecture;
};

/// The target of the machine this binary runs on: its compile-time architecture and the given
/// microarchitecture (from the probe).
CounterTarget this_counter_target(const std::string& microarchitecture);

/// A directory name for a microarchitecture: lower case, letters and digits only
/// ("Zen 5" -> "zen5", "Sapphire Rapids" -> "sapphirerapids", "Neoverse V2" -> "neoversev2").
std::string microarchitecture_slug(const std::string& microarchitecture);

/// The directory the shipped groups live in (compile definition ASSAY_COUNTER_GROUPS_DIR,
/// overridden by the environment variable ASSAY_COUNTER_GROUPS_DIR when set).
std::filesystem::path counter_groups_dir();

/// Whether `name` can name an event or group: non-empty, printable ASCII, no whitespace.
bool valid_counter_name(const std::string& name);

/// Parses one group's text. Throws InputError naming `name`, the line and the problem.
CounterGroup parse_counter_group(const std::string& name, const std::string& text);

/// Reads the most specific file for `name`: `<dir>/<uarch slug>/<name>.txt`, else
/// `<dir>/<arch>/<name>.txt`, else `<dir>/<name>.txt`. Throws UsageError for an unknown group
/// (listing the known ones), InputError for a malformed file.
CounterGroup load_counter_group(const std::string& name,
                                const std::filesystem::path& dir = counter_groups_dir(),
                                const CounterTarget& target = {});

/// The names of the groups usable for `target` in `dir` (file stems of *.txt at the top level
/// and in the target's subdirectories), sorted and distinct.
std::vector<std::string> list_counter_groups(
    const std::filesystem::path& dir = counter_groups_dir(), const CounterTarget& target = {});

}  // namespace assay
