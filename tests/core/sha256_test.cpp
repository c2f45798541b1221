#include "core/sha256.hpp"

#include <string>

#include <catch2/catch.hpp>

// FIPS 180-4 / NIST CAVP example vectors.
TEST_CASE("sha256: NIST test vectors", "[sha256]") {
    CHECK(assay::sha256_hex("") ==
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(assay::sha256_hex("abc") ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(assay::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(assay::sha256_hex(std::string(1000000, 'a')) ==
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256: padding boundaries (55, 56, 64 bytes) differ and are stable", "[sha256]") {
    const auto a = assay::sha256_hex(std::string(55, 'x'));
    const auto b = assay::sha256_hex(std::string(56, 'x'));
    const auto c = assay::sha256_hex(std::string(64, 'x'));
    CHECK(a.size() == 64);
    CHECK(a != b);
    CHECK(b != c);
    CHECK(a == assay::sha256_hex(std::string(55, 'x')));
}
