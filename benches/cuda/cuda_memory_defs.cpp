#include "benches/cuda/cuda_memory_defs.hpp"
