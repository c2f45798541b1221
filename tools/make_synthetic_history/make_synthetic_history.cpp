// make_synthetic_history: writes SYNTHETIC nightly history into an Assay store, through the
// Store API, for demos and benchmarks of `assay regress`. Every run it writes is tagged
// "synthetic" and its status note says what it is a copy of; never mix it into a real store.
//
//   make_synthetic_history perturb --from REAL.db --to OUT.db --nights N [--cv 0.01]
//       [--seed S] [--inject REGEX:PCT:LAST]
//     N perturbed copies of the newest real (complete) run of REAL.db, one per night going
//     back N nights from it (night-to-night noise is simulated, not taken from several real
//     runs: on a shared VM those differ by far more than a nightly host would): every result's
//     samples scaled by one factor (1 + cv * N(0,1)) per night and result, metrics rescaled
//     accordingly (throughputs divided, latencies/times multiplied, counts unchanged). --inject
//     makes cases matching REGEX PCT % slower (throughput -PCT %) in the last LAST nights.
//
//   make_synthetic_history scale --to OUT.db --nights N --series S [--cv 0.01] [--seed S]
//     A purely synthetic host with S cases measured every night for N nights (gflop_per_s
//     .best/.median metrics), for timing history queries at scale.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/host_info.hpp"
#include "core/pattern.hpp"
#include "core/sha256.hpp"
#include "core/stats.hpp"
#include "store/store.hpp"

using namespace assay;

namespace {

struct Args {
    std::string mode, from, to;
    int nights = 0;
    int series = 0;
    double cv = 0.01;
    std::uint64_t seed = 42;
    std::string inject_regex;
    double inject_pct = 0;
    int inject_last = 0;
};

[[noreturn]] void usage(const std::string& why) {
    throw UsageError(fmt::format(
        "{}\nusage: make_synthetic_history perturb --from REAL.db --to OUT.db --nights N "
        "[--cv CV] [--seed S] [--inject REGEX:PCT:LAST]\n"
        "       make_synthetic_history scale --to OUT.db --nights N --series S [--cv CV] "
        "[--seed S]",
        why));
}

Args parse(int argc, char** argv) {
    Args a;
    if (argc < 2) {
        usage("missing mode");
    }
    a.mode = argv[1];
    for (int i = 2; i < argc; ++i) {
        const std::string k = argv[i];
        if (i + 1 >= argc) {
            usage("missing value for " + k);
        }
        const std::string v = argv[++i];
        if (k == "--from") {
            a.from = v;
        } else if (k == "--to") {
            a.to = v;
        } else if (k == "--nights") {
            a.nights = std::stoi(v);
        } else if (k == "--series") {
            a.series = std::stoi(v);
        } else if (k == "--cv") {
            a.cv = std::stod(v);
        } else if (k == "--seed") {
            a.seed = std::stoull(v);
        } else if (k == "--inject") {
            const auto c1 = v.rfind(':');
            const auto c2 = v.rfind(':', c1 - 1);
            if (c1 == std::string::npos || c2 == std::string::npos) {
                usage("--inject expects REGEX:PCT:LAST");
            }
            a.inject_regex = v.substr(0, c2);
            a.inject_pct = std::stod(v.substr(c2 + 1, c1 - c2 - 1));
            a.inject_last = std::stoi(v.substr(c1 + 1));
        } else {
            usage("unknown option " + k);
        }
    }
    if (a.to.empty() || a.nights <= 0) {
        usage("--to and --nights are required");
    }
    return a;
}

/// "2026-11-24T20:56:10.178Z" minus `days`, same time of day.
std::string days_before(const std::string& iso, int days) {
    std::tm tm{};
    if (iso.size() < 19 || std::sscanf(iso.c_str(), "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon,
                                       &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) {
        throw InputError(fmt::format("cannot parse time '{}'", iso));
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    const std::time_t t = timegm(&tm) - static_cast<std::time_t>(days) * 86400;
    std::tm out{};
    gmtime_r(&t, &out);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &out);
    return std::string(buf) + (iso.size() > 19 ? iso.substr(19) : "Z");
}

/// A result measured `factor` times slower (samples scaled), metrics rescaled to match.
Result perturbed(const Result& src, double factor) {
    Result r = src;
    for (double& s : r.samples) {
        s *= factor;
    }
    r.stats = summarize(r.samples);
    for (auto& m : r.metrics) {
        if (m.direction == Direction::higher_is_better) {
            m.value /= factor;
        } else if (m.direction == Direction::lower_is_better) {
            m.value *= factor;
        }
    }
    return r;
}

int perturb(const Args& a) {
    if (a.from.empty()) {
        usage("perturb needs --from");
    }
    Store src = Store::open(a.from, OpenMode::read_only);
    std::vector<StoredRun> real;
    for (auto& r : src.list_runs()) {
        if (r.status == RunStatus::complete &&
            std::find(r.info.tags.begin(), r.info.tags.end(), "synthetic") == r.info.tags.end()) {
            real.push_back(std::move(r));
        }
    }
    if (real.empty()) {
        throw InputError(fmt::format("{}: no complete real runs to copy", a.from));
    }
    std::map<std::int64_t, HostInfo> host_of_config;
    for (const auto& h : src.hosts()) {
        host_of_config[h.hw_config_id] = host_info_from_json(h.probe_json);
    }
    std::optional<Pattern> inject;
    if (!a.inject_regex.empty()) {
        inject = Pattern::compile(a.inject_regex, "--inject");
    }
    Store dst = Store::open(a.to, OpenMode::create_read_write);
    std::mt19937_64 rng(a.seed);
    std::normal_distribution<double> normal(0, 1);
    const std::string newest = real.front().info.started_at;  // list_runs: newest first
    int injected = 0;
    for (int k = a.nights; k >= 1; --k) {
        const StoredRun& base = real.front();  // list_runs: newest first
        const std::int64_t config = dst.record_host(host_of_config.at(base.hw_config_id));
        RunInfo info = base.info;
        info.uuid = make_uuid_v4();
        info.started_at = days_before(newest, k);
        info.tags.push_back("synthetic");
        info.environment["synthetic_source_run"] = base.info.uuid;
        const std::int64_t run = dst.begin_run(config, info);
        const bool in_injection = inject && k <= a.inject_last;
        for (const auto& sr : src.results_for_run(base.id)) {
            double factor = std::max(0.5, 1 + a.cv * normal(rng));
            if (in_injection && inject->search(sr.result.bench_case.id())) {
                factor /= 1 - a.inject_pct / 100.0;  // throughput -PCT %
                ++injected;
            }
            dst.add_result(run, sr.result.status == ResultStatus::ok ? perturbed(sr.result, factor)
                                                                     : sr.result);
        }
        dst.finish_run(run, RunStatus::complete,
                       fmt::format("SYNTHETIC: perturbed copy (cv {}, seed {}) of run {} of {}{}",
                                   a.cv, a.seed, base.info.uuid, a.from,
                                   in_injection ? fmt::format(", injected -{} % on /{}/",
                                                              a.inject_pct, a.inject_regex)
                                                : ""));
    }
    std::cerr << fmt::format(
        "wrote {} synthetic nights into {} ({} results with the injected "
        "regression)\n",
        a.nights, a.to, injected);
    return 0;
}

int scale(const Args& a) {
    if (a.series <= 0) {
        usage("scale needs --series");
    }
    HostInfo host;
    host.identity.hostname = "synthetic-host";
    host.identity.machine_id = "synthetic";
    host.identity.product_name = "synthetic";
    host.cpu.arch = "x86_64";
    host.cpu.model_name = "SYNTHETIC CPU";
    host.topology.packages = 1;
    host.topology.cores = 2;
    host.fingerprint_keys = {"synthetic=1"};
    host.fingerprint = sha256_hex("synthetic=1\n");
    host.probed_at = "2026-01-01T00:00:00Z";
    Store dst = Store::open(a.to, OpenMode::create_read_write);
    const std::int64_t config = dst.record_host(host);
    std::mt19937_64 rng(a.seed);
    std::normal_distribution<double> normal(0, 1);
    const auto t0 = std::chrono::steady_clock::now();
    for (int k = a.nights; k >= 1; --k) {
        RunInfo info;
        info.uuid = make_uuid_v4();
        info.started_at = days_before("2027-01-01T02:00:00.000Z", k);
        info.tool_version = "0.1.0";
        info.compiler = "synthetic";
        info.build_type = "Release";
        info.suite = "synthetic";
        info.tags = {"synthetic", "nightly"};
        const std::int64_t run = dst.begin_run(config, info);
        for (int s = 0; s < a.series; ++s) {
            const double value = 100.0 * (1 + 0.001 * s) * (1 + a.cv * normal(rng));
            Result r;
            r.bench_case = {"synthetic.kernel", {{"i", fmt::format("{:05d}", s)}}};
            r.device = "cpu";
            r.backend = "synthetic";
            r.status = ResultStatus::ok;
            r.samples = {1.0 / value, 1.0 / value};
            r.stats = summarize(r.samples);
            r.verified = true;
            r.metrics = {{"gflop_per_s.best", value * 1.01, "GFLOP/s", Direction::higher_is_better},
                         {"gflop_per_s.median", value, "GFLOP/s", Direction::higher_is_better},
                         {"threads", 2, "threads", Direction::none}};
            dst.add_result(run, r);
        }
        dst.finish_run(run, RunStatus::complete, "SYNTHETIC: scale benchmark data");
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cerr << fmt::format("wrote {} nights x {} series into {} in {:.1f} s\n", a.nights,
                             a.series, a.to, secs);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const Args a = parse(argc, argv);
        if (a.mode == "perturb") {
            return perturb(a);
        }
        if (a.mode == "scale") {
            return scale(a);
        }
        usage("unknown mode " + a.mode);
    } catch (const UsageError& e) {
        std::cerr << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "make_synthetic_history: " << e.what() << "\n";
        return 3;
    }
}
