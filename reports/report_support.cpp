#include "reports/report_support.hpp"

#include <cmath>

namespace assay::report_support {

std::string param(const Result& r, const std::string& key) {
    const auto it = r.bench_case.params.find(key);
    return it == r.bench_case.params.end() ? std::string() : it->second;
}

std::optional<double> finite_metric(const Result& r, const std::string& name) {
    const Metric* m = r.find_metric(name);
    if (m == nullptr || !std::isfinite(m->value)) {
        return std::nullopt;
    }
    return m->value;
}

bool usable(const Result& r) {
    return r.status == ResultStatus::ok && r.verified;
}

}  // namespace assay::report_support
