#include "collect/counters.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/perf_event.h>
#include <papi.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include "collect/formula.hpp"
#include "core/error.hpp"

#ifndef ASSAY_COUNTER_GROUPS_DIR
#define ASSAY_COUNTER_GROUPS_DIR ""
#endif

namespace assay {

namespace {

using Clock = std::chrono::steady_clock;

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) {
        return {};
    }
    const auto e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

bool garbled(const std::string& name) {
    if (name.empty()) {
        return true;
    }
    return std::any_of(name.begin(), name.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return std::isspace(u) != 0 || std::iscntrl(u) != 0 || u >= 0x80;
    });
}

std::string read_small_file(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::string s;
    std::getline(in, s);
    return trim(s);
}

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
    const std::string v = read_small_file("/proc/sys/kernel/perf_event_paranoid");
    return v.empty() ? "unknown" : v;
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

// ---------------------------------------------------------------------------------------------
// perf_event_open fallback for per-thread counting where PAPI cannot attach

struct PerfEncoding {
    std::uint32_t type = 0;
    std::uint64_t config = 0;
};

std::string upper(std::string s) {
    for (char& c : s) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return s;
}

/// The generic perf encodings of the PAPI/libpfm4 names we know (perf's own generic events,
/// identical on x86-64 and aarch64). Other events have no per-thread fallback.
std::optional<PerfEncoding> perf_encoding(const std::string& event) {
    static const std::map<std::string, PerfEncoding> table = {
        {"PERF::TASK-CLOCK", {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK}},
        {"PERF::PERF_COUNT_SW_TASK_CLOCK", {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK}},
        {"PERF::CPU-CLOCK", {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK}},
        {"PERF::PERF_COUNT_SW_CPU_CLOCK", {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK}},
        {"PERF::PAGE-FAULTS", {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS}},
        {"PERF::FAULTS", {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS}},
        {"PERF::PERF_COUNT_SW_PAGE_FAULTS", {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS}},
        {"PERF::MINOR-FAULTS", {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MIN}},
        {"PERF::MAJOR-FAULTS", {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MAJ}},
        {"PERF::CONTEXT-SWITCHES", {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES}},
        {"PERF::CS", {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES}},
        {"PERF::PERF_COUNT_SW_CONTEXT_SWITCHES",
         {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES}},
        {"PERF::CPU-MIGRATIONS", {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS}},
        {"PERF::MIGRATIONS", {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS}},
        {"PERF::PERF_COUNT_SW_CPU_MIGRATIONS", {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS}},
        {"PAPI_TOT_CYC", {PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES}},
        {"PERF::CYCLES", {PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES}},
        {"PERF::CPU-CYCLES", {PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES}},
        {"PAPI_TOT_INS", {PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS}},
        {"PERF::INSTRUCTIONS", {PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS}},
        {"PAPI_BR_MSP", {PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES}},
        {"PERF::BRANCH-MISSES", {PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES}},
        {"PERF::CACHE-MISSES", {PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES}},
    };
    const auto it = table.find(upper(event));
    if (it == table.end()) {
        return std::nullopt;
    }
    return it->second;
}

bool is_ns_event(const std::string& event) {
    const std::string u = upper(event);
    return u.find("TASK-CLOCK") != std::string::npos || u.find("TASK_CLOCK") != std::string::npos ||
           u.find("CPU-CLOCK") != std::string::npos || u.find("CPU_CLOCK") != std::string::npos;
}

/// Opens a disabled counter for `enc` on thread `tid` (any CPU). Kernel-mode counting is tried
/// first (task-clock and context switches happen in the kernel); perf_event_paranoid >= 2
/// refuses it to unprivileged users, then user mode only. Returns fd or -errno.
int open_perf(const PerfEncoding& enc, pid_t tid, bool* user_only) {
    for (const bool exclude_kernel : {false, true}) {
        perf_event_attr attr;
        std::memset(&attr, 0, sizeof(attr));
        attr.size = sizeof(attr);
        attr.type = enc.type;
        attr.config = enc.config;
        attr.disabled = 1;
        attr.exclude_hv = 1;
        attr.exclude_kernel = exclude_kernel ? 1 : 0;
        attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
        const long fd = syscall(SYS_perf_event_open, &attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
        if (fd >= 0) {
            *user_only = exclude_kernel;
            return static_cast<int>(fd);
        }
        if (errno != EACCES && errno != EPERM) {
            return -errno;
        }
    }
    return -EACCES;
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

}  // namespace

// ---------------------------------------------------------------------------------------------
// Groups

std::filesystem::path counter_groups_dir() {
    if (const char* env = std::getenv("ASSAY_COUNTER_GROUPS_DIR"); env != nullptr && *env) {
        return env;
    }
    return ASSAY_COUNTER_GROUPS_DIR;
}

CounterGroup parse_counter_group(const std::string& name, const std::string& text) {
    CounterGroup g;
    g.name = name;
    std::istringstream in(text);
    std::string raw;
    int line_no = 0;
    while (std::getline(in, raw)) {
        ++line_no;
        const auto hash = raw.find('#');
        const std::string line = trim(hash == std::string::npos ? raw : raw.substr(0, hash));
        if (line.empty()) {
            continue;
        }
        const auto fail = [&](const std::string& what) {
            throw InputError(fmt::format("counter group '{}' line {}: {}", name, line_no, what));
        };
        const auto space = line.find_first_of(" \t");
        const std::string keyword = line.substr(0, space);
        const std::string rest = space == std::string::npos ? "" : trim(line.substr(space));
        if (keyword == "event") {
            if (garbled(rest)) {
                fail(fmt::format("bad event name '{}'", rest));
            }
            if (std::find(g.events.begin(), g.events.end(), rest) == g.events.end()) {
                g.events.push_back(rest);
            }
        } else if (keyword == "metric") {
            const auto eq = rest.find('=');
            const auto semi = rest.rfind(';');
            if (eq == std::string::npos || semi == std::string::npos || semi < eq) {
                fail("expected 'metric NAME = EXPR ; UNIT'");
            }
            CounterGroup::Derived d{trim(rest.substr(0, eq)),
                                    trim(rest.substr(eq + 1, semi - eq - 1)),
                                    trim(rest.substr(semi + 1))};
            if (garbled(d.name) || d.expr.empty()) {
                fail("expected 'metric NAME = EXPR ; UNIT'");
            }
            try {
                for (const std::string& id : formula_identifiers(d.expr)) {
                    if (id != "time" &&
                        std::find(g.events.begin(), g.events.end(), id) == g.events.end()) {
                        fail(
                            fmt::format("metric '{}' uses '{}', not an event of the group "
                                        "(declare events before metrics)",
                                        d.name, id));
                    }
                }
            } catch (const InputError& e) {
                if (std::string(e.what()).rfind("counter group", 0) == 0) {
                    throw;
                }
                fail(e.what());
            }
            g.metrics.push_back(std::move(d));
        } else {
            fail(fmt::format("unknown directive '{}' (expected 'event' or 'metric')", keyword));
        }
    }
    if (g.events.empty()) {
        throw InputError(fmt::format("counter group '{}': no events", name));
    }
    return g;
}

std::vector<std::string> list_counter_groups(const std::filesystem::path& dir) {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        if (entry.path().extension() == ".txt") {
            names.push_back(entry.path().stem().string());
        }
    }
    std::sort(names.begin(), names.end());
    return names;
}

CounterGroup load_counter_group(const std::string& name, const std::filesystem::path& dir) {
    const std::filesystem::path path = dir / (name + ".txt");
    std::ifstream in(path);
    if (garbled(name) || name.find('/') != std::string::npos || !in) {
        const auto known = list_counter_groups(dir);
        throw UsageError(
            fmt::format("unknown counter group '{}' (known in {}: {})", name, dir.string(),
                        known.empty() ? "none" : fmt::format("{}", fmt::join(known, ", "))));
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parse_counter_group(name, text.str());
}

// ---------------------------------------------------------------------------------------------
// CounterSession

struct CounterSession::Impl {
    struct Event {
        std::string name;
        int code = 0;
        int component = 0;
        bool available = false;
        std::optional<PerfEncoding> perf;
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
    std::map<std::size_t, std::string> notes;  ///< per event: how it was counted last time
    std::string attach_broken;                 ///< why PAPI_attach failed (then not retried)
    bool multiplex_ready = false;
    bool running = false;
    Clock::time_point t0;

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
};

CounterSession::CounterSession(std::vector<std::string> requested,
                               const std::filesystem::path& groups_dir)
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
        if (garbled(entry)) {
            throw UsageError(fmt::format("counters: bad event name '{}'", entry));
        }
        if (entry.rfind("group:", 0) == 0) {
            const CounterGroup g = load_counter_group(entry.substr(6), groups_dir);
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

    const PapiState& papi = papi_state();
    for (const std::string& name : names) {
        Impl::Event e;
        e.name = name;
        e.perf = perf_encoding(name);
        CounterAvailability a{name, false, {}};
        if (!papi.ok) {
            a.reason = papi.reason;
        } else if (const int rc = PAPI_event_name_to_code(name.c_str(), &e.code); rc != PAPI_OK) {
            a.reason = rc == PAPI_ENOEVNT || rc == PAPI_ENOTPRESET
                           ? fmt::format(
                                 "unavailable: {}: no event of this name on this host "
                                 "(see papi_avail / papi_native_avail)",
                                 papi_error_name(rc))
                           : papi_reason(rc, "event_name_to_code");
        } else {
            e.component = std::max(0, PAPI_get_event_component(e.code));
            a.reason = try_event_here(e.code);
            a.available = a.reason.empty();
        }
        e.available = a.available;
        e.availability_index = impl_->availability.size();
        impl_->availability.push_back(std::move(a));
        impl_->events.push_back(std::move(e));
    }

    for (Impl::Derived& d : impl_->derived) {
        CounterAvailability a{"metric:" + d.def.name, true, {}};
        for (const std::string& id : d.needs) {
            if (id == "time") {
                continue;
            }
            const auto it = std::find_if(impl_->events.begin(), impl_->events.end(),
                                         [&](const Impl::Event& e) { return e.name == id; });
            if (it == impl_->events.end() || !it->available) {
                a.available = false;
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
                       [](const Impl::Event& e) { return e.available; });
}

void CounterSession::start() {
    Impl& s = *impl_;
    s.close_all();
    s.notes.clear();
    if (!any_available()) {
        return;
    }
    std::map<int, std::vector<std::size_t>> by_component;
    for (std::size_t i = 0; i < s.events.size(); ++i) {
        if (s.events[i].available) {
            by_component[s.events[i].component].push_back(i);
        }
    }
    std::map<std::size_t, std::vector<std::string>> missed;  // event -> "tid: reason"
    std::map<std::size_t, bool> via_perf, via_papi, user_only;
    for (const pid_t tid : process_threads()) {
        Impl::ThreadCounters tc;
        tc.tid = tid;
        for (const auto& [component, idx] : by_component) {
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
                if (!s.events[i].perf) {
                    missed[i].push_back(fmt::format("tid {}: {}", tid, why));
                    continue;
                }
                bool user = false;
                const int fd = open_perf(*s.events[i].perf, tid, &user);
                if (fd < 0) {
                    missed[i].push_back(
                        fmt::format("tid {}: perf_event_open: {}", tid, std::strerror(-fd)));
                    continue;
                }
                via_perf[i] = true;
                user_only[i] = user_only[i] || user;
                tc.perf.push_back({fd, i});
            }
        }
        s.threads.push_back(std::move(tc));
    }
    // Enable the raw counters together, after all are open, to keep the window tight.
    for (Impl::ThreadCounters& tc : s.threads) {
        for (const Impl::PerfCounter& p : tc.perf) {
            ioctl(p.fd, PERF_EVENT_IOC_RESET, 0);
            ioctl(p.fd, PERF_EVENT_IOC_ENABLE, 0);
        }
    }
    s.t0 = Clock::now();
    s.running = true;

    for (std::size_t i = 0; i < s.events.size(); ++i) {
        if (!s.events[i].available) {
            continue;
        }
        std::vector<std::string> parts;
        if (via_papi[i]) {
            parts.push_back("counted with PAPI_attach per thread");
        }
        if (via_perf[i]) {
            parts.push_back(fmt::format("counted with perf_event_open per thread{}{}",
                                        user_only[i] ? ", user mode only" : "",
                                        s.attach_broken.empty()
                                            ? std::string()
                                            : " (PAPI_attach: " + s.attach_broken + ")"));
        }
        if (!missed[i].empty()) {
            parts.push_back(
                fmt::format("{} thread(s) not counted: {}", missed[i].size(), missed[i].front()));
        }
        s.availability[s.events[i].availability_index].reason =
            fmt::format("{}", fmt::join(parts, "; "));
    }
}

std::vector<Metric> CounterSession::stop(double iterations) {
    Impl& s = *impl_;
    std::vector<Metric> out;
    if (!s.running) {
        return out;
    }
    const double elapsed_seconds = std::chrono::duration<double>(Clock::now() - s.t0).count();
    for (Impl::ThreadCounters& tc : s.threads) {
        for (const Impl::PerfCounter& p : tc.perf) {
            ioctl(p.fd, PERF_EVENT_IOC_DISABLE, 0);
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
            std::uint64_t buf[3] = {0, 0, 0};  // value, time enabled, time running
            if (read(p.fd, buf, sizeof(buf)) != static_cast<ssize_t>(sizeof(buf))) {
                continue;
            }
            double value = static_cast<double>(buf[0]);
            // The kernel multiplexes when events outnumber counters: scale to the whole window.
            if (buf[2] > 0 && buf[2] < buf[1]) {
                value *= static_cast<double>(buf[1]) / static_cast<double>(buf[2]);
            }
            totals[p.event] += value;
            enabled[p.event] += static_cast<double>(buf[1]);
            running[p.event] += static_cast<double>(buf[2]);
            counted[p.event] = true;
            any = true;
        }
        threads_counted += any ? 1 : 0;
    }
    s.close_all();
    if (!(iterations > 0)) {
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
