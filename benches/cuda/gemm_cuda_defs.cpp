#include "benches/cuda/gemm_cuda_defs.hpp"
