#include "benches/cpu/attention/attention_kernels.hpp"

#include <fmt/format.h>

#include <utility>

#include "benches/cpu/attention/attention_inputs.hpp"
#include "benches/cpu/attention/flash_cpu.hpp"
#include "benches/thread_team.hpp"
#include "core/error.hpp"

namespace assay {

using attention_detail::allocate_bytes;
using attention_detail::Bytes;

struct FlashAttentionKernel::Impl {
    attention::AttentionCase c;
    std::vector<unsigned> pus;
    std::uint64_t seed = 0;
    std::unique_ptr<ThreadTeam> team;
    std::unique_ptr<attention::FlashAttentionCpu> flash;
    Bytes q, k, v, o;
    std::string implementation;
    bool ran = false;
};

FlashAttentionKernel::FlashAttentionKernel(attention::AttentionCase c, std::vector<unsigned> pus,
                                           std::uint64_t seed)
    : impl_(std::make_unique<Impl>()) {
    impl_->c = std::move(c);
    impl_->pus = std::move(pus);
    impl_->seed = seed;
    if (impl_->pus.empty()) {
        throw UsageError("attention kernel: no PUs to run on");
    }
}

FlashAttentionKernel::~FlashAttentionKernel() = default;

void FlashAttentionKernel::prepare() {
    Impl& im = *impl_;
    const attention::Shape& s = im.c.shape;
    if (!im.team) {
        im.team = std::make_unique<ThreadTeam>(im.pus);
    }
    const std::size_t nq = attention::q_elements(s);
    const std::size_t nkv = attention::kv_elements(s);
    im.q = allocate_bytes(nq * attention::element_bytes(im.c.q_dtype));
    im.k = allocate_bytes(nkv * attention::element_bytes(im.c.kv_dtype));
    im.v = allocate_bytes(nkv * attention::element_bytes(im.c.kv_dtype));
    im.o = allocate_bytes(nq * sizeof(float));
    attention_detail::team_fill_random(*im.team, im.q.get(), im.c.q_dtype, nq, im.seed);
    attention_detail::team_fill_random(*im.team, im.k.get(), im.c.kv_dtype, nkv, im.seed + 1);
    attention_detail::team_fill_random(*im.team, im.v.get(), im.c.kv_dtype, nkv, im.seed + 2);
    attention_detail::team_zero(*im.team, static_cast<float*>(im.o.get()), nq);
    im.flash = std::make_unique<attention::FlashAttentionCpu>(s, im.c.q_dtype, im.c.kv_dtype,
                                                              im.team->size());
    im.implementation =
        fmt::format("{}; {} threads; FLOP = 4·B·H·D·unmasked (q, k) pairs",
                    im.c.phase == attention::Phase::prefill ? im.flash->prefill_implementation()
                                                            : im.flash->decode_implementation(),
                    im.team->size());
    im.ran = false;
}

void FlashAttentionKernel::run() {
    Impl& im = *impl_;
    if (!im.flash) {
        throw Error("attention kernel: run() before prepare()");
    }
    const attention::Tensors t{im.q.get(), im.k.get(), im.v.get(), static_cast<float*>(im.o.get())};
    if (im.c.phase == attention::Phase::prefill) {
        im.flash->prefill(t, *im.team);
    } else {
        im.flash->decode(t, *im.team);
    }
    im.ran = true;
}

Verification FlashAttentionKernel::verify() {
    const Impl& im = *impl_;
    if (!im.ran) {
        return Verification{false, "attention kernel: verify() before run()"};
    }
    const attention::AttentionCheck check =
        attention::verify_sampled(im.c.shape, im.c.q_dtype, im.c.kv_dtype, im.q.get(), im.k.get(),
                                  im.v.get(), static_cast<const float*>(im.o.get()));
    return Verification{check.ok, check.detail};
}

WorkModel FlashAttentionKernel::work() const {
    WorkModel w;
    w.flops = attention::attention_flops(impl_->c.shape);
    if (impl_->c.phase == attention::Phase::decode) {
        w.bytes_stream =
            attention::decode_bytes(impl_->c.shape, impl_->c.q_dtype, impl_->c.kv_dtype);
    }
    return w;
}

std::string FlashAttentionKernel::implementation() const {
    return impl_->implementation;
}

void FlashAttentionKernel::corrupt_output_for_test(std::size_t index, float delta) {
    Impl& im = *impl_;
    if (!im.o || index >= attention::q_elements(im.c.shape)) {
        throw UsageError("attention kernel: corrupt_output_for_test index out of range");
    }
    static_cast<float*>(im.o.get())[index] += delta;
}

}  // namespace assay
