#include "benches/cpu/gemm/gemm_verify.hpp"
