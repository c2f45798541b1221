#include "benches/cpu/stream_triad.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "test_cpus.hpp"

using assay::StreamTriadKernel;

TEST_CASE("chunks cover the array on 64-byte boundaries without overlap", "[benches][triad]") {
    for (std::size_t n : {std::size_t{0}, std::size_t{7}, std::size_t{8}, std::size_t{1001},
                          std::size_t{1} << 16}) {
        for (unsigned team : {1u, 2u, 3u, 7u}) {
            std::size_t expected_begin = 0;
            for (unsigned t = 0; t < team; ++t) {
                const auto [begin, end] = StreamTriadKernel::chunk(n, t, team);
                CHECK(begin == expected_begin);
                CHECK(begin <= end);
                if (end < n) {
                    CHECK(end % 8 == 0);
                }
                expected_begin = end;
            }
            CHECK(expected_begin == n);
        }
    }
}

TEST_CASE("triad on a small array verifies, and a corrupted element fails", "[benches][triad]") {
    const auto pus = assay::test::allowed_cpus(2);
    REQUIRE(!pus.empty());
    const std::size_t n = std::size_t{1} << 16;
    StreamTriadKernel k(pus, n);
    k.prepare();

    // Before run(), a holds the -1 sentinel: verification must fail.
    CHECK_FALSE(k.verify().ok);

    k.run();
    const assay::Verification ok = k.verify();
    INFO(ok.detail);
    CHECK(ok.ok);
    CHECK(ok.detail.find("checked 65536 of 65536 elements") != std::string::npos);

    auto out = k.output_for_test();
    REQUIRE(out.size() == n);
    out[12345] += 1e-9;
    const assay::Verification bad = k.verify();
    INFO(bad.detail);
    CHECK_FALSE(bad.ok);
    CHECK(bad.detail.find("index 12345") != std::string::npos);
    CHECK(bad.detail.find("1 of 65536") != std::string::npos);

    // Rerunning repairs the output.
    k.run();
    CHECK(k.verify().ok);
}

TEST_CASE("triad work model follows the STREAM convention", "[benches][triad]") {
    StreamTriadKernel k({0}, 1000);
    const assay::WorkModel w = k.work();
    CHECK(w.bytes_stream == 24000.0);
    CHECK(w.bytes_write_allocate == 32000.0);
    CHECK(w.flops == 2000.0);
    CHECK(k.output_for_test().empty());
}
