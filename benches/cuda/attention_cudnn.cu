// cuDNN SDPA through the backend graph C API (see attention_cudnn.hpp). Compiled by nvcc as
// C++17: only C++17 headers here.
//
// cuDNN is dlopen'ed (libcudnn.so.<CUDNN_MAJOR>, then the toolkit's lib dir), as cuBLASLt is in
// gemm_cublaslt.cu: linking it would make a CUDA-enabled binary fail to start on hosts without
// cuDNN. Only its headers are needed at build time.
//
// Every cuDNN refusal (graph not matched, no engine configuration, plan finalisation failed)
// throws CudnnUnsupported naming the call and cudnnGetErrorString (plus cudnnGetLastErrorString's
// detail when it has one); the Kernel turns it into a skipped result.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "benches/cuda/attention_cudnn.hpp"
#include "benches/cuda/dl_library.hpp"

#ifndef ASSAY_CUDNN_FALLBACK_DIR
#define ASSAY_CUDNN_FALLBACK_DIR ""
#endif

namespace assay::cuda {
namespace {

#define ASSAY_CUDNN_STR2(x) #x
#define ASSAY_CUDNN_STR(x) ASSAY_CUDNN_STR2(x)
constexpr const char* kCudnnSoname = "libcudnn.so." ASSAY_CUDNN_STR(CUDNN_MAJOR);

/// The cuDNN entry points used, resolved with dlsym.
struct DnnApi {
    void* handle = nullptr;
    std::string path;
    std::size_t version = 0;
    decltype(&cudnnGetVersion) get_version = nullptr;
    decltype(&cudnnGetErrorString) error_string = nullptr;
    decltype(&cudnnGetLastErrorString) last_error = nullptr;
    decltype(&cudnnCreate) create = nullptr;
    decltype(&cudnnDestroy) destroy = nullptr;
    decltype(&cudnnSetStream) set_stream = nullptr;
    decltype(&cudnnBackendCreateDescriptor) create_desc = nullptr;
    decltype(&cudnnBackendDestroyDescriptor) destroy_desc = nullptr;
    decltype(&cudnnBackendSetAttribute) set_attr = nullptr;
    decltype(&cudnnBackendGetAttribute) get_attr = nullptr;
    decltype(&cudnnBackendFinalize) finalize = nullptr;
    decltype(&cudnnBackendExecute) execute = nullptr;
};

std::string version_text(std::size_t v) {
    // cuDNN 9 encodes major * 10000 + minor * 100 + patch.
    return std::to_string(v / 10000) + "." + std::to_string((v / 100) % 100) + "." +
           std::to_string(v % 100);
}

/// Resolves every entry point of an opened library and checks its version; `why` when not.
bool bind(void* h, const std::string& path, DnnApi& a, std::string& why) {
    a.handle = h;
    a.path = path;
    const bool ok = resolve_symbol(h, path, "cudnnGetVersion", a.get_version, why) &&
                    resolve_symbol(h, path, "cudnnGetErrorString", a.error_string, why) &&
                    resolve_symbol(h, path, "cudnnGetLastErrorString", a.last_error, why) &&
                    resolve_symbol(h, path, "cudnnCreate", a.create, why) &&
                    resolve_symbol(h, path, "cudnnDestroy", a.destroy, why) &&
                    resolve_symbol(h, path, "cudnnSetStream", a.set_stream, why) &&
                    resolve_symbol(h, path, "cudnnBackendCreateDescriptor", a.create_desc, why) &&
                    resolve_symbol(h, path, "cudnnBackendDestroyDescriptor", a.destroy_desc, why) &&
                    resolve_symbol(h, path, "cudnnBackendSetAttribute", a.set_attr, why) &&
                    resolve_symbol(h, path, "cudnnBackendGetAttribute", a.get_attr, why) &&
                    resolve_symbol(h, path, "cudnnBackendFinalize", a.finalize, why) &&
                    resolve_symbol(h, path, "cudnnBackendExecute", a.execute, why);
    if (!ok) {
        return false;
    }
    a.version = a.get_version();
    if (a.version / 10000 != CUDNN_MAJOR) {
        why = path + " reports cuDNN " + version_text(a.version) + ", this build needs " +
              std::to_string(CUDNN_MAJOR) + ".x";
        return false;
    }
    // cudnn-frontend refuses fp16/bf16 SDPA forward on these two releases (known bugs).
    if (a.version == 91000 || a.version == 91001) {
        why = "cuDNN " + version_text(a.version) +
              " has known SDPA forward bugs (fixed in 9.10.2); not used";
        return false;
    }
    return true;
}

/// Loads cuDNN once per process; `why` is set (and api.handle null) when it cannot.
const DnnApi& dnn_api(std::string& why) {
    static DnnApi api;
    static std::string failure;
    static std::once_flag once;
    std::call_once(once, [] {
        std::string path;
        void* h = open_library(kCudnnSoname, ASSAY_CUDNN_FALLBACK_DIR, path, failure);
        if (h == nullptr) {
            return;
        }
        DnnApi a;
        std::string w;
        if (!bind(h, path, a, w)) {
            failure = w;
            dlclose(h);
            return;
        }
        api = a;
    });
    why = failure;
    return api;
}

const DnnApi& dnn() {
    std::string why;
    const DnnApi& api = dnn_api(why);
    if (api.handle == nullptr) {
        throw CudnnUnsupported("cuDNN unavailable: " + why);
    }
    return api;
}

void check(cudaError_t e, const char* what) {
    if (e != cudaSuccess) {
        throw std::runtime_error(std::string("cuDNN SDPA: ") + what + ": " + cudaGetErrorString(e) +
                                 " (" + cudaGetErrorName(e) + ")");
    }
}

/// "<what>: CUDNN_STATUS_NOT_SUPPORTED (<cuDNN's last error message>)".
std::string status_text(cudnnStatus_t s, const std::string& what) {
    const DnnApi& api = dnn();
    std::string text = what + ": " + api.error_string(s);
    char detail[512] = {};
    api.last_error(detail, sizeof detail);
    if (detail[0] != '\0') {
        std::string d(detail);
        std::replace(d.begin(), d.end(), '\n', ' ');
        text += " (" + d + ")";
    }
    return text;
}

void check_dnn(cudnnStatus_t s, const std::string& what) {
    if (s != CUDNN_STATUS_SUCCESS) {
        throw CudnnUnsupported("cuDNN SDPA: " + status_text(s, what));
    }
}

cudnnDataType_t data_type(CudnnType t) {
    switch (t) {
        case CudnnType::f32:
            return CUDNN_DATA_FLOAT;
        case CudnnType::bf16:
            return CUDNN_DATA_BFLOAT16;
        case CudnnType::f16:
            return CUDNN_DATA_HALF;
        case CudnnType::i32:
            return CUDNN_DATA_INT32;
        case CudnnType::boolean:
            return CUDNN_DATA_BOOLEAN;
    }
    return CUDNN_DATA_FLOAT;
}

cudnnPointwiseMode_t pointwise_mode(CudnnOpMode m) {
    switch (m) {
        case CudnnOpMode::mul:
            return CUDNN_POINTWISE_MUL;
        case CudnnOpMode::add:
            return CUDNN_POINTWISE_ADD;
        case CudnnOpMode::sub:
            return CUDNN_POINTWISE_SUB;
        case CudnnOpMode::div:
            return CUDNN_POINTWISE_DIV;
        case CudnnOpMode::exp:
            return CUDNN_POINTWISE_EXP;
        case CudnnOpMode::log:
            return CUDNN_POINTWISE_LOG;
        case CudnnOpMode::cmp_ge:
            return CUDNN_POINTWISE_CMP_GE;
        case CudnnOpMode::gen_index:
            return CUDNN_POINTWISE_GEN_INDEX;
        case CudnnOpMode::binary_select:
            return CUDNN_POINTWISE_BINARY_SELECT;
        default:
            break;
    }
    throw std::logic_error(std::string("not a pointwise mode: ") + cudnn_mode_name(m));
}

std::uint16_t to_bits(AttnDtype d, float x) {
    if (d == AttnDtype::bf16) {
        const __nv_bfloat16_raw raw = __nv_bfloat16(__float2bfloat16_rn(x));
        return raw.x;
    }
    const __half_raw raw = __half(__float2half_rn(x));
    return raw.x;
}

float from_bits(AttnDtype d, std::uint16_t bits) {
    if (d == AttnDtype::bf16) {
        __nv_bfloat16_raw raw;
        raw.x = bits;
        return __bfloat162float(__nv_bfloat16(raw));
    }
    __half_raw raw;
    raw.x = bits;
    return __half2float(__half(raw));
}

__global__ void fill_kernel(std::uint16_t* out, AttnDtype d, std::uint64_t seed, std::uint64_t n) {
    for (std::uint64_t i = blockIdx.x * std::uint64_t{blockDim.x} + threadIdx.x; i < n;
         i += std::uint64_t{gridDim.x} * blockDim.x) {
        out[i] = attn_input_bits(d, seed, i);
    }
}

std::string problem_text(const AttnProblem& p) {
    return std::string(attn_dtype_name(p.dtype)) + " B" + std::to_string(p.batch) + " H" +
           std::to_string(p.heads_q) + "/" + std::to_string(p.heads_kv) + " D" +
           std::to_string(p.head_dim) + " Sq" + std::to_string(p.seq_q) + " Skv" +
           std::to_string(p.seq_kv) + (p.causal ? " causal" : "");
}

}  // namespace

bool cudnn_loadable(std::string& why) {
    return dnn_api(why).handle != nullptr;
}

bool cudnn_loadable_from(const std::string& path, std::string& why) {
    std::string opened;
    void* h = open_library(path.c_str(), "", opened, why);
    if (h == nullptr) {
        return false;
    }
    DnnApi a;
    if (!bind(h, path, a, why)) {
        dlclose(h);
        return false;
    }
    why.clear();
    return true;  // stays loaded: a library that registers itself must not be unloaded under us
}

std::size_t cudnn_version() {
    std::string why;
    return dnn_api(why).version;
}

struct CudnnSdpa::Impl {
    AttnProblem p;
    int device = 0;
    std::string device_name;
    int cc = 0;
    void* q = nullptr;
    void* k = nullptr;
    void* v = nullptr;
    void* o = nullptr;
    void* workspace = nullptr;
    std::int64_t workspace_size = 0;
    void* flush = nullptr;
    std::size_t flush_bytes = 0;
    cudaStream_t stream{};
    cudaEvent_t start{}, stop{};
    cudnnHandle_t handle = nullptr;
    // Every backend descriptor, destroyed in reverse order of creation.
    std::vector<cudnnBackendDescriptor_t> descs;
    cudnnBackendDescriptor_t plan = nullptr;
    cudnnBackendDescriptor_t pack = nullptr;
    // Host values of the by-value scalars (the variant pack points at them).
    float scale_value = 0;
    float mask_value = 0;
    std::int32_t offset_value = 0;
    std::size_t op_count = 0;
    std::string engine_text;

    Impl() = default;
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    ~Impl() {
        cudaSetDevice(device);
        if (stream != nullptr) {
            cudaStreamSynchronize(stream);
        }
        std::string why;
        const DnnApi& api = dnn_api(why);
        if (api.handle != nullptr) {
            for (auto it = descs.rbegin(); it != descs.rend(); ++it) {
                api.destroy_desc(*it);
            }
            if (handle != nullptr) {
                api.destroy(handle);
            }
        }
        cudaFree(q);
        cudaFree(k);
        cudaFree(v);
        cudaFree(o);
        cudaFree(workspace);
        cudaFree(flush);
        if (start != nullptr)
            cudaEventDestroy(start);
        if (stop != nullptr)
            cudaEventDestroy(stop);
        if (stream != nullptr)
            cudaStreamDestroy(stream);
    }

    cudnnBackendDescriptor_t make(cudnnBackendDescriptorType_t type, const char* what) {
        cudnnBackendDescriptor_t d = nullptr;
        check_dnn(dnn().create_desc(type, &d),
                  std::string("cudnnBackendCreateDescriptor(") + what + ")");
        descs.push_back(d);
        return d;
    }

    void set(cudnnBackendDescriptor_t d, cudnnBackendAttributeName_t name,
             cudnnBackendAttributeType_t type, std::int64_t count, const void* value,
             const std::string& what) {
        check_dnn(dnn().set_attr(d, name, type, count, value),
                  "cudnnBackendSetAttribute(" + what + ")");
    }

    void set_desc(cudnnBackendDescriptor_t d, cudnnBackendAttributeName_t name,
                  cudnnBackendDescriptor_t value, const std::string& what) {
        set(d, name, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &value, what);
    }

    void finalize(cudnnBackendDescriptor_t d, const std::string& what) {
        check_dnn(dnn().finalize(d), "cudnnBackendFinalize(" + what + ")");
    }

    cudnnBackendDescriptor_t tensor(const CudnnTensorSpec& t) {
        cudnnBackendDescriptor_t d = make(CUDNN_BACKEND_TENSOR_DESCRIPTOR, "tensor");
        const std::string what = "tensor " + t.name;
        const cudnnDataType_t dt = data_type(t.type);
        const std::int64_t alignment = 16;
        set(d, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &dt, what);
        set(d, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, 4, t.dims.data(), what);
        set(d, CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, 4, t.strides.data(), what);
        set(d, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &t.uid, what);
        set(d, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &alignment, what);
        const bool is_virtual = t.is_virtual;
        set(d, CUDNN_ATTR_TENSOR_IS_VIRTUAL, CUDNN_TYPE_BOOLEAN, 1, &is_virtual, what);
        if (t.by_value) {
            const bool by_value = true;
            set(d, CUDNN_ATTR_TENSOR_IS_BY_VALUE, CUDNN_TYPE_BOOLEAN, 1, &by_value, what);
        }
        finalize(d, what);
        return d;
    }

    /// Builds the tensors and operations of `g`; returns the operation descriptors.
    std::vector<cudnnBackendDescriptor_t> build_ops(const CudnnSdpaGraph& g) {
        std::vector<std::pair<std::int64_t, cudnnBackendDescriptor_t>> tensors;
        for (const CudnnTensorSpec& t : g.tensors) {
            tensors.emplace_back(t.uid, tensor(t));
        }
        const auto td = [&](std::int64_t uid) {
            for (const auto& [id, d] : tensors) {
                if (id == uid) {
                    return d;
                }
            }
            throw std::logic_error("SDPA graph: no tensor " + std::to_string(uid));
        };
        std::vector<cudnnBackendDescriptor_t> ops;
        for (const CudnnOpSpec& op : g.ops) {
            const cudnnDataType_t compute = data_type(op.compute);
            cudnnBackendDescriptor_t od = nullptr;
            switch (op.kind) {
                case CudnnOpKind::matmul: {
                    cudnnBackendDescriptor_t mm = make(CUDNN_BACKEND_MATMUL_DESCRIPTOR, "matmul");
                    set(mm, CUDNN_ATTR_MATMUL_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &compute,
                        op.name);
                    finalize(mm, op.name);
                    od = make(CUDNN_BACKEND_OPERATION_MATMUL_DESCRIPTOR, "matmul operation");
                    set_desc(od, CUDNN_ATTR_OPERATION_MATMUL_ADESC, td(op.x), op.name);
                    set_desc(od, CUDNN_ATTR_OPERATION_MATMUL_BDESC, td(op.b), op.name);
                    set_desc(od, CUDNN_ATTR_OPERATION_MATMUL_CDESC, td(op.y), op.name);
                    set_desc(od, CUDNN_ATTR_OPERATION_MATMUL_DESC, mm, op.name);
                    break;
                }
                case CudnnOpKind::pointwise: {
                    cudnnBackendDescriptor_t pw =
                        make(CUDNN_BACKEND_POINTWISE_DESCRIPTOR, "pointwise");
                    const cudnnPointwiseMode_t mode = pointwise_mode(op.mode);
                    set(pw, CUDNN_ATTR_POINTWISE_MODE, CUDNN_TYPE_POINTWISE_MODE, 1, &mode,
                        op.name);
                    set(pw, CUDNN_ATTR_POINTWISE_MATH_PREC, CUDNN_TYPE_DATA_TYPE, 1, &compute,
                        op.name);
                    if (op.axis >= 0) {
                        set(pw, CUDNN_ATTR_POINTWISE_AXIS, CUDNN_TYPE_INT64, 1, &op.axis, op.name);
                    }
                    finalize(pw, op.name);
                    od = make(CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR, "pointwise operation");
                    set_desc(od, CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, pw, op.name);
                    set_desc(od, CUDNN_ATTR_OPERATION_POINTWISE_XDESC, td(op.x), op.name);
                    if (op.b != 0) {
                        set_desc(od, CUDNN_ATTR_OPERATION_POINTWISE_BDESC, td(op.b), op.name);
                    }
                    if (op.t != 0) {
                        set_desc(od, CUDNN_ATTR_OPERATION_POINTWISE_TDESC, td(op.t), op.name);
                    }
                    set_desc(od, CUDNN_ATTR_OPERATION_POINTWISE_YDESC, td(op.y), op.name);
                    break;
                }
                case CudnnOpKind::reduction: {
                    cudnnBackendDescriptor_t rd =
                        make(CUDNN_BACKEND_REDUCTION_DESCRIPTOR, "reduction");
                    const cudnnReduceTensorOp_t red = op.mode == CudnnOpMode::reduce_max
                                                          ? CUDNN_REDUCE_TENSOR_MAX
                                                          : CUDNN_REDUCE_TENSOR_ADD;
                    set(rd, CUDNN_ATTR_REDUCTION_OPERATOR, CUDNN_TYPE_REDUCTION_OPERATOR_TYPE, 1,
                        &red, op.name);
                    set(rd, CUDNN_ATTR_REDUCTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &compute,
                        op.name);
                    finalize(rd, op.name);
                    od = make(CUDNN_BACKEND_OPERATION_REDUCTION_DESCRIPTOR, "reduction operation");
                    set_desc(od, CUDNN_ATTR_OPERATION_REDUCTION_XDESC, td(op.x), op.name);
                    set_desc(od, CUDNN_ATTR_OPERATION_REDUCTION_YDESC, td(op.y), op.name);
                    set_desc(od, CUDNN_ATTR_OPERATION_REDUCTION_DESC, rd, op.name);
                    break;
                }
            }
            finalize(od, op.name);
            ops.push_back(od);
        }
        return ops;
    }

    /// The engine configurations cuDNN's heuristics propose for `graph` in `mode`.
    std::vector<cudnnBackendDescriptor_t> heuristics(cudnnBackendDescriptor_t graph,
                                                     cudnnBackendHeurMode_t mode,
                                                     const std::string& mode_name) {
        const std::string what = "heuristics mode " + mode_name;
        cudnnBackendDescriptor_t heur = make(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR, what.c_str());
        set_desc(heur, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, graph, what);
        set(heur, CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &mode, what);
        finalize(heur, what);
        std::int64_t available = 0;
        check_dnn(dnn().get_attr(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR,
                                 0, &available, nullptr),
                  "cudnnBackendGetAttribute(" + what + " results count)");
        std::vector<cudnnBackendDescriptor_t> cfgs;
        for (std::int64_t i = 0; i < available; ++i) {
            cfgs.push_back(make(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, "engine config"));
        }
        std::int64_t returned = 0;
        if (available > 0) {
            check_dnn(
                dnn().get_attr(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR,
                               available, &returned, cfgs.data()),
                "cudnnBackendGetAttribute(" + what + " results)");
        }
        cfgs.resize(static_cast<std::size_t>(std::clamp<std::int64_t>(returned, 0, available)));
        return cfgs;
    }

    /// The engine's global index inside `cfg`, or -1 (for the implementation text only).
    std::int64_t engine_index(cudnnBackendDescriptor_t cfg) {
        cudnnBackendDescriptor_t engine = nullptr;
        if (dnn().create_desc(CUDNN_BACKEND_ENGINE_DESCRIPTOR, &engine) != CUDNN_STATUS_SUCCESS) {
            return -1;
        }
        descs.push_back(engine);
        std::int64_t n = 0;
        std::int64_t index = -1;
        if (dnn().get_attr(cfg, CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &n,
                           &engine) != CUDNN_STATUS_SUCCESS ||
            dnn().get_attr(engine, CUDNN_ATTR_ENGINE_GLOBAL_INDEX, CUDNN_TYPE_INT64, 1, &n,
                           &index) != CUDNN_STATUS_SUCCESS) {
            return -1;
        }
        return index;
    }

    /// Tries the configurations in order; true with `plan` set for the first that finalises.
    bool try_plans(const std::vector<cudnnBackendDescriptor_t>& cfgs, const std::string& mode_name,
                   std::string& last_error) {
        for (std::size_t i = 0; i < cfgs.size(); ++i) {
            cudnnBackendDescriptor_t candidate = nullptr;
            cudnnStatus_t s =
                dnn().create_desc(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR, &candidate);
            if (s != CUDNN_STATUS_SUCCESS) {
                last_error = status_text(s, "cudnnBackendCreateDescriptor(execution plan)");
                continue;
            }
            descs.push_back(candidate);
            // Deprecated in cuDNN 9 (the handle comes with execute) but required by older 9.x
            // releases: set it, and let finalisation report what is really missing.
            dnn().set_attr(candidate, CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1,
                           &handle);
            s = dnn().set_attr(candidate, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG,
                               CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &cfgs[i]);
            if (s == CUDNN_STATUS_SUCCESS) {
                s = dnn().finalize(candidate);
            }
            if (s != CUDNN_STATUS_SUCCESS) {
                last_error = status_text(s, "cudnnBackendFinalize(execution plan, " + mode_name +
                                                " candidate " + std::to_string(i + 1) + ")");
                continue;
            }
            plan = candidate;
            std::int64_t n = 0;
            check_dnn(dnn().get_attr(plan, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE,
                                     CUDNN_TYPE_INT64, 1, &n, &workspace_size),
                      "cudnnBackendGetAttribute(execution plan workspace size)");
            const std::int64_t engine = engine_index(cfgs[i]);
            engine_text = "engine " + (engine >= 0 ? std::to_string(engine) : "?") +
                          " (heuristics mode " + mode_name + ", candidate " +
                          std::to_string(i + 1) + " of " + std::to_string(cfgs.size()) + ")";
            return true;
        }
        return false;
    }
};

CudnnSdpa::CudnnSdpa(const AttnProblem& problem, int device) : impl_(std::make_unique<Impl>()) {
    Impl& m = *impl_;
    m.p = problem;
    m.device = device;
    const CudnnSdpaGraph graph = describe_cudnn_sdpa(problem);  // std::invalid_argument
    const DnnApi& api = dnn();                                  // CudnnUnsupported
    check(cudaSetDevice(device), "cudaSetDevice");
    cudaDeviceProp prop{};
    check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
    m.device_name = prop.name;
    m.cc = prop.major * 10 + prop.minor;
    if (m.cc < 80) {
        throw CudnnUnsupported(
            "cuDNN SDPA (fused flash attention) needs compute capability 8.0, "
            "device " +
            std::to_string(device) + " has " + std::to_string(prop.major) + "." +
            std::to_string(prop.minor));
    }
    check(cudaStreamCreateWithFlags(&m.stream, cudaStreamNonBlocking), "cudaStreamCreate");
    check(cudaEventCreate(&m.start), "cudaEventCreate");
    check(cudaEventCreate(&m.stop), "cudaEventCreate");
    const auto q_bytes = static_cast<std::size_t>(problem.q_elements()) * 2;
    const auto kv_bytes = static_cast<std::size_t>(problem.kv_elements()) * 2;
    check(cudaMalloc(&m.q, q_bytes), "cudaMalloc Q");
    check(cudaMalloc(&m.k, kv_bytes), "cudaMalloc K");
    check(cudaMalloc(&m.v, kv_bytes), "cudaMalloc V");
    check(cudaMalloc(&m.o, q_bytes), "cudaMalloc O");
    if (problem.decode) {
        // As the flash decode kernel: every sample starts with a cold L2 (a KV cache smaller than
        // L2 still reports memory bandwidth).
        m.flush_bytes = 2 * static_cast<std::size_t>(prop.l2CacheSize);
        if (m.flush_bytes != 0) {
            check(cudaMalloc(&m.flush, m.flush_bytes), "cudaMalloc L2 flush buffer");
        }
    }

    check_dnn(api.create(&m.handle), "cudnnCreate");
    check_dnn(api.set_stream(m.handle, m.stream), "cudnnSetStream");
    const std::vector<cudnnBackendDescriptor_t> ops = m.build_ops(graph);
    m.op_count = ops.size();
    cudnnBackendDescriptor_t op_graph =
        m.make(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR, "operation graph");
    m.set(op_graph, CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR,
          static_cast<std::int64_t>(ops.size()), ops.data(), "operation graph");
    // Deprecated in cuDNN 9, required by older 9.x releases (see the execution plan).
    api.set_attr(op_graph, CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, &m.handle);
    m.finalize(op_graph, "operation graph " + problem_text(problem));

    // Heuristics mode A first, then the fallback list; a mode that refuses the graph outright
    // (finalisation of the heuristics descriptor fails) counts as zero configurations.
    std::string last_error;
    const auto try_mode = [&](cudnnBackendHeurMode_t mode, const char* name, std::size_t& count) {
        try {
            const std::vector<cudnnBackendDescriptor_t> cfgs = m.heuristics(op_graph, mode, name);
            count = cfgs.size();
            return m.try_plans(cfgs, name, last_error);
        } catch (const CudnnUnsupported& e) {
            last_error = e.what();
            return false;
        }
    };
    std::size_t a_count = 0;
    std::size_t fallback_count = 0;
    const bool found = try_mode(CUDNN_HEUR_MODE_A, "A", a_count) ||
                       try_mode(CUDNN_HEUR_MODE_FALLBACK, "fallback", fallback_count);
    if (!found) {
        throw CudnnUnsupported("cuDNN " + version_text(api.version) + " has no engine for SDPA " +
                               problem_text(problem) + " on sm_" + std::to_string(m.cc) +
                               ": heuristics mode A gave " + std::to_string(a_count) +
                               " configurations, fallback " + std::to_string(fallback_count) +
                               (last_error.empty() ? "" : "; last: " + last_error));
    }
    if (m.workspace_size > 0) {
        check(cudaMalloc(&m.workspace, static_cast<std::size_t>(m.workspace_size)),
              "cudaMalloc cuDNN workspace");
    }

    // Variant pack: the device tensors and the by-value scalars (host pointers).
    std::vector<std::int64_t> uids;
    std::vector<void*> ptrs;
    for (const CudnnTensorSpec& t : graph.tensors) {
        if (t.is_virtual) {
            continue;
        }
        void* ptr = nullptr;
        switch (t.uid) {
            case kCudnnUidQ:
                ptr = m.q;
                break;
            case kCudnnUidK:
                ptr = m.k;
                break;
            case kCudnnUidV:
                ptr = m.v;
                break;
            case kCudnnUidO:
                ptr = m.o;
                break;
            case kCudnnUidScale:
                m.scale_value = static_cast<float>(t.value);
                ptr = &m.scale_value;
                break;
            case kCudnnUidMaskValue:
                m.mask_value = static_cast<float>(t.value);
                ptr = &m.mask_value;
                break;
            case kCudnnUidDiagonalOffset:
                m.offset_value = static_cast<std::int32_t>(t.value);
                ptr = &m.offset_value;
                break;
            default:
                throw std::logic_error("SDPA graph: unexpected non-virtual tensor " + t.name);
        }
        uids.push_back(t.uid);
        ptrs.push_back(ptr);
    }
    m.pack = m.make(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR, "variant pack");
    m.set(m.pack, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64,
          static_cast<std::int64_t>(uids.size()), uids.data(), "variant pack");
    m.set(m.pack, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR,
          static_cast<std::int64_t>(ptrs.size()), ptrs.data(), "variant pack");
    m.set(m.pack, CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, &m.workspace,
          "variant pack");
    m.finalize(m.pack, "variant pack");
}

CudnnSdpa::~CudnnSdpa() = default;

void CudnnSdpa::fill_inputs(std::uint64_t seed) {
    Impl& m = *impl_;
    check(cudaSetDevice(m.device), "cudaSetDevice");
    const auto qn = static_cast<std::uint64_t>(m.p.q_elements());
    const auto kvn = static_cast<std::uint64_t>(m.p.kv_elements());
    constexpr int kThreads = 256;
    const auto blocks = [](std::uint64_t n) {
        return static_cast<unsigned>(std::min<std::uint64_t>((n + kThreads - 1) / kThreads, 4096));
    };
    fill_kernel<<<blocks(qn), kThreads, 0, m.stream>>>(static_cast<std::uint16_t*>(m.q), m.p.dtype,
                                                       seed, qn);
    fill_kernel<<<blocks(kvn), kThreads, 0, m.stream>>>(static_cast<std::uint16_t*>(m.k), m.p.dtype,
                                                        seed + 1, kvn);
    fill_kernel<<<blocks(kvn), kThreads, 0, m.stream>>>(static_cast<std::uint16_t*>(m.v), m.p.dtype,
                                                        seed + 2, kvn);
    check(cudaGetLastError(), "fill launch");
    // 0xFFFF is a NaN in bf16 and fp16: a row the plan never writes fails verification.
    check(cudaMemsetAsync(m.o, 0xFF, qn * 2, m.stream), "O = NaN");
    check(cudaStreamSynchronize(m.stream), "fill inputs");
}

double CudnnSdpa::run_seconds() {
    Impl& m = *impl_;
    check(cudaSetDevice(m.device), "cudaSetDevice");
    if (m.flush != nullptr) {
        check(cudaMemsetAsync(m.flush, 0x5a, m.flush_bytes, m.stream), "L2 flush");
    }
    check(cudaEventRecord(m.start, m.stream), "cudaEventRecord");
    const cudnnStatus_t s = dnn().execute(m.handle, m.plan, m.pack);
    if (s != CUDNN_STATUS_SUCCESS) {
        // A finalised plan that fails to run is a failure, not "unsupported here".
        throw std::runtime_error("cuDNN SDPA: " + status_text(s, "cudnnBackendExecute"));
    }
    check(cudaEventRecord(m.stop, m.stream), "cudaEventRecord");
    check(cudaEventSynchronize(m.stop), "cuDNN SDPA");
    float ms = 0;
    check(cudaEventElapsedTime(&ms, m.start, m.stop), "cudaEventElapsedTime");
    return static_cast<double>(ms) * 1e-3;
}

std::vector<float> CudnnSdpa::output_row(std::int64_t b, std::int64_t h, std::int64_t i) {
    Impl& m = *impl_;
    check(cudaSetDevice(m.device), "cudaSetDevice");
    check(cudaStreamSynchronize(m.stream), "cuDNN SDPA");
    const std::int64_t d = m.p.head_dim;
    const std::int64_t at = ((b * m.p.heads_q + h) * m.p.seq_q + i) * d;
    std::vector<std::uint16_t> bits(static_cast<std::size_t>(d));
    check(cudaMemcpy(bits.data(), static_cast<const std::uint16_t*>(m.o) + at,
                     bits.size() * sizeof(std::uint16_t), cudaMemcpyDeviceToHost),
          "read O row");
    std::vector<float> out(bits.size());
    for (std::size_t j = 0; j < bits.size(); ++j) {
        out[j] = from_bits(m.p.dtype, bits[j]);
    }
    return out;
}

void CudnnSdpa::corrupt_output_for_test(std::int64_t b, std::int64_t h, std::int64_t i,
                                        std::int64_t d, float value) {
    Impl& m = *impl_;
    check(cudaSetDevice(m.device), "cudaSetDevice");
    check(cudaStreamSynchronize(m.stream), "cuDNN SDPA");
    const std::int64_t at = ((b * m.p.heads_q + h) * m.p.seq_q + i) * m.p.head_dim + d;
    const std::uint16_t bits = to_bits(m.p.dtype, value);
    check(cudaMemcpy(static_cast<std::uint16_t*>(m.o) + at, &bits, sizeof bits,
                     cudaMemcpyHostToDevice),
          "corrupt O");
}

std::uint64_t CudnnSdpa::workspace_bytes() const {
    return static_cast<std::uint64_t>(std::max<std::int64_t>(0, impl_->workspace_size));
}

std::string CudnnSdpa::implementation() const {
    const Impl& m = *impl_;
    std::string why;
    const DnnApi& api = dnn_api(why);
    return "cuDNN " + version_text(api.version) + " SDPA fprop graph (" +
           std::to_string(m.op_count) + " ops, " + attn_dtype_name(m.p.dtype) +
           " I/O, fp32 softmax/accumulation), " + m.engine_text + ", workspace " +
           std::to_string(workspace_bytes()) + " B" +
           (m.flush != nullptr ? ", L2 flushed before each sample" : "") + ", sm_" +
           std::to_string(m.cc) + " (" + m.device_name + "), " + api.path;
}

}  // namespace assay::cuda
