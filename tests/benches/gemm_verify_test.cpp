#include <catch2/catch.hpp>

TEST_CASE("gemm_verify_test stub", "[stub]") { SUCCEED("being written"); }
