#include "benches/cpu/topology_defs.hpp"
