// assay qualify: judge stored runs against a spec (PASS/WARN/FAIL, JUnit), or derive a spec from
// healthy hosts. Reads the store; never measures.
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "app/cli_common.hpp"
#include "app/commands.hpp"
#include "app/qualify_support.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "reports/qualify.hpp"
#include "store/store.hpp"

namespace assay::cli {

namespace {

constexpr const char* kQualifyFooter = R"(Exit codes (categories, never counts):
  0  every check passed (SKIPPED optional checks included)
  1  at least one check FAILED, or a result failed verification (silent data corruption)
  2  usage error (bad flag), or no failure/error but at least one WARN
  3  error: bad spec (file:line in the message), a check matched no result, DB missing,
     unknown host/run
  4  internal error
A FAIL outranks an ERROR, which outranks a WARN. Verdicts use the one-sided confidence bound of
each measured median (lower bound; upper for lower-is-better metrics). See docs/qualify.md.)";

struct Opts {
    std::string db = "assay.db";
    std::string spec;
    std::string host;
    std::string tag;
    std::int64_t run_id = 0;
    std::string junit;
    std::string format = "table";
    std::string output;
    std::vector<std::string> derive_hosts;
    std::string derive_class;
    std::vector<std::int64_t> derive_runs;
    std::string name;
};

int derive(const Opts& o, const std::string& command_line) {
    const Store store = Store::open(o.db, OpenMode::read_only);
    std::vector<ClassedRun> chosen;
    if (!o.derive_runs.empty()) {
        for (const auto id : o.derive_runs) {
            chosen.push_back(load_run_by_id(store, id));
        }
    }
    for (const auto& h : o.derive_hosts) {
        auto runs = newest_run_per_host(store, h);
        if (runs.empty()) {
            throw InputError(
                fmt::format("--derive-from: no finished run of host '{}' in {}", h, o.db));
        }
        for (auto& r : runs) {
            chosen.push_back(std::move(r));
        }
    }
    if (!o.derive_class.empty()) {
        for (auto& r : newest_run_per_host(store)) {
            if (r.host_class == o.derive_class) {
                chosen.push_back(std::move(r));
            }
        }
        if (chosen.empty()) {
            throw InputError(fmt::format("--derive-from-class: no host of class '{}' in {}",
                                         o.derive_class, o.db));
        }
    }
    warn_unreadable_rows(store);
    std::set<std::string> classes;
    std::set<std::int64_t> seen;
    std::vector<RunWithResults> runs;
    for (auto& c : chosen) {
        classes.insert(c.host_class);
        if (seen.insert(c.data.run.id).second) {
            runs.push_back(std::move(c.data));
        }
    }
    if (classes.size() > 1) {
        std::string list;
        for (const auto& c : classes) {
            list += (list.empty() ? "" : ", ") + c;
        }
        throw UsageError(fmt::format(
            "--derive-from: the runs come from hosts of {} different classes ({}); a spec is "
            "derived from hosts of one class",
            classes.size(), list));
    }
    DeriveOptions d;
    d.name = !o.name.empty() ? o.name
                             : fmt::format("derived-{}", classes.empty() ? "" : *classes.begin());
    d.generated_at = utc_now_iso8601();
    d.command_line = command_line;
    write_output(o.output, derive_spec(runs, d));
    return kOk;
}

int qualify(const Opts& o) {
    // A bad spec is an input error (exit 3), reported before the store is even opened.
    const QualifySpec spec = load_qualify_spec(o.spec);
    const QualifyFormat format = qualify_format_from_string(o.format);
    const Store store = Store::open(o.db, OpenMode::read_only);
    std::vector<RunWithResults> targets;
    if (o.run_id > 0) {
        targets.push_back(load_run_by_id(store, o.run_id).data);
    } else {
        for (auto& r : newest_run_per_host(store, o.host, o.tag)) {
            targets.push_back(std::move(r.data));
        }
        if (targets.empty()) {
            throw InputError(o.host.empty()
                                 ? fmt::format("no finished run in {}", o.db)
                                 : fmt::format("no finished run of host '{}' in {}", o.host, o.db));
        }
    }
    warn_unreadable_rows(store);
    std::vector<QualifyReport> reports;
    std::vector<QualifyOutcome> all;  // every host's outcomes: the exit code is the worst
    for (const auto& t : targets) {
        reports.push_back(evaluate_spec(spec, t));
        all.insert(all.end(), reports.back().outcomes.begin(), reports.back().outcomes.end());
    }
    if (!o.junit.empty()) {
        write_output(o.junit, render_junit(reports));
    }
    write_output(o.output, render_qualify(reports, format));
    return qualify_exit_code(qualify_overall(all));
}

}  // namespace

Action add_qualify_command(CLI::App& app) {
    auto o = std::make_shared<Opts>();
    auto* cmd = app.add_subcommand(
        "qualify",
        "Judge stored runs against a spec (PASS/WARN/FAIL per check, JUnit XML), or derive a "
        "spec from healthy hosts (--derive-from)");
    add_db_option(*cmd, o->db);
    auto* spec = cmd->add_option("--spec", o->spec, "Spec TOML file to qualify against");
    auto* host = cmd->add_option("--host", o->host,
                                 "Only this hostname's newest finished run (default: the "
                                 "newest run of every host)");
    auto* run = cmd->add_option("--run", o->run_id, "Judge this run id")->check(run_id());
    auto* tag = cmd->add_option("--tag", o->tag, "Only runs with this tag (e.g. campaign:nightly)");
    host->excludes(run);
    tag->excludes(run);
    cmd->add_option("--junit", o->junit, "Also write JUnit XML to FILE")->needs(spec);
    cmd->add_option("--format", o->format, "table or md")->capture_default_str();
    cmd->add_option("-o,--output", o->output,
                    "Write the report (or the derived spec) to FILE instead of stdout");
    auto* dh = cmd->add_option("--derive-from", o->derive_hosts,
                               "Derive a spec from the newest run of these hosts (comma list or "
                               "repeated)")
                   ->delimiter(',');
    auto* dc = cmd->add_option("--derive-from-class", o->derive_class,
                               "Derive a spec from the newest run of every host of this host "
                               "class (see assay fleet)");
    auto* dr = cmd->add_option("--derive-runs", o->derive_runs,
                               "Derive a spec from these run ids (comma list or repeated), e.g. "
                               "several runs of one machine")
                   ->delimiter(',')
                   ->check(run_id());
    cmd->add_option("--name", o->name, "Name written into a derived spec");
    for (auto* d : {dh, dc, dr}) {
        d->excludes(spec);
        d->excludes(host);
        d->excludes(run);
    }
    cmd->footer(kQualifyFooter);
    return [o]() -> int {
        const bool deriving =
            !o->derive_hosts.empty() || !o->derive_class.empty() || !o->derive_runs.empty();
        if (!deriving && o->spec.empty()) {
            throw UsageError(
                "assay qualify: give --spec SPEC.toml, or --derive-from HOSTS / "
                "--derive-from-class C / --derive-runs N to write one");
        }
        if (deriving) {
            std::string line = "assay qualify";
            for (const auto& h : o->derive_hosts)
                line += " --derive-from " + h;
            if (!o->derive_class.empty())
                line += " --derive-from-class " + o->derive_class;
            for (const auto r : o->derive_runs)
                line += fmt::format(" --derive-runs {}", r);
            return derive(*o, line);
        }
        return qualify(*o);
    };
}

}  // namespace assay::cli
