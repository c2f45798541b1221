#include "benches/cpu/latency_defs.hpp"
