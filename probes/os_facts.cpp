// OS settings that move benchmark results, host identity, and whether hardware counters work.
// Every file is read relative to fs_root (tests pass a fake tree); a missing file is "unknown".
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>

#include <fmt/format.h>

#include "probes/fs.hpp"
#include "probes/internal.hpp"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace assay::probes {
namespace {

namespace fs = std::filesystem;
constexpr const char* kUnknown = "unknown";

std::string line_or_unknown(const fs::path& root, std::string_view path) {
    auto value = read_line(under_root(root, path));
    return value ? *value : std::string(kUnknown);
}

std::string choice_or_unknown(const fs::path& root, std::string_view path) {
    auto value = read_line(under_root(root, path));
    if (!value) {
        return kUnknown;
    }
    std::string selected = selected_choice(*value);
    return selected.empty() ? std::string(kUnknown) : selected;
}

std::optional<int> int_file(const fs::path& root, std::string_view path) {
    auto value = read_line(under_root(root, path));
    return value ? parse_int(*value) : std::nullopt;
}

[[maybe_unused]] std::string dmi_virtualization(const fs::path& root) {
    if (auto type = read_line(under_root(root, "/sys/hypervisor/type"))) {
        return *type == "xen" ? "Xen" : *type;
    }
    const std::string vendor =
        read_line(under_root(root, "/sys/class/dmi/id/sys_vendor")).value_or("");
    const std::string product =
        read_line(under_root(root, "/sys/class/dmi/id/product_name")).value_or("");
    const std::string both = vendor + " " + product;
    if (both.find("QEMU") != std::string::npos || both.find("KVM") != std::string::npos) {
        return "KVM";
    }
    if (both.find("VMware") != std::string::npos) {
        return "VMware";
    }
    if (both.find("Microsoft") != std::string::npos) {
        return "Microsoft Hyper-V";
    }
    // AWS Graviton instances: DMI says "Amazon EC2"; bare-metal ones end in ".metal".
    if (vendor == "Amazon EC2") {
        return product.find(".metal") != std::string::npos ? "none" : "KVM (AWS Nitro)";
    }
    return kUnknown;
}

std::string detect_virtualization(const fs::path& root) {
#if defined(__x86_64__)
    (void)root;
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) {
        return kUnknown;
    }
    if (((ecx >> 31) & 1U) == 0) {
        return "none";
    }
    // The hypervisor leaves are outside __get_cpuid's range checks; call cpuid directly.
    __cpuid(0x40000000U, eax, ebx, ecx, edx);
    std::array<char, 13> sig{};
    std::memcpy(sig.data(), &ebx, 4);
    std::memcpy(sig.data() + 4, &ecx, 4);
    std::memcpy(sig.data() + 8, &edx, 4);
    const std::string s = trim(std::string(sig.data()));
    if (s.rfind("KVMKVMKVM", 0) == 0) {
        return "KVM";
    }
    if (s == "VMwareVMware") {
        return "VMware";
    }
    if (s == "Microsoft Hv") {
        return "Microsoft Hyper-V";
    }
    if (s == "XenVMMXenVMM") {
        return "Xen";
    }
    if (s == "TCGTCGTCGTCG") {
        return "QEMU (TCG)";
    }
    if (s == "VBoxVBoxVBox") {
        return "VirtualBox";
    }
    if (s.rfind("bhyve", 0) == 0) {
        return "bhyve";
    }
    return s.empty() ? std::string("unknown hypervisor") : fmt::format("other ({})", s);
#else
    return dmi_virtualization(root);
#endif
}

std::string detect_container(const fs::path& root) {
    std::error_code ec;
    if (fs::exists(under_root(root, "/.dockerenv"), ec)) {
        return "docker";
    }
    if (fs::exists(under_root(root, "/run/.containerenv"), ec)) {
        return "podman";
    }
    auto cgroup = read_text(under_root(root, "/proc/1/cgroup"));
    if (!cgroup) {
        return kUnknown;
    }
    for (const auto& [needle, name] :
         std::array<std::pair<const char*, const char*>, 5>{{{"kubepods", "kubernetes"},
                                                             {"docker", "docker"},
                                                             {"libpod", "podman"},
                                                             {"lxc", "lxc"},
                                                             {"containerd", "containerd"}}}) {
        if (cgroup->find(needle) != std::string::npos) {
            return name;
        }
    }
    return "none";
}

}  // namespace

OsInfo probe_os(const fs::path& fs_root) {
    OsInfo os;
    os.kernel = line_or_unknown(fs_root, "/proc/sys/kernel/osrelease");
    if (auto release = read_text(under_root(fs_root, "/etc/os-release"))) {
        os.os_release = key_value(*release, "PRETTY_NAME");
    }
    if (os.os_release.empty()) {
        os.os_release = kUnknown;
    }
    os.cpu_governor =
        line_or_unknown(fs_root, "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
    os.thp_enabled = choice_or_unknown(fs_root, "/sys/kernel/mm/transparent_hugepage/enabled");
    os.thp_defrag = choice_or_unknown(fs_root, "/sys/kernel/mm/transparent_hugepage/defrag");
    if (auto meminfo = read_text(under_root(fs_root, "/proc/meminfo"))) {
        os.hugepages_total = meminfo_value(*meminfo, "HugePages_Total");
        os.hugepage_size_bytes = meminfo_value(*meminfo, "Hugepagesize");
    }
    os.smt_control = line_or_unknown(fs_root, "/sys/devices/system/cpu/smt/control");
    os.perf_event_paranoid = int_file(fs_root, "/proc/sys/kernel/perf_event_paranoid");
    os.numa_balancing = int_file(fs_root, "/proc/sys/kernel/numa_balancing");
    os.virtualization = detect_virtualization(fs_root);
    os.container = detect_container(fs_root);
    os.hw_counters_reason = "not probed";
    return os;
}

void probe_hw_counters(OsInfo& os) {
    perf_event_attr attr{};
    attr.type = PERF_TYPE_HARDWARE;
    attr.size = sizeof(attr);
    attr.config = PERF_COUNT_HW_CPU_CYCLES;
    attr.disabled = 1;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    const long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0UL);
    if (fd >= 0) {
        close(static_cast<int>(fd));
        os.hw_counters_usable = true;
        os.hw_counters_reason = "usable (perf_event_open cycles OK)";
        return;
    }
    const int err = errno;
    os.hw_counters_usable = false;
    const std::string paranoid =
        os.perf_event_paranoid ? std::to_string(*os.perf_event_paranoid) : std::string("?");
    switch (err) {
        case ENOENT:
        case EOPNOTSUPP:
            os.hw_counters_reason = fmt::format(
                "no hardware PMU exposed to this system (perf_event_open: {}) — typical of VMs "
                "without a virtual PMU",
                err == ENOENT ? "ENOENT" : "EOPNOTSUPP");
            break;
        case EACCES:
        case EPERM:
            os.hw_counters_reason = fmt::format("perf_event_paranoid={} forbids it ({})", paranoid,
                                                err == EACCES ? "EACCES" : "EPERM");
            break;
        case ENOSYS:
            os.hw_counters_reason =
                "perf_event_open not available (ENOSYS): kernel without "
                "perf events or blocked by seccomp";
            break;
        default:
            os.hw_counters_reason =
                fmt::format("perf_event_open(cycles) failed: {}", std::strerror(err));
            break;
    }
}

HostIdentity probe_identity(const fs::path& fs_root) {
    HostIdentity id;
    std::array<char, HOST_NAME_MAX + 1> name{};
    if (gethostname(name.data(), name.size() - 1) == 0) {
        id.hostname = name.data();
    }
    // machine-id is stable across reboots and unique per install; the hostname fallback is
    // documented (HostIdentity::machine_id) and weaker: clones share it.
    if (auto mid = read_line(under_root(fs_root, "/etc/machine-id"))) {
        id.machine_id = *mid;
    } else if (auto dbus = read_line(under_root(fs_root, "/var/lib/dbus/machine-id"))) {
        id.machine_id = *dbus;
    } else {
        id.machine_id = "hostname:" + id.hostname;
    }
    id.system_vendor = read_line(under_root(fs_root, "/sys/class/dmi/id/sys_vendor")).value_or("");
    id.product_name = read_line(under_root(fs_root, "/sys/class/dmi/id/product_name")).value_or("");
    id.bios_version = read_line(under_root(fs_root, "/sys/class/dmi/id/bios_version")).value_or("");
    return id;
}

}  // namespace assay::probes
