#include "benches/cpu/core_to_core.hpp"
