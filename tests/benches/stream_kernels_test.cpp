#include "benches/cpu/stream_kernels.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "core/error.hpp"
#include "test_cpus.hpp"

using assay::StoreKind;
using assay::StreamKernel;
using assay::StreamOp;

namespace {

struct Variant {
    StreamOp op;
    StoreKind stores;
};

const Variant kVariants[] = {
    {StreamOp::copy, StoreKind::regular},  {StreamOp::copy, StoreKind::nontemporal},
    {StreamOp::scale, StoreKind::regular}, {StreamOp::scale, StoreKind::nontemporal},
    {StreamOp::add, StoreKind::regular},   {StreamOp::add, StoreKind::nontemporal},
    {StreamOp::triad, StoreKind::regular}, {StreamOp::triad, StoreKind::nontemporal},
    {StreamOp::fill, StoreKind::regular},  {StreamOp::fill, StoreKind::nontemporal},
    {StreamOp::sum, StoreKind::regular},
};

}  // namespace

TEST_CASE("every STREAM kernel verifies on a small array and fails when its output is corrupted",
          "[benches][stream]") {
    const auto pus = assay::test::allowed_cpus(2);
    REQUIRE(!pus.empty());
    // Not a multiple of any vector width or of the team's cache lines: exercises the tails.
    const std::size_t n = (std::size_t{1} << 15) + 13;
    for (const Variant v : kVariants) {
        for (std::size_t reps : {std::size_t{1}, std::size_t{3}}) {
            INFO(assay::stream_op_name(v.op)
                 << " stores=" << assay::store_kind_name(v.stores) << " reps=" << reps);
            StreamKernel k(v.op, v.stores, pus, n, reps);
            CHECK(k.output_for_test().empty());
            k.prepare();
            // Before run() the output holds a sentinel (-1, or NaN for sum): must fail.
            CHECK_FALSE(k.verify().ok);

            k.run();
            const assay::Verification ok = k.verify();
            INFO(ok.detail);
            CHECK(ok.ok);

            auto out = k.output_for_test();
            if (v.op == StreamOp::sum) {
                REQUIRE(out.size() == 1);
                out[0] += 1.0;  // one element of b off by 1 changes the sum by this much
            } else {
                REQUIRE(out.size() == n);
                CHECK(ok.detail.find("checked 32781 of 32781 elements") != std::string::npos);
                out[n - 1] += 1e-9;  // the scalar tail
                out[4097] *= -1.0;   // the vector body
            }
            const assay::Verification bad = k.verify();
            INFO(bad.detail);
            CHECK_FALSE(bad.ok);
            if (v.op != StreamOp::sum) {
                CHECK(bad.detail.find("index 4097") != std::string::npos);
                CHECK(bad.detail.find("2 of 32781") != std::string::npos);
            }

            // Rerunning repairs the output.
            k.run();
            CHECK(k.verify().ok);
        }
    }
}

TEST_CASE("the sum kernel sees a corrupted input element", "[benches][stream]") {
    // The sum's reference is recomputed from b, so corrupting b after run() must be caught too.
    StreamKernel k(StreamOp::sum, StoreKind::regular, assay::test::allowed_cpus(1), 4096);
    k.prepare();
    k.run();
    REQUIRE(k.verify().ok);
    const double before = k.output_for_test()[0];
    k.output_for_test()[0] = before * (1 + 1e-9);
    CHECK_FALSE(k.verify().ok);
    k.output_for_test()[0] = before;
    CHECK(k.verify().ok);
}

TEST_CASE("STREAM work model: STREAM counting and write-allocate counting", "[benches][stream]") {
    struct Expected {
        StreamOp op;
        double stream_per_elem;
        double wa_regular_per_elem;
        double flops_per_elem;
    };
    const Expected table[] = {
        {StreamOp::copy, 16, 24, 0},  {StreamOp::scale, 16, 24, 1}, {StreamOp::add, 24, 32, 1},
        {StreamOp::triad, 24, 32, 2}, {StreamOp::sum, 8, 8, 1},     {StreamOp::fill, 8, 16, 0},
    };
    for (const auto& e : table) {
        INFO(assay::stream_op_name(e.op));
        const auto reg = assay::stream_work_model(e.op, StoreKind::regular, 1000);
        CHECK(reg.bytes_stream == e.stream_per_elem * 1000);
        CHECK(reg.bytes_write_allocate == e.wa_regular_per_elem * 1000);
        CHECK(reg.flops == e.flops_per_elem * 1000);
        if (e.op != StreamOp::sum) {
            // Non-temporal stores skip the read-for-ownership: both counts agree.
            const auto nt = assay::stream_work_model(e.op, StoreKind::nontemporal, 1000);
            CHECK(nt.bytes_stream == e.stream_per_elem * 1000);
            CHECK(nt.bytes_write_allocate == e.stream_per_elem * 1000);
        }
        // reps multiply the work of one pass; the kernel reports the same model.
        const auto five = assay::stream_work_model(e.op, StoreKind::regular, 1000, 5);
        CHECK(five.bytes_stream == 5 * reg.bytes_stream);
        StreamKernel k(e.op, StoreKind::regular, {0}, 1000, 5);
        CHECK(k.work().bytes_write_allocate == five.bytes_write_allocate);
        CHECK(k.work().flops == five.flops);
    }
    CHECK(assay::stream_op_arrays(StreamOp::triad) == 3);
    CHECK(assay::stream_op_arrays(StreamOp::copy) == 2);
    CHECK(assay::stream_op_arrays(StreamOp::sum) == 1);
    CHECK(assay::stream_op_arrays(StreamOp::fill) == 1);
}

TEST_CASE("STREAM kernels reject impossible configurations", "[benches][stream]") {
    CHECK_THROWS_AS(StreamKernel(StreamOp::sum, StoreKind::nontemporal, {0}, 64),
                    assay::UsageError);
    CHECK_THROWS_AS(StreamKernel(StreamOp::copy, StoreKind::regular, {0}, 64, 0),
                    assay::UsageError);
    StreamKernel k(StreamOp::copy, StoreKind::regular, {0}, 64);
    CHECK_THROWS_AS(k.run(), assay::UsageError);
    CHECK_FALSE(k.verify().ok);
}
