#pragma once
// Whether this process may count a software perf event on itself. Real Linux hosts (VMs
// included) can; qemu-user does not emulate perf_event_open, so under the aarch64 CI the counter
// tests check the *unavailable* path instead of silently passing.
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace assay::test {

/// errno of opening the generic hardware cycles event on the calling thread (user mode), 0 when
/// it opens: ENOENT/EOPNOTSUPP where the kernel exposes no CPU PMU (most VMs), EACCES/EPERM
/// under a strict perf_event_paranoid, ENOSYS under qemu-user.
inline int hardware_cycles_open_errno() {
    perf_event_attr attr{};
    attr.size = sizeof(attr);
    attr.type = PERF_TYPE_HARDWARE;
    attr.config = PERF_COUNT_HW_CPU_CYCLES;
    attr.disabled = 1;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    const long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
    if (fd < 0) {
        return errno;
    }
    close(static_cast<int>(fd));
    return 0;
}

inline bool software_perf_events_work(std::string& why) {
    perf_event_attr attr{};
    attr.size = sizeof(attr);
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_TASK_CLOCK;
    attr.disabled = 1;
    const long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
    if (fd < 0) {
        why = std::string("perf_event_open(task-clock): ") + std::strerror(errno);
        return false;
    }
    close(static_cast<int>(fd));
    return true;
}

}  // namespace assay::test
