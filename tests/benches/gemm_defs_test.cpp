#include <catch2/catch.hpp>

TEST_CASE("gemm_defs_test stub", "[stub]") { SUCCEED("being written"); }
