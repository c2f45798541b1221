#include "benches/cpu/gemm/gemm_shapes.hpp"
