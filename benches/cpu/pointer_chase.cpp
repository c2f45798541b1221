#include "benches/cpu/pointer_chase.hpp"
