#pragma once
// Store -> report inputs shared by `assay qualify` and `assay fleet`: the newest run per host
// and each host's class. Header-only so the two subcommands need no extra build wiring.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/host_info.hpp"
#include "core/series.hpp"
#include "reports/run_report.hpp"
#include "store/store.hpp"

namespace assay::cli {

/// A run with its results and its host's class.
struct ClassedRun {
    RunWithResults data;
    std::string host_class;  ///< host_class_of() of the run's hw_config; "unknown" if unreadable
};

/// host_class_of() per hw_config id, from the stored probe JSON.
inline std::map<std::int64_t, std::string> host_classes(const Store& store) {
    std::map<std::int64_t, std::string> out;
    for (const auto& h : store.hosts()) {
        try {
            out[h.hw_config_id] = host_class_of(host_info_from_json(h.probe_json));
        } catch (const InputError&) {
            // A probe record this build cannot read is "unknown", never a guess.
            out[h.hw_config_id] = "unknown";
        }
    }
    return out;
}

inline RunWithResults load_run(const Store& store, const StoredRun& run) {
    RunWithResults rw;
    rw.run = run;
    rw.results = store.results_for_run(run.id);
    return rw;
}

/// The run `run_id`; InputError when the store has no such run.
inline ClassedRun load_run_by_id(const Store& store, std::int64_t run_id) {
    RunFilter f;
    f.run_id = run_id;
    const auto runs = store.list_runs(f);
    if (runs.empty()) {
        throw InputError(fmt::format("no run {} in {}", run_id, store.path().string()));
    }
    return {load_run(store, runs.front()), host_classes(store)[runs.front().hw_config_id]};
}

/// The newest finished run of every host (a complete run if the host has one, else its newest
/// incomplete run; runs still in progress are ignored), optionally only of `hostname` and only
/// runs carrying `tag`. Two hosts sharing a hostname are told apart as "name#host_id".
inline std::vector<ClassedRun> newest_run_per_host(const Store& store,
                                                   const std::string& hostname = {},
                                                   const std::string& tag = {}) {
    RunFilter f;
    f.hostname = hostname;
    f.tag = tag;
    const auto runs = store.list_runs(f);  // newest first
    std::map<std::int64_t, const StoredRun*> complete, any;
    std::map<std::string, std::set<std::int64_t>> ids_by_name;
    for (const auto& r : runs) {
        ids_by_name[r.hostname].insert(r.host_id);
        if (r.status == RunStatus::running) {
            continue;
        }
        any.emplace(r.host_id, &r);
        if (r.status == RunStatus::complete) {
            complete.emplace(r.host_id, &r);
        }
    }
    const auto classes = host_classes(store);
    std::vector<ClassedRun> out;
    for (const auto& [host_id, fallback] : any) {
        auto it = complete.find(host_id);
        const StoredRun* chosen = it != complete.end() ? it->second : fallback;
        ClassedRun cr{load_run(store, *chosen), "unknown"};
        if (auto c = classes.find(chosen->hw_config_id); c != classes.end()) {
            cr.host_class = c->second;
        }
        if (ids_by_name[chosen->hostname].size() > 1) {
            cr.data.run.hostname = fmt::format("{}#{}", chosen->hostname, host_id);
        }
        out.push_back(std::move(cr));
    }
    return out;
}

}  // namespace assay::cli
