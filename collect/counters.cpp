#include "collect/counters.hpp"

#include <fmt/format.h>
#include <papi.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>

#include "collect/formula.hpp"
#include "collect/perf_events.hpp"
#include "core/error.hpp"

namespace assay {

namespace {

using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// PAPI plumbing

unsigned long papi_thread_id() {
    return static_cast<unsigned long>(pthread_self());
}

struct PapiState {
    bool ok = false;
    std::string reason;
};

const PapiState& papi_state() {
    static const PapiState state = [] {
        PapiState s;
        // Assay counts CPU events only. PAPI's AMD GPU component probes /sys/class/drm at init
        // and prints to stderr where there is none (libraries here never print): keep it off.
        PAPI_disable_component_by_name("rocm_smi");
        const int rc = PAPI_library_init(PAPI_VER_CURRENT);
        if (rc != PAPI_VER_CURRENT) {
            s.reason =
                rc < 0 ? fmt::format("unavailable: PAPI_library_init failed: {}", PAPI_strerror(rc))
                       : "unavailable: PAPI library/header version mismatch";
            return s;
        }
        // PAPI reports errors itself at higher levels; libraries never print.
        PAPI_set_debug(PAPI_QUIET);
        const int trc = PAPI_thread_init(&papi_thread_id);
        if (trc != PAPI_OK) {
            s.reason = fmt::format("unavailable: PAPI_thread_init failed: {}", PAPI_strerror(trc));
            return s;
        }
        s.ok = true;
        return s;
    }();
    return state;
}

const char* papi_error_name(int rc) {
    switch (rc) {
        case PAPI_EINVAL:
            return "PAPI_EINVAL";
        case PAPI_ENOMEM:
            return "PAPI_ENOMEM";
        case PAPI_ESYS:
            return "PAPI_ESYS";
        case PAPI_ECMP:
            return "PAPI_ECMP";
        case PAPI_ECLOST:
            return "PAPI_ECLOST";
        case PAPI_EBUG:
            return "PAPI_EBUG";
        case PAPI_ENOEVNT:
            return "PAPI_ENOEVNT";
        case PAPI_ECNFLCT:
            return "PAPI_ECNFLCT";
        case PAPI_ENOTRUN:
            return "PAPI_ENOTRUN";
        case PAPI_EISRUN:
            return "PAPI_EISRUN";
        case PAPI_ENOEVST:
            return "PAPI_ENOEVST";
        case PAPI_ENOTPRESET:
            return "PAPI_ENOTPRESET";
        case PAPI_ENOCNTR:
            return "PAPI_ENOCNTR";
        case PAPI_EPERM:
            return "PAPI_EPERM";
        case PAPI_ENOINIT:
            return "PAPI_ENOINIT";
        case PAPI_ENOCMP:
            return "PAPI_ENOCMP";
        case PAPI_ENOSUPP:
            return "PAPI_ENOSUPP";
        case PAPI_ECOUNT:
            return "PAPI_ECOUNT";
        case PAPI_ECOMBO:
            return "PAPI_ECOMBO";
        case PAPI_ECMP_DISABLED:
            return "PAPI_ECMP_DISABLED";
        case PAPI_EMULPASS:
            return "PAPI_EMULPASS";
        default:
            return "PAPI_EMISC";
    }
}

std::string paranoid_level() {
    return read_pmu_inventory().paranoid;
}

/// One line on why `what` (a PAPI call) failed with `rc`.
std::string papi_reason(int rc, const std::string& what) {
    switch (rc) {
        case PAPI_ENOEVNT:
            return fmt::format(
                "unavailable: PAPI_ENOEVNT at {}: no such event on this host (no hardware PMU / "
                "perf_event_open ENOENT)",
                what);
        case PAPI_EPERM:
            return fmt::format(
                "unavailable: PAPI_EPERM at {}: permission denied "
                "(perf_event_paranoid={})",
                what, paranoid_level());
        case PAPI_ENOCNTR:
            return fmt::format("unavailable: PAPI_ENOCNTR at {}: no hardware counters here", what);
        case PAPI_ECNFLCT:
            return fmt::format(
                "unavailable: PAPI_ECNFLCT at {}: counter resources exhausted or conflicting",
                what);
        default:
            return fmt::format("unavailable: {} at {}: {}", papi_error_name(rc), what,
                               PAPI_strerror(rc));
    }
}

/// Removes and frees an eventset, whatever state it is in.
void destroy_eventset(int& es) {
    if (es == PAPI_NULL) {
        return;
    }
    int state = 0;
    if (PAPI_state(es, &state) == PAPI_OK && (state & PAPI_RUNNING) != 0) {
        long long discard[64] = {};
        PAPI_stop(es, discard);
    }
    PAPI_cleanup_eventset(es);
    PAPI_destroy_eventset(&es);
    es = PAPI_NULL;
}

/// Checks that `code` really counts on this thread: add, start, stop.
std::string try_event_here(int code) {
    int es = PAPI_NULL;
    int rc = PAPI_create_eventset(&es);
    if (rc != PAPI_OK) {
        return papi_reason(rc, "create_eventset");
    }
    std::string reason;
    rc = PAPI_add_event(es, code);
    if (rc != PAPI_OK) {
        reason = papi_reason(rc, "add");
    } else if ((rc = PAPI_start(es)) != PAPI_OK) {
        reason = papi_reason(rc, "start");
    } else {
        long long value = 0;
        rc = PAPI_stop(es, &value);
        if (rc != PAPI_OK) {
            reason = papi_reason(rc, "stop");
        }
    }
    destroy_eventset(es);
    return reason;
}

std::vector<pid_t> process_threads() {
    std::vector<pid_t> tids;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task", ec)) {
        const std::string name = entry.path().filename().string();
        char* end = nullptr;
        const long tid = std::strtol(name.c_str(), &end, 10);
        if (end != name.c_str() && *end == '\0' && tid > 0) {
            tids.push_back(static_cast<pid_t>(tid));
        }
    }
    if (tids.empty()) {
        tids.push_back(static_cast<pid_t>(syscall(SYS_gettid)));
    }
    std::sort(tids.begin(), tids.end());
    return tids;
}

bool is_ns_event(const std::string& event) {
    std::string u = event;
    for (char& c : u) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return u.find("TASK-CLOCK") != std::string::npos || u.find("TASK_CLOCK") != std::string::npos ||
           u.find("CPU-CLOCK") != std::string::npos || u.find("CPU_CLOCK") != std::string::npos;
}

/// `reason` without its "unavailable: " prefix, to nest it in another one-line reason.
std::string without_unavailable_prefix(const std::string& reason) {
    static const std::string prefix = "unavailable: ";
    return reason.rfind(prefix, 0) == 0 ? reason.substr(prefix.size()) : reason;
}

/// PAPI's own word on its perf_event component when it is disabled (e.g. "Error libpfm4 no
/// default PMU found" on a CPU newer than the distribution's libpfm4); "" when enabled/absent.
std::string papi_perf_component_disabled() {
    const int n = PAPI_num_components();
    for (int cid = 0; cid < n; ++cid) {
        const PAPI_component_info_t* info = PAPI_get_component_info(cid);
        if (info != nullptr && std::string(info->name) == "perf_event" && info->disabled != 0) {
            const std::string why = info->disabled_reason;
            return fmt::format("component perf_event disabled ({})",
                               why.empty() ? "no reason given" : why);
        }
    }
    return {};
}

/// Why PAPI cannot serve `name`, or "" when it can (its availability probe passed). Sets
/// `code`/`component` when PAPI knows the name.
std::string papi_check(const std::string& name, int& code, int& component) {
    const PapiState& papi = papi_state();
    if (!papi.ok) {
        return without_unavailable_prefix(papi.reason);
    }
    if (const int rc = PAPI_event_name_to_code(name.c_str(), &code); rc != PAPI_OK) {
        if (rc != PAPI_ENOEVNT && rc != PAPI_ENOTPRESET) {
            return without_unavailable_prefix(papi_reason(rc, "event_name_to_code"));
        }
        const std::string disabled = papi_perf_component_disabled();
        return disabled.empty() ? fmt::format(
                                      "{}: no event of this name (see papi_avail / "
                                      "papi_native_avail)",
                                      papi_error_name(rc))
                                : fmt::format("{}: {}", papi_error_name(rc), disabled);
    }
    component = std::max(0, PAPI_get_event_component(code));
    const std::string reason = try_event_here(code);
    if (reason.empty()) {
        return {};
    }
    // A preset PAPI knows by name whose component is disabled: say which and PAPI's reason.
    const PAPI_component_info_t* info = PAPI_get_component_info(component);
    if (info != nullptr && info->disabled != 0) {
        const std::string why = info->disabled_reason;
        return fmt::format("component {} disabled ({})", info->name,
                           why.empty() ? "no reason given" : why);
    }
    return without_unavailable_prefix(reason);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// CounterSession

struct CounterSession::Impl {
    struct Event {
        std::string name;
        CounterPath path = CounterPath::none;
        int code = 0;
        int component = 0;
        std::optional<PerfEncoding> perf;  ///< the kernel encoding, when one resolves
        std::size_t availability_index = 0;
    };
    struct Derived {
        CounterGroup::Derived def;
        std::vector<std::string> needs;
        bool available = false;
    };
    /// One PAPI eventset attached to one thread.
    struct AttachedSet {
        int eventset = PAPI_NULL;
        std::vector<std::size_t> events;
        bool multiplexed = false;
    };
    struct PerfCounter {
        int fd = -1;
        std::size_t event = 0;
    };
    struct ThreadCounters {
        pid_t tid = 0;
        std::vector<AttachedSet> sets;
        std::vector<PerfCounter> perf;
    };

    std::vector<Event> events;
    std::vector<Derived> derived;
    std::vector<CounterAvailability> availability;
    std::vector<ThreadCounters> threads;
    /// What the kernel offers, read once per session (start() runs before every benchmark).
    PmuInventory pmus;
    std::string attach_broken;  ///< why PAPI_attach failed (then not retried)
    bool multiplex_ready = false;
    bool running = false;
    Clock::time_point t0;

    bool available(std::size_t i) const { return events[i].path != CounterPath::none; }

    void close_all() {
        for (ThreadCounters& t : threads) {
            for (AttachedSet& s : t.sets) {
                destroy_eventset(s.eventset);
            }
            for (PerfCounter& p : t.perf) {
                if (p.fd >= 0) {
                    close(p.fd);
                    p.fd = -1;
                }
            }
        }
        threads.clear();
        running = false;
    }

    /// Attaches the events of one component to `tid` through PAPI. Returns "" on success.
    std::string attach_papi(pid_t tid, int component, const std::vector<std::size_t>& idx,
                            AttachedSet& out) {
        int es = PAPI_NULL;
        int rc = PAPI_create_eventset(&es);
        if (rc != PAPI_OK) {
            return papi_reason(rc, "create_eventset");
        }
        const auto fail = [&](int code, const char* what) {
            destroy_eventset(es);
            return papi_reason(code, what);
        };
        if ((rc = PAPI_assign_eventset_component(es, component)) != PAPI_OK) {
            return fail(rc, "assign_eventset_component");
        }
        if ((rc = PAPI_attach(es, static_cast<unsigned long>(tid))) != PAPI_OK) {
            return fail(rc, "attach");
        }
        const PAPI_component_info_t* info = PAPI_get_component_info(component);
        const bool multiplex = info != nullptr && info->num_cntrs > 0 &&
                               idx.size() > static_cast<std::size_t>(info->num_cntrs);
        if (multiplex) {
            if (!multiplex_ready) {
                if ((rc = PAPI_multiplex_init()) != PAPI_OK) {
                    return fail(rc, "multiplex_init");
                }
                multiplex_ready = true;
            }
            if ((rc = PAPI_set_multiplex(es)) != PAPI_OK) {
                return fail(rc, "set_multiplex");
            }
        }
        for (const std::size_t i : idx) {
            if ((rc = PAPI_add_event(es, events[i].code)) != PAPI_OK) {
                return fail(rc, "add (attached)");
            }
        }
        if ((rc = PAPI_start(es)) != PAPI_OK) {
            return fail(rc, "start (attached)");
        }
        out.eventset = es;
        out.events = idx;
        out.multiplexed = multiplex;
        return {};
    }

    /// Decides how `name` is counted here: PAPI when it can, else perf_event_open.
    Event check_event(const std::string& name) {
        Event e;
        e.name = name;
        CounterAvailability a{name, false, {}, {}};
        std::string resolve_why;
        e.perf = resolve_perf_event(name, resolve_why);
        const std::string papi_why = papi_check(name, e.code, e.component);
        if (papi_why.empty()) {
            e.path = CounterPath::papi;
        } else if (e.perf) {
            const std::string perf_why = probe_perf_counter(*e.perf, pmus);
            if (perf_why.empty()) {
                e.path = CounterPath::perf_event;
                a.reason =
                    fmt::format("perf_event_open ({}); PAPI: {}", e.perf->resolved_by, papi_why);
            } else {
                a.reason = fmt::format("unavailable: {}; PAPI: {}", perf_why, papi_why);
            }
        } else {
            a.reason = fmt::format("unavailable: {}; PAPI: {}", resolve_why, papi_why);
        }
        a.available = e.path != CounterPath::none;
        a.path = counter_path_name(e.path);
        e.availability_index = availability.size();
        availability.push_back(std::move(a));
        return e;
    }
};

const char* counter_path_name(CounterPath path) {
    switch (path) {
        case CounterPath::papi:
            return "papi";
        case CounterPath::perf_event:
            return "perf_event";
        case CounterPath::derived:
            return "derived";
        case CounterPath::none:
            break;
    }
    return "";
}

CounterSession::CounterSession(std::vector<std::string> requested,
                               const std::filesystem::path& groups_dir, const CounterTarget& target)
    : impl_(std::make_unique<Impl>()) {
    if (requested.empty()) {
        throw UsageError("counters: empty event list");
    }
    std::vector<std::string> names;
    const auto add_name = [&](const std::string& n) {
        if (std::find(names.begin(), names.end(), n) == names.end()) {
            names.push_back(n);
        }
    };
    for (const std::string& entry : requested) {
        if (!valid_counter_name(entry)) {
            throw UsageError(fmt::format("counters: bad event name '{}'", entry));
        }
        if (entry.rfind("group:", 0) == 0) {
            const CounterGroup g = load_counter_group(entry.substr(6), groups_dir, target);
            for (const std::string& e : g.events) {
                add_name(e);
            }
            for (const CounterGroup::Derived& d : g.metrics) {
                impl_->derived.push_back({d, formula_identifiers(d.expr), false});
            }
        } else {
            add_name(entry);
        }
    }

    impl_->pmus = read_pmu_inventory();
    for (const std::string& name : names) {
        impl_->events.push_back(impl_->check_event(name));
    }

    for (Impl::Derived& d : impl_->derived) {
        CounterAvailability a{"metric:" + d.def.name, true, {}, "derived"};
        for (const std::string& id : d.needs) {
            if (id == "time") {
                continue;
            }
            const auto it = std::find_if(impl_->events.begin(), impl_->events.end(),
                                         [&](const Impl::Event& e) { return e.name == id; });
            if (it == impl_->events.end() || it->path == CounterPath::none) {
                a.available = false;
                a.path.clear();
                a.reason = fmt::format("unavailable: needs {}: {}", id,
                                       it == impl_->events.end()
                                           ? "not requested"
                                           : impl_->availability[it->availability_index].reason);
                break;
            }
        }
        d.available = a.available;
        impl_->availability.push_back(std::move(a));
    }
}

CounterSession::~CounterSession() {
    if (impl_) {
        impl_->close_all();
    }
}

const std::vector<CounterAvailability>& CounterSession::availability() const {
    return impl_->availability;
}

bool CounterSession::any_available() const {
    return std::any_of(impl_->events.begin(), impl_->events.end(),
                       [](const Impl::Event& e) { return e.path != CounterPath::none; });
}

void CounterSession::start() {
    Impl& s = *impl_;
    s.close_all();
    if (!any_available()) {
        return;
    }
    std::map<int, std::vector<std::size_t>> papi_by_component;
    std::vector<std::size_t> perf_events;
    for (std::size_t i = 0; i < s.events.size(); ++i) {
        if (s.events[i].path == CounterPath::papi) {
            papi_by_component[s.events[i].component].push_back(i);
        } else if (s.events[i].path == CounterPath::perf_event) {
            perf_events.push_back(i);
        }
    }
    const PmuInventory& pmus = s.pmus;
    std::map<std::size_t, std::vector<std::string>> missed;  // event -> "tid: reason"
    std::map<std::size_t, bool> via_perf, via_papi, user_only;
    const auto open_raw = [&](Impl::ThreadCounters& tc, std::size_t i, const std::string& why) {
        if (!s.events[i].perf) {
            missed[i].push_back(fmt::format("tid {}: {}", tc.tid, why));
            return;
        }
        const PerfOpenResult opened = open_perf_counter(*s.events[i].perf, tc.tid);
        if (opened.fd < 0) {
            missed[i].push_back(
                fmt::format("tid {}: {}", tc.tid,
                            perf_open_failure_reason(*s.events[i].perf, opened.error, pmus)));
            return;
        }
        via_perf[i] = true;
        user_only[i] = user_only[i] || opened.user_only;
        tc.perf.push_back({opened.fd, i});
    };
    for (const pid_t tid : process_threads()) {
        Impl::ThreadCounters tc;
        tc.tid = tid;
        for (const auto& [component, idx] : papi_by_component) {
            std::string why = s.attach_broken;
            if (why.empty()) {
                Impl::AttachedSet set;
                why = s.attach_papi(tid, component, idx, set);
                if (why.empty()) {
                    for (const std::size_t i : idx) {
                        via_papi[i] = true;
                    }
                    tc.sets.push_back(std::move(set));
                    continue;
                }
                if (why.find(" at attach") != std::string::npos ||
                    why.find(" at create_eventset") != std::string::npos) {
                    // PAPI's attach probe opens a hardware instructions event: in a VM without a
                    // PMU it fails for every thread, so don't retry per thread.
                    s.attach_broken = why;
                }
            }
            for (const std::size_t i : idx) {
                open_raw(tc, i, why);
            }
        }
        for (const std::size_t i : perf_events) {
            open_raw(tc, i, {});
        }
        s.threads.push_back(std::move(tc));
    }
    // Enable the raw counters together, after all are open, to keep the window tight.
    for (Impl::ThreadCounters& tc : s.threads) {
        for (const Impl::PerfCounter& p : tc.perf) {
            perf_counter_enable(p.fd);
        }
    }
    s.t0 = Clock::now();
    s.running = true;

    for (std::size_t i = 0; i < s.events.size(); ++i) {
        if (!s.available(i)) {
            continue;
        }
        std::vector<std::string> parts;
        if (via_papi[i]) {
            parts.push_back("counted with PAPI_attach per thread");
        }
        if (via_perf[i]) {
            parts.push_back(
                fmt::format("counted with perf_event_open per thread{} ({}){}",
                            user_only[i] ? ", user mode only" : "", s.events[i].perf->resolved_by,
                            s.events[i].path == CounterPath::papi && !s.attach_broken.empty()
                                ? " because PAPI_attach failed: " + s.attach_broken
                                : std::string()));
        }
        if (!missed[i].empty()) {
            parts.push_back(
                fmt::format("{} thread(s) not counted: {}", missed[i].size(), missed[i].front()));
        }
        CounterAvailability& a = s.availability[s.events[i].availability_index];
        a.reason = fmt::format("{}", fmt::join(parts, "; "));
        a.path = via_papi[i] && via_perf[i] ? "papi+perf_event"
                 : via_perf[i]              ? "perf_event"
                 : via_papi[i]              ? "papi"
                                            : counter_path_name(s.events[i].path);
    }
}

std::vector<Metric> CounterSession::stop(double iterations, CounterPhase phase) {
    Impl& s = *impl_;
    std::vector<Metric> out;
    if (!s.running) {
        return out;
    }
    const double elapsed_seconds = std::chrono::duration<double>(Clock::now() - s.t0).count();
    for (Impl::ThreadCounters& tc : s.threads) {
        for (const Impl::PerfCounter& p : tc.perf) {
            perf_counter_disable(p.fd);
        }
    }
    const std::size_t n = s.events.size();
    std::vector<double> totals(n, 0);
    std::vector<bool> counted(n, false);
    std::vector<bool> papi_multiplexed(n, false);
    std::vector<double> enabled(n, 0), running(n, 0);
    std::size_t threads_counted = 0;
    for (Impl::ThreadCounters& tc : s.threads) {
        bool any = false;
        for (Impl::AttachedSet& set : tc.sets) {
            std::vector<long long> values(set.events.size(), 0);
            if (PAPI_stop(set.eventset, values.data()) == PAPI_OK) {
                for (std::size_t k = 0; k < set.events.size(); ++k) {
                    totals[set.events[k]] += static_cast<double>(values[k]);
                    counted[set.events[k]] = true;
                    papi_multiplexed[set.events[k]] =
                        papi_multiplexed[set.events[k]] || set.multiplexed;
                }
                any = true;
            }
        }
        for (const Impl::PerfCounter& p : tc.perf) {
            const auto reading = read_perf_counter(p.fd);
            if (!reading) {
                continue;
            }
            totals[p.event] += reading->value;
            enabled[p.event] += reading->enabled_ns;
            running[p.event] += reading->running_ns;
            counted[p.event] = true;
            any = true;
        }
        threads_counted += any ? 1 : 0;
    }
    s.close_all();
    if (!(iterations > 0)) {
        return out;
    }
    if (phase == CounterPhase::setup) {
        // Totals of the setup phase (allocation, first touch, packing): no per-iteration
        // normalisation and no derived metrics, whose formulas are per kernel execution.
        for (std::size_t i = 0; i < n; ++i) {
            if (counted[i]) {
                out.push_back({"counter." + s.events[i].name + ".setup", totals[i],
                               is_ns_event(s.events[i].name) ? "ns" : "events", Direction::none});
            }
        }
        return out;
    }

    std::map<std::string, double> vars;
    for (std::size_t i = 0; i < n; ++i) {
        if (!counted[i]) {
            continue;
        }
        const Impl::Event& e = s.events[i];
        const double per_iteration = totals[i] / iterations;
        vars[e.name] = per_iteration;
        out.push_back({"counter." + e.name, per_iteration,
                       is_ns_event(e.name) ? "ns/iteration" : "events/iteration", Direction::none});
        if (running[i] > 0 && enabled[i] > running[i]) {
            out.push_back({"counter." + e.name + ".multiplex_scale", enabled[i] / running[i],
                           "ratio", Direction::none});
        }
        if (papi_multiplexed[i]) {
            std::string& reason = s.availability[e.availability_index].reason;
            if (reason.find("PAPI multiplexed") == std::string::npos) {
                reason += "; PAPI multiplexed and scaled the counts (no time running exposed)";
            }
        }
    }
    out.push_back({"counter.threads_counted", static_cast<double>(threads_counted), "threads",
                   Direction::none});
    vars["time"] = elapsed_seconds / iterations;
    for (const Impl::Derived& d : s.derived) {
        if (!d.available) {
            continue;
        }
        bool have_all = true;
        for (const std::string& id : d.needs) {
            have_all = have_all && vars.count(id) > 0;
        }
        if (!have_all) {
            continue;
        }
        if (const std::optional<double> v = evaluate_formula(d.def.expr, vars)) {
            out.push_back({"counter." + d.def.name, *v, d.def.unit, Direction::none});
        }
    }
    return out;
}

std::string counters_library_version() {
    return fmt::format("{}.{}.{}.{}", PAPI_VERSION_MAJOR(PAPI_VERSION),
                       PAPI_VERSION_MINOR(PAPI_VERSION), PAPI_VERSION_REVISION(PAPI_VERSION),
                       PAPI_VERSION_INCREMENT(PAPI_VERSION));
}

}  // namespace assay
