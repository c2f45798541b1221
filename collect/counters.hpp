#pragma once
/// Hardware and software event counters around a benchmark's sampling phase: PAPI where it can
/// serve an event, else the kernel's perf_event_open (collect/perf_events.hpp) — so software
/// events and the generic hardware events count wherever the kernel offers them, also on CPUs
/// newer than the distribution's libpfm4. No PAPI or perf type appears here. Counting covers every
/// thread of the process that exists when counting starts, so a kernel's pinned workers, OpenMP and
/// BLAS threads are all included. What cannot be counted here (no PMU in a VM, perf_event_paranoid)
/// is data, never an error.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "collect/counter_groups.hpp"
#include "core/result.hpp"

namespace assay {

/// What a start()/stop() pair counted: the sampling phase (per kernel execution) or a kernel's
/// setup (its prepare(): allocation, first touch, packing), stored as totals.
enum class CounterPhase { sampling, setup };

/// How an event is counted.
enum class CounterPath { none, papi, perf_event, derived };

/// "papi", "perf_event", "derived", or "" for none.
const char* counter_path_name(CounterPath path);

/// Whether one requested event (or derived metric, "metric:<name>") can be counted here.
struct CounterAvailability {
    std::string event;
    bool available = false;
    /// Why not, one line: "unavailable: <why the kernel path failed>; PAPI: <why PAPI cannot>"
    /// (e.g. "unavailable: no hardware PMU (...); PAPI: PAPI_ENOEVNT: component perf_event
    /// disabled (Error libpfm4 no default PMU found)"), or a note on an available event
    /// ("counted with perf_event_open per thread (...)"); may be empty when available.
    std::string reason;
    /// Which path counted it: "papi", "perf_event", "papi+perf_event" (PAPI_attach failed for
    /// some threads), "derived" for metrics; "" when unavailable.
    std::string path;
};

/// The PAPI library version this build uses, e.g. "7.0.0.0" (run provenance).
std::string counters_library_version();

/// One per run. Initialises PAPI once per process and checks each requested event: PAPI first
/// (by name, then really adding, starting and stopping it on the calling thread: in VMs "add
/// succeeds but start fails" happens); where PAPI cannot serve it, the kernel encoding from
/// resolve_perf_event() opened with perf_event_open on the calling thread. Records
/// availability with a one-line reason and the path. Not thread-safe: use from one thread;
/// start()/stop() pairs must not nest.
class CounterSession {
  public:
    /// `events`: event names (PAPI presets and native names, libpfm4/perf generic names such as
    /// perf::CYCLES, sysfs PMU events `<pmu>/<event>`) and `group:NAME` entries (expanded from
    /// `groups_dir`, specialised for `target`). Never throws for unavailable events; throws
    /// UsageError for an empty list, an empty or garbled name (whitespace, control characters)
    /// or an unknown group, InputError for a malformed group file.
    explicit CounterSession(std::vector<std::string> events,
                            const std::filesystem::path& groups_dir = counter_groups_dir(),
                            const CounterTarget& target = this_counter_target(""));
    ~CounterSession();
    CounterSession(const CounterSession&) = delete;
    CounterSession& operator=(const CounterSession&) = delete;

    /// One entry per distinct requested event (in request order), then one per derived metric.
    const std::vector<CounterAvailability>& availability() const;
    bool any_available() const;

    /// Starts counting the available events on every thread of this process at call time
    /// (/proc/self/task): for PAPI events one eventset per thread attached with PAPI_attach, or,
    /// where PAPI cannot attach (its attach probe needs a hardware PMU), one perf_event_open(tid)
    /// per thread and event; for perf_event events one perf_event_open(tid) per thread. Threads
    /// that cannot be counted are noted in availability(), never fatal. Threads created after
    /// start() are not counted.
    void start();

    /// Stops counting and returns one Metric per available event: "counter.<event>" = total
    /// over all counted threads / `iterations` ("events/iteration", or "ns/iteration" for the
    /// task-clock/cpu-clock ns events), Direction::none; "counter.threads_counted"; and
    /// "counter.<event>.multiplex_scale" (time enabled / time running) when the kernel
    /// multiplexed. Derived group metrics follow as "counter.<metric>" when all their events
    /// were counted (a division by zero leaves the metric out). Returns nothing when not
    /// started or `iterations` <= 0.
    /// With `phase` = setup (counting around a kernel's prepare()): "counter.<event>.setup" =
    /// the total over the phase ("events" or "ns"), nothing else.
    std::vector<Metric> stop(double iterations, CounterPhase phase = CounterPhase::sampling);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace assay
