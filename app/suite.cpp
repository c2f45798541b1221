#include "app/suite.hpp"

#include <algorithm>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "core/error.hpp"

namespace assay::cli {

std::vector<BenchmarkDef> suite_selection(std::vector<BenchmarkDef> defs,
                                          const std::string& suite) {
    if (suite == "all") {
        return defs;
    }
    std::set<std::string> known;
    for (const auto& d : defs)
        known.insert(d.suites.begin(), d.suites.end());
    if (!known.count(suite)) {
        std::string names;
        for (const auto& k : known)
            names += (names.empty() ? "" : ", ") + k;
        throw UsageError(fmt::format("unknown suite '{}' (known: {}, all)", suite, names));
    }
    std::erase_if(defs, [&](const BenchmarkDef& d) {
        return std::find(d.suites.begin(), d.suites.end(), suite) == d.suites.end();
    });
    return defs;
}

namespace {

std::string param(const BenchmarkDef& d, const std::string& key) {
    const auto it = d.bench_case.params.find(key);
    return it == d.bench_case.params.end() ? std::string{} : it->second;
}

/// Would this def, once measured, provide the ceiling `name` on `device`? The GEMM ceiling of a
/// dtype is the best over every GEMM shape, so any selected GEMM of the dtype provides one
/// (`any_shape`); the one added when none is selected is the 2048³ square.
bool provides(const BenchmarkDef& d, const std::string& device, const std::string& name,
              const std::string& placement, bool any_shape) {
    if (d.device != device || !d.skip_reason.empty()) {
        return false;
    }
    const std::string& bench = d.bench_case.benchmark;
    if (name.rfind("gemm.", 0) == 0) {
        const bool placed = param(d, "placement").empty() || param(d, "placement") == placement;
        if (any_shape) {
            return bench.rfind("gemm.", 0) == 0 && "gemm." + param(d, "dtype") == name && placed;
        }
        return bench == "gemm.square" && "gemm." + param(d, "dtype") == name &&
               param(d, "m") == "2048" && param(d, "layout") != "nt" && placed;
    }
    if (name == "mem.bandwidth.dram.read.device") {
        return bench == "gpu.mem" && param(d, "op") == "read" && param(d, "size") == "dram";
    }
    return bench == "stream.sum" && param(d, "size") == "dram" &&
           param(d, "placement") == placement;
}

}  // namespace

std::vector<const BenchmarkDef*> ceiling_dependencies(
    const std::vector<BenchmarkDef>& catalog, const std::vector<const BenchmarkDef*>& selected,
    const std::vector<Ceiling>& known) {
    // The ceiling each selected def needs, as (device, name, placement).
    std::set<std::tuple<std::string, std::string, std::string>> needed;
    for (const BenchmarkDef* d : selected) {
        const std::string& bench = d->bench_case.benchmark;
        // Attention cases name their cores in a context metric "placement.<label>".
        std::string placement = param(*d, "placement");
        for (const Metric& m : d->context) {
            if (placement.empty() && m.name.rfind("placement.", 0) == 0) {
                placement = m.name.substr(10);
            }
        }
        if (placement.empty()) {
            placement = d->device.rfind("cuda", 0) == 0 ? "device" : "all_cores";
        }
        if (bench == "attention.prefill") {
            needed.insert({d->device, "gemm." + param(*d, "dtype"), placement});
        } else if (bench == "attention.decode") {
            needed.insert({d->device,
                           placement == "device" ? "mem.bandwidth.dram.read.device"
                                                 : "mem.bandwidth.dram.sum." + placement,
                           placement});
        }
    }
    const std::set<const BenchmarkDef*> chosen(selected.begin(), selected.end());
    std::vector<const BenchmarkDef*> out;
    for (const auto& [device, name, placement] : needed) {
        const bool stored = std::any_of(known.begin(), known.end(), [&](const Ceiling& c) {
            return c.device == device && c.name == name;
        });
        const bool measured_anyway = std::any_of(selected.begin(), selected.end(), [&](auto* d) {
            return provides(*d, device, name, placement, true);
        });
        if (stored || measured_anyway) {
            continue;
        }
        for (const BenchmarkDef& d : catalog) {
            if (provides(d, device, name, placement, false) && !chosen.count(&d) &&
                std::find(out.begin(), out.end(), &d) == out.end()) {
                out.push_back(&d);
            }
        }
    }
    return out;
}

}  // namespace assay::cli
