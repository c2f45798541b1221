// assay ingest: merge other hosts' Assay stores and Google Benchmark JSON files into this store.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "app/cli_common.hpp"
#include "app/commands.hpp"
#include "core/error.hpp"
#include "store/merge.hpp"
#include "store/store.hpp"

namespace assay::cli {

Action add_ingest_command(CLI::App& app) {
    struct Opts {
        std::string db = "assay.db";
        std::vector<std::string> files;
    };
    auto o = std::make_shared<Opts>();
    auto* cmd = app.add_subcommand(
        "ingest",
        "Merge Assay databases or Google Benchmark JSON files into the store (idempotent: runs "
        "already present are skipped)");
    add_db_option(*cmd, o->db);
    cmd->add_option("files", o->files, "Assay .db files or Google Benchmark JSON files")
        ->required();
    return [o]() -> int {
        Store store = Store::open(o->db, OpenMode::create_read_write);
        // Files are ingested one transaction each, in order: a bad file stops here with its
        // one-line error, and the files before it stay ingested.
        for (const auto& file : o->files) {
            const IngestSummary s = ingest_file(store, file);
            std::string extra;
            if (s.runs_updated > 0) {
                extra += fmt::format(", {} finished since an earlier ingest", s.runs_updated);
            }
            if (s.runs_running > 0) {
                extra +=
                    fmt::format(", {} still running: ingest again once finished", s.runs_running);
            }
            std::cout << fmt::format("{}: ingested {} run{} ({} already present{}){}\n", file,
                                     s.runs_added, s.runs_added == 1 ? "" : "s", s.runs_present,
                                     extra, s.kind == "gbench" ? " [Google Benchmark JSON]" : "");
            std::cout.flush();
        }
        return kOk;
    };
}

}  // namespace assay::cli
