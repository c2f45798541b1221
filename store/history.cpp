#include "store/history.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include <fmt/format.h>

#include "core/case.hpp"
#include "core/error.hpp"
#include "store/sqlite.hpp"

namespace assay {

namespace {

/// The metric a result contributes: the most preferred candidate seen so far.
struct Pick {
    std::int64_t run_id = 0;
    std::int64_t case_id = 0;
    std::string device;
    std::string backend;
    std::size_t rank = 0;  ///< index into the filter's metrics; metrics.size() = time fallback
    double value = 0;
    std::string unit;
    Direction direction = Direction::none;
};

Direction direction_of_column(const std::string& s) {
    if (s == "higher")
        return Direction::higher_is_better;
    if (s == "lower")
        return Direction::lower_is_better;
    return Direction::none;
}

/// The run filter shared by the point queries: ?1 hostname, ?2 tag, ?3 since.
constexpr const char* kRunSelection =
    "SELECT r.id FROM run r JOIN hw_config hc ON hc.id = r.hw_config_id "
    "JOIN host h ON h.id = hc.host_id WHERE r.status != 'running' "
    "AND (?1 = '' OR h.hostname = ?1) AND (?3 = '' OR r.started_at >= ?3) "
    "AND (?2 = '' OR EXISTS (SELECT 1 FROM run_tag t WHERE t.run_id = r.id AND t.tag = ?2))";

}  // namespace

History load_history(Store& store, const HistoryFilter& filter) {
    History history;
    auto& db = store.database();

    // Runs and their classes.
    RunFilter rf;
    rf.hostname = filter.hostname;
    rf.tag = filter.tag;
    auto runs = store.list_runs(rf);
    std::erase_if(runs, [&](const StoredRun& r) {
        return r.status == RunStatus::running ||
               (!filter.since.empty() && r.info.started_at < filter.since);
    });
    std::sort(runs.begin(), runs.end(), [](const StoredRun& a, const StoredRun& b) {
        return a.info.started_at != b.info.started_at ? a.info.started_at < b.info.started_at
                                                      : a.id < b.id;
    });
    std::map<std::int64_t, std::string> host_class_by_config;
    for (const auto& h : store.hosts()) {
        std::string host_class;
        try {
            host_class = host_class_of(host_info_from_json(h.probe_json));
        } catch (const InputError&) {
            host_class = "fp:" + h.fingerprint.substr(0, 13);
        }
        host_class_by_config[h.hw_config_id] = host_class;
        history.probe_json[h.hw_config_id] = h.probe_json;
    }
    for (std::size_t i = 0; i < runs.size(); ++i) {
        HistoryRun hr;
        hr.host_class = host_class_by_config.count(runs[i].hw_config_id)
                            ? host_class_by_config[runs[i].hw_config_id]
                            : "unknown";
        hr.build_class = build_class_of(runs[i].info);
        hr.order = i;
        hr.run = std::move(runs[i]);
        const std::int64_t id = hr.run.id;
        history.runs.emplace(id, std::move(hr));
    }

    // Cases by id (few), so the big queries below carry integers, not text.
    std::unordered_map<std::int64_t, std::string> case_ids;
    {
        sqlite::Statement st(db, "SELECT id, benchmark, params FROM \"case\"", "reading cases");
        while (st.step()) {
            try {
                Case c{st.get_text(1), Case::parse_params(st.get_text(2))};
                case_ids.emplace(st.get_int64(0), c.id());
            } catch (const Error& e) {
                // Its results are left out of every series (no case id below).
                store.note_unreadable(
                    fmt::format("case {}: {} (its results skipped)", st.get_int64(0), e.what()));
            }
        }
    }

    std::unordered_map<std::int64_t, Pick> picks;  // by result id
    if (!filter.metrics.empty()) {
        std::string placeholders;
        for (std::size_t i = 0; i < filter.metrics.size(); ++i) {
            placeholders += fmt::format("{}?{}", i == 0 ? "" : ", ", i + 4);
        }
        const std::string sql = fmt::format(
            "SELECT m.result_id, res.run_id, res.case_id, res.device, m.name, m.value, m.unit, "
            "m.direction, res.backend FROM metric m JOIN result res ON res.id = m.result_id "
            "WHERE m.name IN ({}) AND m.value IS NOT NULL AND res.status = 'ok' "
            "AND res.run_id IN ({})",
            placeholders, kRunSelection);
        sqlite::Statement st(db, sql, "reading metric history");
        st.bind(1, filter.hostname).bind(2, filter.tag).bind(3, filter.since);
        std::unordered_map<std::string, std::size_t> rank_of;
        for (std::size_t i = 0; i < filter.metrics.size(); ++i) {
            st.bind(static_cast<int>(i + 4), filter.metrics[i]);
            rank_of.emplace(filter.metrics[i], i);
        }
        while (st.step()) {
            const std::size_t rank = rank_of.at(st.get_text(4));
            const std::int64_t result_id = st.get_int64(0);
            auto [it, inserted] = picks.try_emplace(result_id);
            if (!inserted && it->second.rank <= rank) {
                continue;
            }
            it->second = {st.get_int64(1),
                          st.get_int64(2),
                          st.get_text(3),
                          st.get_text(8),
                          rank,
                          st.get_double(5),
                          st.get_text(6),
                          direction_of_column(st.get_text(7))};
        }
    }
    if (filter.fallback_to_time) {
        const std::string sql = fmt::format(
            "SELECT res.id, res.run_id, res.case_id, res.device, res.median, res.unit, res.backend "
            "FROM result res WHERE res.status = 'ok' AND res.median IS NOT NULL "
            "AND res.sample_count > 0 AND res.run_id IN ({})",
            kRunSelection);
        sqlite::Statement st(db, sql, "reading time history");
        st.bind(1, filter.hostname).bind(2, filter.tag).bind(3, filter.since);
        while (st.step()) {
            auto [it, inserted] = picks.try_emplace(st.get_int64(0));
            if (inserted) {
                it->second = {st.get_int64(1), st.get_int64(2),           st.get_text(3),
                              st.get_text(6),  filter.metrics.size(),     st.get_double(4),
                              st.get_text(5),  Direction::lower_is_better};
            }
        }
    }

    // Group into series (one per backend too). Result ids ascend with insertion, so the first
    // stored wins a tie.
    std::vector<std::pair<std::int64_t, const Pick*>> ordered;
    ordered.reserve(picks.size());
    for (const auto& [id, pick] : picks) {
        ordered.emplace_back(id, &pick);
    }
    std::sort(ordered.begin(), ordered.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::map<SeriesKey, std::size_t> index_of;
    for (const auto& [result_id, pick] : ordered) {
        const auto run = history.runs.find(pick->run_id);
        const auto case_id = case_ids.find(pick->case_id);
        if (run == history.runs.end() || case_id == case_ids.end() || !std::isfinite(pick->value)) {
            continue;
        }
        SeriesKey key{case_id->second,
                      pick->device,
                      pick->rank < filter.metrics.size() ? filter.metrics[pick->rank]
                                                         : std::string("time.median"),
                      run->second.host_class,
                      run->second.build_class,
                      pick->backend};
        auto [it, inserted] = index_of.try_emplace(std::move(key), history.series.size());
        if (inserted) {
            HistorySeries s;
            s.key = it->first;
            s.unit = pick->unit;
            s.direction = pick->direction;
            history.series.push_back(std::move(s));
        }
        history.series[it->second].points.push_back({pick->run_id, result_id, pick->value});
    }
    for (auto& s : history.series) {
        std::stable_sort(s.points.begin(), s.points.end(), [&](const auto& a, const auto& b) {
            return history.runs.at(a.run_id).order < history.runs.at(b.run_id).order;
        });
        // One point per run and series: the first stored.
        s.points.erase(
            std::unique(s.points.begin(), s.points.end(),
                        [](const auto& a, const auto& b) { return a.run_id == b.run_id; }),
            s.points.end());
    }
    std::sort(history.series.begin(), history.series.end(),
              [](const auto& a, const auto& b) { return a.key < b.key; });
    return history;
}

}  // namespace assay
