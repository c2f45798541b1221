#include "benches/cpu/gemm/gemm_defs.hpp"
