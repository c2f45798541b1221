#include "collect/pfm_encoder.hpp"

#include <fmt/format.h>
#include <perfmon/pfmlib_perf_event.h>

#include <cstring>

namespace assay {

namespace {

/// pfm_initialize() once per process (PAPI may have called it already: that is fine).
const std::string& pfm_init_error() {
    static const std::string error = [] {
        const int rc = pfm_initialize();
        return rc == PFM_SUCCESS ? std::string()
                                 : fmt::format("libpfm4 did not initialise: {}", pfm_strerror(rc));
    }();
    return error;
}

}  // namespace

std::optional<PfmEncoding> pfm_encode(const std::string& name, std::string& why) {
    why = pfm_init_error();
    if (!why.empty()) {
        return std::nullopt;
    }
    perf_event_attr attr;
    std::memset(&attr, 0, sizeof(attr));
    pfm_perf_encode_arg_t arg;
    std::memset(&arg, 0, sizeof(arg));
    arg.attr = &attr;
    arg.size = sizeof(arg);
    const int rc =
        pfm_get_os_event_encoding(name.c_str(), PFM_PLM0 | PFM_PLM3, PFM_OS_PERF_EVENT, &arg);
    if (rc != PFM_SUCCESS) {
        why = fmt::format("{} ({})", pfm_strerror(rc),
                          rc == PFM_ERR_NOTFOUND
                              ? "not in its tables for the PMUs it detects on this CPU"
                              : "encoding refused");
        return std::nullopt;
    }
    PfmEncoding out;
    out.type = attr.type;
    out.config = attr.config;
    out.config1 = attr.config1;
    out.config2 = attr.config2;
    pfm_event_info_t info;
    std::memset(&info, 0, sizeof(info));
    info.size = sizeof(info);
    pfm_pmu_info_t pmu;
    std::memset(&pmu, 0, sizeof(pmu));
    pmu.size = sizeof(pmu);
    if (pfm_get_event_info(arg.idx, PFM_OS_NONE, &info) == PFM_SUCCESS &&
        pfm_get_pmu_info(info.pmu, &pmu) == PFM_SUCCESS && pmu.name != nullptr) {
        out.pmu = pmu.name;
    }
    return out;
}

}  // namespace assay
