#include <catch2/catch.hpp>

TEST_CASE("gemm_cpu_test stub", "[stub]") { SUCCEED("being written"); }
