#pragma once
/// Hardware and software event counters around a benchmark's sampling phase (PAPI inside; no
/// PAPI type appears here). Counting covers every thread of the process that exists when
/// counting starts, so a kernel's pinned workers, OpenMP and BLAS threads are all included.
/// What cannot be counted here (no PMU in a VM, perf_event_paranoid) is data, never an error.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace assay {

/// Whether one requested event (or derived metric, "metric:<name>") can be counted here.
struct CounterAvailability {
    std::string event;
    bool available = false;
    /// Why not (one line, e.g. "unavailable: PAPI_ENOEVNT: ..."), or a note on an available
    /// event ("counted through perf_event_open per thread: ..."); may be empty when available.
    std::string reason;
};

/// A counter group read from `<dir>/<name>.txt`. Format, one directive a line ('#' comments):
///   event NAME                      an event to count (PAPI preset or native name)
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
};

/// The directory the shipped groups live in (compile definition ASSAY_COUNTER_GROUPS_DIR,
/// overridden by the environment variable ASSAY_COUNTER_GROUPS_DIR when set).
std::filesystem::path counter_groups_dir();

/// Parses one group's text. Throws InputError naming `name`, the line and the problem.
CounterGroup parse_counter_group(const std::string& name, const std::string& text);

/// Reads `<dir>/<name>.txt`. Throws UsageError for an unknown group (listing the known ones),
/// InputError for a malformed file.
CounterGroup load_counter_group(const std::string& name,
                                const std::filesystem::path& dir = counter_groups_dir());

/// The names of the groups in `dir` (file stems of *.txt), sorted.
std::vector<std::string> list_counter_groups(
    const std::filesystem::path& dir = counter_groups_dir());

/// One per run. Initialises PAPI once per process, checks each requested event by name and by
/// really adding, starting and stopping it on the calling thread (in VMs "add succeeds but start
/// fails" happens), and records availability with a one-line reason. Not thread-safe: use from
/// one thread; start()/stop() pairs must not nest.
/// The PAPI library version this build uses, e.g. "7.0.0.0" (run provenance).
std::string counters_library_version();

class CounterSession {
  public:
    /// `events`: PAPI event names and `group:NAME` entries (expanded from `groups_dir`).
    /// Never throws for unavailable events; throws UsageError for an empty list, an empty or
    /// garbled name (whitespace, control characters) or an unknown group, InputError for a
    /// malformed group file.
    explicit CounterSession(std::vector<std::string> events,
                            const std::filesystem::path& groups_dir = counter_groups_dir());
    ~CounterSession();
    CounterSession(const CounterSession&) = delete;
    CounterSession& operator=(const CounterSession&) = delete;

    /// One entry per distinct requested event (in request order), then one per derived metric.
    const std::vector<CounterAvailability>& availability() const;
    bool any_available() const;

    /// Starts counting the available events on every thread of this process at call time
    /// (/proc/self/task): one PAPI eventset per thread attached with PAPI_attach, or, where PAPI
    /// cannot attach (its attach probe needs a hardware PMU), one perf_event_open(tid) per
    /// thread and event for events with a known perf encoding. Threads that cannot be counted
    /// are noted in availability(), never fatal. Threads created after start() are not counted.
    void start();

    /// Stops counting and returns one Metric per available event: "counter.<event>" = total
    /// over all counted threads / `iterations` ("events/iteration", or "ns/iteration" for the
    /// task-clock/cpu-clock ns events), Direction::none; "counter.threads_counted"; and
    /// "counter.<event>.multiplex_scale" (time enabled / time running) when the kernel
    /// multiplexed. Derived group metrics follow as "counter.<metric>" when all their events
    /// were counted (a division by zero leaves the metric out). Returns nothing when not
    /// started or `iterations` <= 0.
    std::vector<Metric> stop(double iterations);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace assay
