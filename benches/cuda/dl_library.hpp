#pragma once
/// Private to benches/cuda: loading an optional NVIDIA library (cuBLASLt, cuDNN) at run time with
/// dlopen, so a CUDA-enabled binary still starts on hosts without it. C++17 (used from .cu files).
#include <dlfcn.h>

#include <cstring>
#include <string>

namespace assay::cuda {

/// dlopen(soname), then `fallback_dir`/soname (the toolkit's lib dir, when the soname is not on
/// the loader's path; skipped when empty). Returns the handle and sets `path` to what was opened;
/// returns null and sets `why` to "<soname> not found: <first dlerror>" when neither opens.
inline void* open_library(const char* soname, const char* fallback_dir, std::string& path,
                          std::string& why) {
    void* h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    const char* error = h == nullptr ? dlerror() : nullptr;
    const std::string first_error = error != nullptr ? error : "";
    path = soname;
    if (h == nullptr && std::strlen(fallback_dir) != 0) {
        path = std::string(fallback_dir) + "/" + soname;
        h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    }
    if (h == nullptr) {
        why = std::string(soname) + " not found: " + first_error;
    }
    return h;
}

/// Looks `name` up in `handle` into the function pointer `out`; sets `why` to "<lib> lacks
/// <name>" and returns false when the library has no such symbol.
template <typename F>
bool resolve_symbol(void* handle, const std::string& lib, const char* name, F& out,
                    std::string& why) {
    void* sym = dlsym(handle, name);
    if (sym == nullptr) {
        why = lib + " lacks " + name;
        return false;
    }
    static_assert(sizeof(F) == sizeof(void*), "function pointer size");
    std::memcpy(&out, &sym, sizeof out);  // POSIX guarantees data/function pointer equivalence
    return true;
}

}  // namespace assay::cuda
