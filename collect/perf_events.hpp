#pragma once
/// Counting with the kernel's perf_event_open directly, for the events PAPI cannot serve (its
/// perf_event component disabled because libpfm4 does not know a CPU newer than the
/// distribution, an event missing from its tables, or no PMU for its attach probe). Names are
/// resolved to a kernel encoding by, in order:
///   1. a PAPI preset's portable equivalent (PAPI_TOT_CYC -> perf::CYCLES, ...), then
///   2. the kernel's sysfs PMU events: `<pmu>/<event>` or `<pmu>/<term>=<value>,.../`
///      (/sys/bus/event_source/devices/<pmu>/{type,events/*,format/*}), then
///   3. libpfm4's encoder (generic perf events such as perf::TASK-CLOCK or perf::LLC-LOAD-MISSES
///      on any CPU, and the CPU's native events where libpfm4 knows it).
/// No linux/perf_event.h or libpfm4 type appears here.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace assay {

/// The kernel's encoding of one event (perf_event_attr's type and config words).
struct PerfEncoding {
    std::uint32_t type = 0;
    std::uint64_t config = 0;
    std::uint64_t config1 = 0;
    std::uint64_t config2 = 0;
    /// How the name was resolved, e.g. "libpfm4", "sysfs cpu/cpu-cycles",
    /// "PAPI preset PAPI_TOT_CYC as perf::CYCLES".
    std::string resolved_by;
    /// Whether the event lives on a CPU's hardware PMU (hardware, cache or raw PMU types):
    /// those need a PMU the kernel exposes; software events never do.
    bool needs_hardware_pmu = false;
};

/// What the kernel offers for counting (read once per process from sysfs/procfs).
struct PmuInventory {
    std::vector<std::string> pmus;  ///< /sys/bus/event_source/devices entries, sorted
    bool core_pmu = false;          ///< a CPU PMU (x86 cpu/cpu_core/cpu_atom, Arm armv8_*, ...)
    std::string paranoid;           ///< /proc/sys/kernel/perf_event_paranoid, "unknown" if absent
};

/// Reads the inventory below `root` ("/" for this host; a fake tree in tests).
PmuInventory read_pmu_inventory(const std::filesystem::path& root = "/");

/// The portable perf event a PAPI preset stands for, e.g. "PAPI_TOT_CYC" -> "perf::CYCLES";
/// nullopt for presets without a generic kernel equivalent (PAPI_DP_OPS, ...).
std::optional<std::string> papi_preset_equivalent(const std::string& preset);

/// Resolves a sysfs PMU event name (`cpu/cpu-cycles`, `armv8_pmuv3_0/inst_retired/`,
/// `cpu/event=0x3c,umask=0x00/`) against `devices_dir` (/sys/bus/event_source/devices).
/// Returns nullopt and sets `why` when the PMU, the event or a format term is unknown; returns
/// nullopt with `why` empty when `name` does not have the `<pmu>/...` shape.
std::optional<PerfEncoding> encode_sysfs_event(const std::string& name,
                                               const std::filesystem::path& devices_dir,
                                               std::string& why);

/// Resolves `name` by the three ways above (sysfs below `root`). Returns nullopt with `why` set to
/// one line naming what was tried when no way knows the name.
std::optional<PerfEncoding> resolve_perf_event(const std::string& name, std::string& why,
                                               const std::filesystem::path& root = "/");

/// An opened (disabled) counter, or why it could not be opened.
struct PerfOpenResult {
    int fd = -1;             ///< >= 0 on success; the caller closes it
    int error = 0;           ///< errno of the last attempt when fd < 0
    bool user_only = false;  ///< kernel-mode counting was refused, user mode only
};

/// Opens a disabled counter for `enc` on thread `tid` (0 = the calling thread), any CPU, with
/// time enabled/running in its read format; threads `tid` creates while it counts inherit it
/// (their counts are included when it is read). Kernel+user mode is tried first, then user only
/// (perf_event_paranoid >= 2 refuses kernel mode to unprivileged users).
PerfOpenResult open_perf_counter(const PerfEncoding& enc, pid_t tid);

/// Opens `enc` on the calling thread, enables, disables and reads it. Returns "" when it
/// counts here, else the one-line reason from perf_open_failure_reason().
std::string probe_perf_counter(const PerfEncoding& enc, const PmuInventory& pmus);

/// One line on why opening `enc` failed with `error` (an errno), e.g. "no hardware PMU (the
/// kernel exposes none: breakpoint, msr, software, tracepoint, uprobe)" or "permission denied
/// (perf_event_paranoid=3)".
std::string perf_open_failure_reason(const PerfEncoding& enc, int error, const PmuInventory& pmus);

/// Enables/disables/resets a counter opened by open_perf_counter().
void perf_counter_enable(int fd);
void perf_counter_disable(int fd);

/// A counter's value scaled to its whole enabled window when the kernel multiplexed it, with its
/// enabled and running times (ns). nullopt when the read failed.
struct PerfReading {
    double value = 0;
    double enabled_ns = 0;
    double running_ns = 0;
};
std::optional<PerfReading> read_perf_counter(int fd);

}  // namespace assay
