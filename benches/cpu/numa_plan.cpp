#include "benches/cpu/numa_plan.hpp"
