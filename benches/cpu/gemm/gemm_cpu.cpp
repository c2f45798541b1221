#include "benches/cpu/gemm/gemm_cpu.hpp"
