// assay fleet: outlier hosts and devices among hosts of one class (newest run per host). Reads
// the store; never measures.
#include <map>
#include <optional>

#include <fmt/format.h>

#include "app/cli_common.hpp"
#include "app/commands.hpp"
#include "app/qualify_support.hpp"
#include "core/error.hpp"
#include "reports/fleet.hpp"
#include "store/store.hpp"

namespace assay::cli {

namespace {

constexpr const char* kFleetFooter = R"(Exit codes (categories, never counts):
  0  no outlier (or, below 5 hosts with --spec, every host passed or only warned)
  1  at least one outlier host/device (or, in the --spec fallback, a check FAILED)
  2  usage error (bad flag or regex; several host classes and no --class)
  3  bad input: DB missing, bad spec, unknown host/class (or the fallback spec had errors)
  4  internal error
Outlier: modified z 0.6745 (x - median) / MAD <= -3.5 and >= 3.5 % below the fleet median
(above, for lower-is-better metrics). Host class: see core/series.hpp and docs/qualify.md.)";

struct Opts {
    std::string db = "assay.db";
    std::string host_class;
    std::string class_of;
    std::string filter;
    std::string tag;
    std::string spec;
    std::string format = "md";
    std::string output;
};

}  // namespace

Action add_fleet_command(CLI::App& app) {
    auto o = std::make_shared<Opts>();
    auto* cmd = app.add_subcommand(
        "fleet",
        "Find outlier hosts and devices among hosts of one class (newest run per host), with a "
        "per-device drill-down and a per-host rollup");
    add_db_option(*cmd, o->db);
    auto* cls = cmd->add_option("--class", o->host_class,
                                "Host class (16 hex digits; default: the only class in the DB)");
    cmd->add_option("--host-class-of", o->class_of, "Use the class of this hostname")
        ->excludes(cls);
    cmd->add_option("--filter", o->filter,
                    "Regex searched in the series key (case@device:backend)");
    cmd->add_option("--tag", o->tag, "Only runs with this tag (newest tagged run per host)");
    cmd->add_option("--spec", o->spec,
                    "Spec TOML to qualify each host with when the fleet is too small (< 5 hosts)");
    cmd->add_option("--format", o->format, "md or json")->capture_default_str();
    cmd->add_option("-o,--output", o->output, "Write to FILE instead of stdout");
    cmd->footer(kFleetFooter);
    return [o]() -> int {
        const FleetFormat format = fleet_format_from_string(o->format);
        std::optional<QualifySpec> spec;
        if (!o->spec.empty()) {
            spec = load_qualify_spec(o->spec);
        }
        const Store store = Store::open(o->db, OpenMode::read_only);
        auto runs = newest_run_per_host(store, {}, o->tag);
        warn_unreadable_rows(store);
        if (runs.empty()) {
            throw InputError(fmt::format("no finished run in {}", o->db));
        }
        std::string wanted = o->host_class;
        if (!o->class_of.empty()) {
            for (const auto& r : runs) {
                if (r.data.run.hostname == o->class_of) {
                    wanted = r.host_class;
                }
            }
            if (wanted.empty()) {
                throw InputError(fmt::format("--host-class-of: no finished run of host '{}' in {}",
                                             o->class_of, o->db));
            }
        }
        std::map<std::string, std::size_t> per_class;
        for (const auto& r : runs) {
            ++per_class[r.host_class];
        }
        if (wanted.empty()) {
            if (per_class.size() > 1) {
                std::string list;
                for (const auto& [c, n] : per_class) {
                    list += fmt::format("{}{} ({} host(s))", list.empty() ? "" : ", ", c, n);
                }
                throw UsageError(
                    fmt::format("the DB holds hosts of {} classes: {}; choose one with --class or "
                                "--host-class-of",
                                per_class.size(), list));
            }
            wanted = per_class.begin()->first;
        } else if (per_class.count(wanted) == 0) {
            throw InputError(fmt::format("no host of class '{}' in {}", wanted, o->db));
        }
        std::vector<RunWithResults> fleet;
        for (auto& r : runs) {
            if (r.host_class == wanted) {
                fleet.push_back(std::move(r.data));
            }
        }
        FleetOptions options;
        options.filter_regex = o->filter;
        const FleetReport report = analyze_fleet(fleet, wanted, options, spec ? &*spec : nullptr);
        write_output(o->output, render_fleet(report, format));
        return fleet_exit_code(report);
    };
}

}  // namespace assay::cli
