#include "collect/perf_events.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "collect/pfm_encoder.hpp"

namespace assay {

namespace {

std::string read_line(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::string s;
    std::getline(in, s);
    const auto b = s.find_first_not_of(" \t\r\n");
    const auto e = s.find_last_not_of(" \t\r\n");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

bool starts_with(const std::string& s, const char* prefix) {
    return s.rfind(prefix, 0) == 0;
}

/// A PMU that counts a CPU's own events: x86 `cpu` (hybrid: `cpu_core`, `cpu_atom`), Arm
/// `armv8_*`/`armv7_*`/`arm_*`, POWER `cpu`, s390 `cpum_cf`. Uncore, software, tracepoint,
/// breakpoint, uprobe/kprobe, msr, power and cstate PMUs are not.
bool is_core_pmu(const std::string& name) {
    return name == "cpu" || starts_with(name, "cpu_") || starts_with(name, "armv8") ||
           starts_with(name, "armv7") || starts_with(name, "arm_cortex") ||
           starts_with(name, "arm_neoverse") || starts_with(name, "apple_") || name == "cpum_cf";
}

bool parse_u64(const std::string& text, std::uint64_t& out) {
    if (text.empty()) {
        return false;
    }
    try {
        std::size_t used = 0;
        out = std::stoull(text, &used, 0);  // 0x.. hex, 0.. octal, decimal
        return used == text.size();
    } catch (const std::exception&) {
        return false;
    }
}

/// Places `value` into the bit ranges of a sysfs format spec ("config:0-7,32-35",
/// "config1:0"), low bits first. Returns false on a malformed spec or a value too wide.
bool apply_format(const std::string& spec, std::uint64_t value, PerfEncoding& enc,
                  std::string& why) {
    const auto colon = spec.find(':');
    if (colon == std::string::npos) {
        why = fmt::format("malformed format '{}'", spec);
        return false;
    }
    const std::string field = spec.substr(0, colon);
    std::uint64_t* word = field == "config"    ? &enc.config
                          : field == "config1" ? &enc.config1
                          : field == "config2" ? &enc.config2
                                               : nullptr;
    if (word == nullptr) {
        why = fmt::format("format '{}' names an unknown field", spec);
        return false;
    }
    std::istringstream ranges(spec.substr(colon + 1));
    std::string range;
    unsigned consumed = 0;
    while (std::getline(ranges, range, ',')) {
        const auto dash = range.find('-');
        std::uint64_t lo = 0;
        std::uint64_t hi = 0;
        if (!parse_u64(range.substr(0, dash), lo) ||
            (dash != std::string::npos && !parse_u64(range.substr(dash + 1), hi))) {
            why = fmt::format("malformed format '{}'", spec);
            return false;
        }
        if (dash == std::string::npos) {
            hi = lo;
        }
        if (hi < lo || hi > 63) {
            why = fmt::format("malformed format '{}'", spec);
            return false;
        }
        for (std::uint64_t bit = lo; bit <= hi; ++bit, ++consumed) {
            if (consumed < 64 && ((value >> consumed) & 1U) != 0) {
                *word |= std::uint64_t{1} << bit;
            }
        }
    }
    if (consumed < 64 && (value >> consumed) != 0) {
        why = fmt::format("value {:#x} does not fit format '{}'", value, spec);
        return false;
    }
    return true;
}

/// Applies "term=value,term,..." (an events/ file or the inside of `pmu/.../`).
bool apply_terms(const std::string& terms, const std::filesystem::path& pmu_dir, PerfEncoding& enc,
                 std::string& why) {
    std::istringstream in(terms);
    std::string term;
    while (std::getline(in, term, ',')) {
        if (term.empty()) {
            continue;
        }
        const auto eq = term.find('=');
        const std::string key = term.substr(0, eq);
        std::uint64_t value = 1;  // a bare term ("edge") sets its bit
        if (eq != std::string::npos && !parse_u64(term.substr(eq + 1), value)) {
            why = fmt::format("bad value in term '{}'", term);
            return false;
        }
        if (key == "config") {
            enc.config = value;
        } else if (key == "config1") {
            enc.config1 = value;
        } else if (key == "config2") {
            enc.config2 = value;
        } else {
            const std::string spec = read_line(pmu_dir / "format" / key);
            if (spec.empty()) {
                why =
                    fmt::format("PMU {} has no format term '{}'", pmu_dir.filename().string(), key);
                return false;
            }
            if (!apply_format(spec, value, enc, why)) {
                return false;
            }
        }
    }
    return true;
}

std::string join_pmus(const PmuInventory& pmus) {
    return pmus.pmus.empty() ? std::string("none") : fmt::format("{}", fmt::join(pmus.pmus, ", "));
}

}  // namespace

PmuInventory read_pmu_inventory(const std::filesystem::path& root) {
    PmuInventory inv;
    std::error_code ec;
    for (const auto& entry :
         std::filesystem::directory_iterator(root / "sys/bus/event_source/devices", ec)) {
        inv.pmus.push_back(entry.path().filename().string());
    }
    std::sort(inv.pmus.begin(), inv.pmus.end());
    inv.core_pmu = std::any_of(inv.pmus.begin(), inv.pmus.end(), is_core_pmu);
    inv.paranoid = read_line(root / "proc/sys/kernel/perf_event_paranoid");
    if (inv.paranoid.empty()) {
        inv.paranoid = "unknown";
    }
    return inv;
}

std::optional<std::string> papi_preset_equivalent(const std::string& preset) {
    // PAPI's presets whose meaning the kernel's generic events carry on every CPU with a PMU
    // driver (perf_event.h's PERF_COUNT_HW_* and PERF_COUNT_HW_CACHE_*), in libpfm4's names.
    static const std::map<std::string, std::string> table = {
        {"PAPI_TOT_CYC", "perf::CYCLES"},
        {"PAPI_REF_CYC", "perf::REF-CYCLES"},
        {"PAPI_TOT_INS", "perf::INSTRUCTIONS"},
        {"PAPI_BR_INS", "perf::BRANCH-INSTRUCTIONS"},
        {"PAPI_BR_MSP", "perf::BRANCH-MISSES"},
        {"PAPI_STL_ICY", "perf::STALLED-CYCLES-FRONTEND"},
        {"PAPI_RES_STL", "perf::STALLED-CYCLES-BACKEND"},
        {"PAPI_L1_DCA", "perf::L1-DCACHE-LOADS"},
        {"PAPI_L1_DCM", "perf::L1-DCACHE-LOAD-MISSES"},
        {"PAPI_L1_ICM", "perf::L1-ICACHE-LOAD-MISSES"},
        {"PAPI_L3_TCA", "perf::LLC-LOADS"},
        {"PAPI_L3_TCM", "perf::LLC-LOAD-MISSES"},
        {"PAPI_TLB_DM", "perf::DTLB-LOAD-MISSES"},
        {"PAPI_TLB_IM", "perf::ITLB-LOAD-MISSES"},
    };
    const auto it = table.find(preset);
    if (it == table.end()) {
        return std::nullopt;
    }
    return it->second;
}

std::optional<PerfEncoding> encode_sysfs_event(const std::string& name,
                                               const std::filesystem::path& devices_dir,
                                               std::string& why) {
    why.clear();
    const auto slash = name.find('/');
    if (slash == std::string::npos || slash == 0 || name.find("::") != std::string::npos) {
        return std::nullopt;  // not the <pmu>/... shape
    }
    const std::string pmu = name.substr(0, slash);
    std::string rest = name.substr(slash + 1);
    if (!rest.empty() && rest.back() == '/') {
        rest.pop_back();
    }
    if (rest.empty() || rest.find('/') != std::string::npos ||
        pmu.find("..") != std::string::npos || rest.find("..") != std::string::npos) {
        why = fmt::format("'{}' is not '<pmu>/<event>' or '<pmu>/<term>=<value>,.../'", name);
        return std::nullopt;
    }
    const std::filesystem::path dir = devices_dir / pmu;
    std::uint64_t type = 0;
    if (!parse_u64(read_line(dir / "type"), type) || type > 0xffffffffULL) {
        why = fmt::format("no PMU '{}' in {}", pmu, devices_dir.string());
        return std::nullopt;
    }
    PerfEncoding enc;
    enc.type = static_cast<std::uint32_t>(type);
    enc.needs_hardware_pmu = enc.type != PERF_TYPE_SOFTWARE && enc.type != PERF_TYPE_TRACEPOINT;
    std::string terms = rest;
    if (rest.find('=') == std::string::npos) {
        terms = read_line(dir / "events" / rest);
        if (terms.empty()) {
            why = fmt::format("PMU {} has no event '{}' (see {})", pmu, rest,
                              (dir / "events").string());
            return std::nullopt;
        }
        enc.resolved_by = fmt::format("sysfs {}/{} ({})", pmu, rest, terms);
    } else {
        enc.resolved_by = fmt::format("sysfs {} terms {}", pmu, rest);
    }
    if (!apply_terms(terms, dir, enc, why)) {
        why = fmt::format("{}: {}", name, why);
        return std::nullopt;
    }
    return enc;
}

std::optional<PerfEncoding> resolve_perf_event(const std::string& name, std::string& why,
                                               const std::filesystem::path& root) {
    why.clear();
    std::string lookup = name;
    std::string preset_note;
    if (const auto generic = papi_preset_equivalent(name)) {
        lookup = *generic;
        preset_note = fmt::format("PAPI preset {} as {}", name, *generic);
    } else if (starts_with(name, "PAPI_")) {
        why = fmt::format("unknown event name: PAPI preset {} has no generic kernel equivalent",
                          name);
        return std::nullopt;
    }
    std::string sysfs_why;
    if (auto enc = encode_sysfs_event(lookup, root / "sys/bus/event_source/devices", sysfs_why)) {
        return enc;
    }
    if (!sysfs_why.empty()) {
        why = fmt::format("unknown event name: {}", sysfs_why);
        return std::nullopt;
    }
    std::string pfm_why;
    if (const auto raw = pfm_encode(lookup, pfm_why)) {
        PerfEncoding enc;
        enc.type = raw->type;
        enc.config = raw->config;
        enc.config1 = raw->config1;
        enc.config2 = raw->config2;
        enc.resolved_by = preset_note.empty() ? "libpfm4 " + raw->pmu : preset_note;
        enc.needs_hardware_pmu = enc.type != PERF_TYPE_SOFTWARE &&
                                 enc.type != PERF_TYPE_TRACEPOINT &&
                                 enc.type != PERF_TYPE_BREAKPOINT;
        return enc;
    }
    why = fmt::format("unknown event name '{}': not a sysfs PMU event (<pmu>/<event>), libpfm4: {}",
                      lookup, pfm_why);
    return std::nullopt;
}

PerfOpenResult open_perf_counter(const PerfEncoding& enc, pid_t tid) {
    PerfOpenResult out;
    for (const bool exclude_kernel : {false, true}) {
        perf_event_attr attr;
        std::memset(&attr, 0, sizeof(attr));
        attr.size = sizeof(attr);
        attr.type = enc.type;
        attr.config = enc.config;
        attr.config1 = enc.config1;
        attr.config2 = enc.config2;
        attr.disabled = 1;
        // Threads the counted thread creates while counting (a kernel's pinned workers started
        // in prepare(), OpenMP/BLAS pools) inherit the counter; reading it sums them, live or
        // exited, so nothing started inside the window is missed.
        attr.inherit = 1;
        attr.exclude_hv = 1;
        attr.exclude_kernel = exclude_kernel ? 1 : 0;
        attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
        const long fd = syscall(SYS_perf_event_open, &attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
        if (fd >= 0) {
            out.fd = static_cast<int>(fd);
            out.user_only = exclude_kernel;
            out.error = 0;
            return out;
        }
        out.error = errno;
        if (out.error != EACCES && out.error != EPERM) {
            return out;
        }
    }
    return out;
}

std::string perf_open_failure_reason(const PerfEncoding& enc, int error, const PmuInventory& pmus) {
    switch (error) {
        case EACCES:
        case EPERM:
            return fmt::format(
                "permission denied (perf_event_paranoid={}: counting this process's own threads "
                "needs <= 2, or CAP_PERFMON)",
                pmus.paranoid);
        case ENOSYS:
            return "perf_event_open is not available (ENOSYS: an emulator such as qemu-user, or "
                   "a seccomp filter)";
        case ENOENT:
        case EOPNOTSUPP:
        case ENODEV:
            if (enc.needs_hardware_pmu && !pmus.core_pmu) {
                return fmt::format("no hardware PMU (the kernel exposes none: event sources {})",
                                   join_pmus(pmus));
            }
            return fmt::format("the PMU does not support this event ({})", std::strerror(error));
        case EINVAL:
            return fmt::format("the kernel refused the encoding (EINVAL; type {}, config {:#x})",
                               enc.type, enc.config);
        case EBUSY:
            return "the PMU is busy (EBUSY: another agent owns the counters)";
        case EMFILE:
        case ENFILE:
            return "too many open files for another counter (EMFILE)";
        default:
            return fmt::format("perf_event_open failed: {}", std::strerror(error));
    }
}

std::string probe_perf_counter(const PerfEncoding& enc, const PmuInventory& pmus) {
    const PerfOpenResult opened = open_perf_counter(enc, 0);
    if (opened.fd < 0) {
        return perf_open_failure_reason(enc, opened.error, pmus);
    }
    perf_counter_enable(opened.fd);
    perf_counter_disable(opened.fd);
    const auto reading = read_perf_counter(opened.fd);
    close(opened.fd);
    if (!reading) {
        return "the counter opened but could not be read";
    }
    return {};
}

void perf_counter_enable(int fd) {
    ioctl(fd, PERF_EVENT_IOC_RESET, 0);
    ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
}

void perf_counter_disable(int fd) {
    ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
}

std::optional<PerfReading> read_perf_counter(int fd) {
    std::array<std::uint64_t, 3> buf{};  // value, time enabled, time running
    if (read(fd, buf.data(), sizeof(buf)) != static_cast<ssize_t>(sizeof(buf))) {
        return std::nullopt;
    }
    PerfReading r;
    r.value = static_cast<double>(buf[0]);
    r.enabled_ns = static_cast<double>(buf[1]);
    r.running_ns = static_cast<double>(buf[2]);
    // The kernel multiplexes when events outnumber counters: scale to the whole window.
    if (buf[2] > 0 && buf[2] < buf[1]) {
        r.value *= r.enabled_ns / r.running_ns;
    }
    return r;
}

}  // namespace assay
