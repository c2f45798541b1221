#include "benches/cpu/loaded_latency.hpp"
