#pragma once
/// cuDNN's fused scaled dot-product attention (SDPA forward, inference) through the cuDNN backend
/// graph C API, behind a C++17-clean interface: no cuDNN or CUDA type appears here
/// (attention_cudnn.cu is the only file that sees them). cuDNN is loaded at run time with
/// dlopen("libcudnn.so.9"), then from the toolkit's lib dir, so a CUDA-enabled binary still starts
/// on a host without cuDNN and reports the cuDNN cases as skipped with the loader's reason.
///
/// The operation graph is the one cuDNN's fused flash-attention engine matches (the graph
/// cudnn-frontend's SDPA node lowers to for cuDNN 9 before the unified SDPA operation):
///   S = Q·Kᵀ (matmul, fp32) → S·scale (pointwise MUL, scale by value) → [causal: row/col
///   GEN_INDEX, CMP_GE, BINARY_SELECT with the lowest float] → softmax as MAX reduction, SUB,
///   EXP, ADD reduction, DIV (P in the input dtype) plus LOG/ADD into a virtual stats tensor (the
///   frontend always emits it) → O = P·V (matmul, fp32 accumulation).
/// Layouts are the suite's (benches/cuda/attention_cuda.hpp): Q/O [B][Hq][Sq][D],
/// K/V [B][Hkv][Skv][D]; Kᵀ is K seen with dims [B][Hkv][D][Skv] and swapped strides; GQA is
/// the engine's broadcast of the Hkv heads of K and V over Hq (dims carry Hkv, as the frontend
/// does). The causal mask is bottom-right aligned: query i sees key j iff
/// i + (Skv - Sq) >= j (an INT32 ADD of Skv - Sq when they differ).
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "benches/cuda/attention_cuda.hpp"

namespace assay::cuda {

/// Element type of a graph tensor.
enum class CudnnType { f32, bf16, f16, i32, boolean };

/// "FLOAT", "BFLOAT16", "HALF", "INT32", "BOOLEAN" (cuDNN's names, for messages and tests).
const char* cudnn_type_name(CudnnType t);

/// One tensor of the SDPA graph.
struct CudnnTensorSpec {
    std::int64_t uid = 0;
    std::string name;
    CudnnType type = CudnnType::f32;
    std::array<std::int64_t, 4> dims{};
    std::array<std::int64_t, 4> strides{};
    bool is_virtual = false;
    /// A host scalar passed by value (dims and strides all 1); `value` holds it (f32 or i32).
    bool by_value = false;
    double value = 0;
};

/// Operation kinds of the graph.
enum class CudnnOpKind { matmul, pointwise, reduction };

/// Pointwise and reduction modes the graph uses.
enum class CudnnOpMode {
    none,  ///< matmul
    mul,
    add,
    sub,
    div,
    exp,
    log,
    cmp_ge,
    gen_index,
    binary_select,
    reduce_max,
    reduce_add,
};

/// "MUL", "GEN_INDEX", "REDUCE_MAX", ... (tests and messages).
const char* cudnn_mode_name(CudnnOpMode m);

/// One operation: matmul y = x·b; pointwise y = mode(x[, b][, t]) (binary select:
/// y = t ? x : b); reduction y = mode over the dims where y's extent is 1.
struct CudnnOpSpec {
    std::string name;
    CudnnOpKind kind = CudnnOpKind::pointwise;
    CudnnOpMode mode = CudnnOpMode::none;
    CudnnType compute = CudnnType::f32;  ///< matmul/reduction compute type, pointwise precision
    std::int64_t x = 0;                  ///< uid of the first input (matmul A)
    std::int64_t b = 0;                  ///< uid of the second input (matmul B), 0 when none
    std::int64_t t = 0;                  ///< uid of binary select's mask, 0 when none
    std::int64_t y = 0;                  ///< uid of the output (matmul C)
    std::int64_t axis = -1;              ///< GEN_INDEX axis, else -1
};

/// The whole graph: tensors (by uid) and operations in dependency order.
struct CudnnSdpaGraph {
    std::vector<CudnnTensorSpec> tensors;
    std::vector<CudnnOpSpec> ops;
    /// The tensor with `uid`, or null.
    const CudnnTensorSpec* find(std::int64_t uid) const;
};

/// Unique ids of the graph's non-virtual tensors (the variant pack).
inline constexpr std::int64_t kCudnnUidQ = 1;
inline constexpr std::int64_t kCudnnUidK = 2;
inline constexpr std::int64_t kCudnnUidV = 3;
inline constexpr std::int64_t kCudnnUidO = 4;
inline constexpr std::int64_t kCudnnUidScale = 5;
inline constexpr std::int64_t kCudnnUidMaskValue = 6;
inline constexpr std::int64_t kCudnnUidDiagonalOffset = 7;

/// Why cuDNN's SDPA (as this build expresses it) cannot take `p`, before asking cuDNN (empty
/// when it can): attn_problem_reason() without the decode kernel's limits, plus head_dim a
/// multiple of 8 and at most 128 (the fused engine's limit on sm_80/sm_90 for 16-bit inputs).
std::string cudnn_sdpa_reason(const AttnProblem& p);

/// The operation graph for `p` (see the file comment). Pure: no cuDNN call, testable anywhere.
/// Throws std::invalid_argument with cudnn_sdpa_reason() when it is not empty.
CudnnSdpaGraph describe_cudnn_sdpa(const AttnProblem& p);

/// cuDNN could not take the problem here (library missing or too old, no engine for the graph,
/// plan finalisation refused): a skip with this reason, not a failure. Thrown by CudnnSdpa.
class CudnnUnsupported : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// True when libcudnn.so.9 (or the toolkit's copy) loads and has every entry point used, and its
/// version is usable; else `why` says what failed ("libcudnn.so.9 not found: <dlerror>",
/// "cuDNN 9.10.0 has known SDPA forward bugs"). Cheap after the first call.
bool cudnn_loadable(std::string& why);

/// The loader's check against an explicit library path (tests: a bogus path must fail with the
/// dlopen error). Not cached; the library stays loaded on success.
bool cudnn_loadable_from(const std::string& path, std::string& why);

/// cudnnGetVersion() of the loaded library (e.g. 91900), 0 when it cannot be loaded.
std::size_t cudnn_version();

/// A prepared cuDNN SDPA on one device: Q, K, V, O and the plan's workspace allocated, inputs
/// generated on the device with attn_input_bits (the flash kernels' seeds, so both backends see
/// the same numbers), the operation graph built and the first engine configuration of cuDNN's
/// heuristics (mode A, then the fallback list) that finalises kept. Not thread-safe. Throws
/// CudnnUnsupported for what cuDNN refuses, std::runtime_error for CUDA errors.
class CudnnSdpa {
  public:
    CudnnSdpa(const AttnProblem& problem, int device);
    ~CudnnSdpa();
    CudnnSdpa(const CudnnSdpa&) = delete;
    CudnnSdpa& operator=(const CudnnSdpa&) = delete;

    /// Generates Q, K and V from seeds `seed`, `seed + 1`, `seed + 2`; O is set to NaN.
    void fill_inputs(std::uint64_t seed);
    /// One blocking cudnnBackendExecute; its CUDA-event duration in seconds.
    double run_seconds();
    /// O[b][h][i][0..head_dim) of the latest run, as floats (O is stored in the input dtype).
    std::vector<float> output_row(std::int64_t b, std::int64_t h, std::int64_t i);
    /// Overwrites O[b][h][i][d] with `value` rounded to the dtype (tests of verification).
    void corrupt_output_for_test(std::int64_t b, std::int64_t h, std::int64_t i, std::int64_t d,
                                 float value);
    /// Bytes of the workspace the execution plan asked for (allocated with cudaMalloc).
    std::uint64_t workspace_bytes() const;
    /// "cuDNN 9.19.0 SDPA fprop graph (14 ops), engine 7 (heuristics mode A, candidate 1 of 3),
    /// workspace 0 B, sm_90 (NVIDIA H100 80GB HBM3), /usr/lib/.../libcudnn.so.9".
    std::string implementation() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace assay::cuda
