#pragma once
// Test helper: CPUs this process may run on (a test runner may restrict affinity).
#include <sched.h>

#include <vector>

namespace assay::test {

inline std::vector<unsigned> allowed_cpus(unsigned at_most) {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::vector<unsigned> out;
    if (sched_getaffinity(0, sizeof(set), &set) != 0) {
        return out;
    }
    for (unsigned cpu = 0; cpu < CPU_SETSIZE && out.size() < at_most; ++cpu) {
        if (CPU_ISSET(cpu, &set)) {
            out.push_back(cpu);
        }
    }
    return out;
}

}  // namespace assay::test
