// assay run: probe -> build the catalog from the probe -> measure -> store, one result at a time.
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <limits>
#include <optional>
#include <random>

#include <fmt/format.h>

#include "app/cli_common.hpp"
#include "app/commands.hpp"
#include "app/suite.hpp"
#include "assay_build_info.hpp"
#include "benches/catalog.hpp"
#include "collect/counters.hpp"
#include "collect/harness.hpp"
#include "core/ceiling.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/skips.hpp"
#include "probes/probe.hpp"
#include "store/store.hpp"

namespace assay::cli {
namespace {

struct RunOpts {
    std::string db = "assay.db";
    std::string filter;
    std::vector<std::string> tags;
    std::string suite = "full";
    std::string sampling;  // empty: quick for the quick suite, default otherwise
    double max_seconds = 0;
    std::size_t min_samples = 0;
    std::uint64_t max_working_set_bytes = 0;
    bool progress = false;
    bool no_progress = false;
    std::vector<std::string> counters;
    bool no_telemetry = false;
    bool quick = false;
    bool thorough = false;
    std::size_t repetitions = 1;
    bool interleave = false;
    std::optional<std::uint64_t> seed;
};

/// The sampling preset the options ask for: --sampling NAME, or its shorthands --quick and
/// --thorough (conflicting choices are a usage error); by default quick for the quick suite.
std::string sampling_preset(const RunOpts& o) {
    std::vector<std::string> chosen;
    if (!o.sampling.empty()) {
        chosen.push_back(o.sampling);
    }
    if (o.quick) {
        chosen.emplace_back("quick");
    }
    if (o.thorough) {
        chosen.emplace_back("thorough");
    }
    for (const std::string& c : chosen) {
        if (c != chosen.front()) {
            throw UsageError(fmt::format(
                "conflicting sampling presets '{}' and '{}' (use one of --sampling, --quick, "
                "--thorough)",
                chosen.front(), c));
        }
    }
    if (!chosen.empty()) {
        return chosen.front();
    }
    return o.suite == "quick" ? "quick" : "default";
}

SamplingPolicy sampling_policy(const RunOpts& o) {
    const std::string name = sampling_preset(o);
    SamplingPolicy p;
    if (name == "quick") {
        p = SamplingPolicy::quick();
    } else if (name == "thorough") {
        p = SamplingPolicy::thorough();
    } else if (name != "default") {
        throw UsageError(fmt::format("unknown --sampling '{}' (quick, default, thorough)", name));
    }
    if (o.max_seconds > 0) {
        p.max_seconds = o.max_seconds;
        p.min_seconds = std::min(p.min_seconds, o.max_seconds);
    }
    if (o.min_samples > 0) {
        p.min_samples = o.min_samples;
    }
    return p;
}

/// Provenance beyond the build: the conditions a result was measured under.
std::map<std::string, std::string> run_environment(const HostInfo& host) {
    const auto& os = host.os;
    std::map<std::string, std::string> env = {
        {"hwloc", host.topology.hwloc_version},
        {"kernel", os.kernel},
        {"os", os.os_release},
        {"cpu_governor", os.cpu_governor},
        {"thp_enabled", os.thp_enabled},
        {"thp_defrag", os.thp_defrag},
        {"smt_control", os.smt_control},
        {"virtualization", os.virtualization},
        {"container", os.container},
        {"hw_counters", fmt::format("{}: {}", os.hw_counters_usable ? "usable" : "unavailable",
                                    os.hw_counters_reason)},
        {"fmt", fmt::format("{}", FMT_VERSION)},
        {"papi", counters_library_version()},
        {"sqlite", Store::library_version()},
        {"cpu_base_mhz", host.cpu.base_mhz ? fmt::format("{:.0f}", *host.cpu.base_mhz) : "unknown"},
        {"cpu_max_mhz", host.cpu.max_mhz ? fmt::format("{:.0f}", *host.cpu.max_mhz) : "unknown"},
        {"cpu_frequency_source", host.cpu.frequency_source},
        {"cuda_build", build_info::cuda ? "yes" : "no"},
        {"gpus",
         host.gpu.gpus.empty() ? host.gpu.none_reason : fmt::format("{}", host.gpu.gpus.size())},
    };
    if (!host.gpu.driver_version.empty())
        env["cuda_driver"] = host.gpu.driver_version;
    if (!host.gpu.runtime_version.empty())
        env["cuda_runtime"] = host.gpu.runtime_version;
    if (os.perf_event_paranoid)
        env["perf_event_paranoid"] = std::to_string(*os.perf_event_paranoid);
    return env;
}

int run(const RunOpts& o, const std::string& command_line) {
    const SamplingPolicy policy = sampling_policy(o);
    // Open (and migrate) the store first: a bad --db fails before minutes of probing/measuring.
    Store store = Store::open(o.db, OpenMode::create_read_write);
    const bool show_progress = progress_enabled(o.progress, o.no_progress);
    auto progress = [&](const std::string& msg) {
        if (show_progress)
            std::cerr << msg << "\n" << std::flush;
    };

    progress("probing host...");
    const HostInfo host = probe_host({});
    CatalogOptions catalog_options;
    catalog_options.max_working_set_bytes = o.max_working_set_bytes;
    const auto catalog = build_catalog(host, catalog_options);
    const auto suite_defs = suite_selection(catalog, o.suite);
    const auto selected = select_benchmarks(suite_defs, o.filter);
    if (selected.empty()) {
        throw UsageError(
            fmt::format("no benchmark matches --filter '{}' in suite '{}' (see assay list)",
                        o.filter, o.suite));
    }

    store.mark_dead_runs_incomplete(host.identity.hostname);
    const std::int64_t hw_config_id = store.record_host(host);
    // Ceilings this host already has (from earlier runs); a selection judged against a ceiling
    // the host has never measured measures it first, in this run.
    std::vector<Ceiling> known_ceilings;
    for (const StoredCeiling& sc : store.latest_ceilings(hw_config_id)) {
        known_ceilings.push_back(sc.ceiling);
    }
    std::vector<BenchmarkDef> defs;
    for (const BenchmarkDef* d : ceiling_dependencies(catalog, selected, known_ceilings)) {
        progress(fmt::format("also measuring {} (a ceiling the selection is judged against)",
                             d->full_name()));
        defs.push_back(*d);
    }
    for (const BenchmarkDef* d : selected) {
        defs.push_back(*d);
    }
    RunInfo info;
    info.uuid = make_uuid_v4();
    info.started_at = utc_now_iso8601();
    info.tool_version = build_info::version;
    info.git_sha = build_info::git_sha;
    info.compiler = build_info::compiler;
    info.compiler_flags = build_info::cxx_flags;
    info.build_type = build_info::build_type;
    info.command_line = command_line;
    info.suite = o.suite;
    info.tags = o.tags;
    info.pid = static_cast<std::int64_t>(::getpid());
    info.environment = run_environment(host);
    info.environment["sampling"] = sampling_preset(o);
    info.environment["repetitions"] = std::to_string(o.repetitions);
    info.environment["interleave"] = o.interleave ? "yes" : "no";
    const std::uint64_t shuffle_seed = o.seed ? *o.seed : std::random_device{}();
    if (o.interleave) {
        info.environment["shuffle_seed"] = std::to_string(shuffle_seed);  // replay with --seed
    }
    const std::int64_t run_id = store.begin_run(hw_config_id, info);
    progress(fmt::format("run {} ({}) started: {} benchmark(s), results into {}", run_id, info.uuid,
                         defs.size(), o.db));

    install_interrupt_handlers();
    HarnessOptions ho;
    ho.policy = policy;
    ho.policy_is_explicit = o.max_seconds > 0 || o.min_samples > 0;
    ho.repetitions = o.repetitions;
    ho.interleave = o.interleave;
    ho.shuffle_seed = shuffle_seed;
    ho.filter_regex = "";  // `defs` is the selection (plus the ceilings it needs)
    ho.stop_requested = [] { return interrupt_signal() != 0; };
    if (show_progress) {
        ho.progress = progress;
    }
    ho.counters = o.counters;
    ho.microarchitecture = host.cpu.microarchitecture;
    ho.telemetry = !o.no_telemetry;
    ho.nominal_cpu_mhz = host.cpu.base_mhz;

    std::vector<Result> results;
    std::vector<std::int64_t> result_ids;
    HarnessSummary summary;
    try {
        summary = run_benchmarks(defs, ho, [&](const Result& r) {
            // One transaction per benchmark: kept if interrupted.
            result_ids.push_back(store.add_result(run_id, r));
            results.push_back(r);
        });
    } catch (const std::exception& e) {
        // Close the run before reporting the error, so it does not linger as "running".
        try {
            store.finish_run(run_id, RunStatus::incomplete,
                             fmt::format("stopped by an error: {}", e.what()));
        } catch (const std::exception&) {
            // The store itself is failing: the next `assay run` marks the dead run incomplete.
        }
        throw;
    }

    // What could and could not be counted or sampled is data: kept with the run.
    std::map<std::string, std::string> conditions;
    for (const auto& a : summary.counter_availability) {
        // Which path counted it (papi, perf_event, derived) is part of the record.
        conditions["counter." + a.event] = a.available ? "available via " + a.path : a.reason;
    }
    for (const auto& a : summary.telemetry_availability) {
        conditions["telemetry." + a.source] = a.available ? "available" : a.reason;
    }
    if (!conditions.empty()) {
        store.merge_run_environment(run_id, conditions);
    }
    // The host's measured ceilings (per-level bandwidth/latency, GEMM per dtype), from the
    // verified results of this run — an interrupted run keeps those of what completed.
    const std::vector<Ceiling> ceilings = derive_ceilings(results);
    if (!ceilings.empty()) {
        store.add_ceilings(run_id, ceilings, result_ids);
    }
    // Results judged against a ceiling (attention vs GEMM and DRAM bandwidth) get their
    // fraction of it: this run's ceiling when it measured one, else the host's latest stored.
    std::vector<Ceiling> reference = ceilings;
    for (const Ceiling& c : known_ceilings) {
        const bool measured_now = std::any_of(reference.begin(), reference.end(), [&](auto& x) {
            return x.device == c.device && x.name == c.name;
        });
        if (!measured_now) {
            reference.push_back(c);
        }
    }
    for (std::size_t i = 0; i < results.size(); ++i) {
        const auto fractions = ceiling_fraction_metrics(results[i], reference);
        if (!fractions.empty() && result_ids[i] > 0) {
            store.add_metrics(result_ids[i], fractions);
        }
    }

    const int sig = interrupt_signal();
    if (summary.interrupted || sig != 0) {
        store.finish_run(
            run_id, RunStatus::incomplete,
            fmt::format("interrupted by {} after {} of {} benchmark(s)",
                        sig == SIGTERM ? "SIGTERM" : "SIGINT", results.size(), summary.selected));
    } else {
        store.finish_run(run_id, RunStatus::complete);
    }

    std::string out =
        fmt::format("run {} stored in {}: {} ok, {} failed, {} skipped{}\n", run_id, o.db,
                    summary.ok, summary.failed, summary.skipped,
                    summary.interrupted ? " (interrupted: run marked incomplete)" : "");
    // Skips are grouped: one line per reason (a CPU-only host skips every GPU benchmark for the
    // same reason); every skipped result is still stored and listed by `assay report`.
    for (const SkipGroup& g : group_skipped(results)) {
        out += "  " + describe(g) + "\n";
    }
    for (const auto& r : results) {
        if (r.status == ResultStatus::skipped) {
            continue;
        }
        out += fmt::format("  {:<8} {}@{}:{}{}\n", to_string(r.status), r.bench_case.id(), r.device,
                           r.backend, r.message.empty() ? "" : "  (" + r.message + ")");
    }
    write_output("", out);
    if (summary.interrupted || sig != 0) {
        return sig == SIGTERM ? 143 : kInterrupted;
    }
    return summary.failed > 0 ? kBenchmarkFailed : kOk;
}

}  // namespace

Action add_run_command(CLI::App& app, int argc, char** argv) {
    auto o = std::make_shared<RunOpts>();
    auto* cmd = app.add_subcommand("run", "Probe, run the selected benchmarks, store every sample");
    add_db_option(*cmd, o->db);
    cmd->add_option("--filter", o->filter, "Regex on the full benchmark name (see assay list)");
    cmd->add_option("--tag", o->tags, "Tag the run (repeatable), e.g. --tag nightly");
    cmd->add_option("--suite", o->suite, "quick, full or all")->capture_default_str();
    cmd->add_option(
        "--sampling", o->sampling,
        "Stopping preset: quick, default or thorough (default: quick for --suite quick)");
    cmd->add_flag("--quick", o->quick, "CI-sized sampling (same as --sampling quick)");
    cmd->add_flag("--thorough", o->thorough, "Long, low-noise sampling (--sampling thorough)");
    cmd->add_option("--max-seconds", o->max_seconds,
                    "Cap the sampling time of each benchmark (overrides per-benchmark hints)")
        ->check(seconds());
    cmd->add_option("--min-samples", o->min_samples, "Minimum timed samples per benchmark")
        ->check(whole_number_in(1, 1'000'000));
    cmd->add_option(
           "--max-working-set", o->max_working_set_bytes,
           "Cap any benchmark's working set (e.g. 512MiB); default: 1/4 of available memory")
        ->transform(size_bytes());
    cmd->add_option("--repetitions", o->repetitions,
                    "Measure each benchmark N times (a fresh kernel each time); samples of all "
                    "repetitions form one result")
        ->check(whole_number_in(1, 1000));
    cmd->add_flag("--interleave", o->interleave,
                  "Visit the benchmarks in a new random order in every repetition round");
    cmd->add_option("--seed", o->seed, "Seed of the interleaving order (recorded with the run)")
        ->check(whole_number_in(0, std::numeric_limits<std::uint64_t>::max()));
    cmd->add_option("--counters", o->counters,
                    "Counters to record per result, comma-separated: PAPI presets, native names "
                    "(perf::TASK-CLOCK) or group:NAME (sw, ipc, flops, mem)")
        ->delimiter(',');
    cmd->add_flag("--no-telemetry", o->no_telemetry,
                  "Do not sample clocks, energy and GPU telemetry during benchmarks");
    cmd->add_flag("--progress", o->progress, "Progress on stderr even when it is not a terminal");
    cmd->add_flag("--no-progress", o->no_progress, "No progress lines");
    const std::string command_line = joined_command_line(argc, argv);
    return [o, command_line]() { return run(*o, command_line); };
}

}  // namespace assay::cli
