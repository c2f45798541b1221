#include "benches/cuda/attention_cudnn_kernel.hpp"

#include <fmt/format.h>

#include <stdexcept>
#include <utility>

#include "benches/cuda/attention_cuda_defs.hpp"
#include "benches/cuda/attention_cuda_kernel.hpp"
#include "core/error.hpp"

namespace assay {

CudnnAttentionKernel::CudnnAttentionKernel(attention::AttentionCase c, int device,
                                           std::uint64_t seed)
    : case_(std::move(c)), device_(device), seed_(seed) {
    std::string why;
    const auto p = cudnn_attention_problem(case_, why);
    if (!p) {
        throw UsageError(fmt::format("cuDNN SDPA: {}", why));
    }
    problem_ = *p;
}

CudnnAttentionKernel::~CudnnAttentionKernel() = default;

void CudnnAttentionKernel::prepare() {
    sdpa_.reset();
    try {
        sdpa_ = std::make_unique<cuda::CudnnSdpa>(problem_, device_);
        sdpa_->fill_inputs(seed_);
    } catch (const cuda::CudnnUnsupported& e) {
        sdpa_.reset();
        throw UnsupportedError(e.what());
    } catch (const std::exception& e) {
        sdpa_.reset();
        throw Error(e.what());
    }
}

void CudnnAttentionKernel::run() {
    if (!sdpa_) {
        throw Error("cuDNN SDPA: run() before prepare()");
    }
    try {
        last_seconds_ = sdpa_->run_seconds();
    } catch (const std::exception& e) {
        throw Error(e.what());
    }
}

Verification CudnnAttentionKernel::verify() {
    if (!sdpa_) {
        return Verification{false, "not prepared"};
    }
    return verify_cuda_attention(case_, problem_.dtype, seed_, false,
                                 [this](std::int64_t b, std::int64_t h, std::int64_t i) {
                                     return sdpa_->output_row(b, h, i);
                                 });
}

WorkModel CudnnAttentionKernel::work() const {
    WorkModel w;
    w.flops = attention::attention_flops(case_.shape);
    if (problem_.decode) {
        // K and V read, Q read, O written (cuDNN writes O in the input dtype).
        w.bytes_stream = attention::kv_bytes(case_.shape, case_.kv_dtype) +
                         2.0 * static_cast<double>(attention::q_elements(case_.shape)) *
                             static_cast<double>(attention::element_bytes(case_.q_dtype));
    }
    return w;
}

std::vector<Metric> CudnnAttentionKernel::extra_metrics() const {
    if (!sdpa_) {
        return {};
    }
    return {Metric{"cudnn_workspace_bytes", static_cast<double>(sdpa_->workspace_bytes()), "bytes",
                   Direction::none}};
}

std::string CudnnAttentionKernel::implementation() const {
    if (!sdpa_) {
        return {};
    }
    return sdpa_->implementation() + "; FLOP convention 4·B·H·D·unmasked pairs";
}

}  // namespace assay
