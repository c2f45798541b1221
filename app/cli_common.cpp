#include "app/cli_common.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "core/error.hpp"
#include "store/store.hpp"

namespace assay::cli {
namespace {

volatile std::sig_atomic_t g_signal = 0;

extern "C" void on_interrupt(int sig) {
    g_signal = sig;
    std::signal(sig, SIG_DFL);  // a second Ctrl-C ends the process immediately
}

}  // namespace

void write_output(const std::string& path, const std::string& text) {
    if (path.empty() || path == "-") {
        std::cout << text << std::flush;
        return;
    }
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) {
        throw InputError(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
    }
    out << text;
    out.close();
    if (!out) {
        throw InputError(fmt::format("cannot write '{}': write failed", path));
    }
}

void install_interrupt_handlers() {
    std::signal(SIGINT, on_interrupt);
    std::signal(SIGTERM, on_interrupt);
}

int interrupt_signal() {
    return g_signal;
}

bool progress_enabled(bool force_on, bool force_off) {
    if (force_off)
        return false;
    if (force_on)
        return true;
    return ::isatty(STDERR_FILENO) == 1;
}

std::string joined_command_line(int argc, char** argv) {
    std::string out;
    for (int i = 0; i < argc; ++i) {
        std::string a = argv[i];
        const bool plain =
            !a.empty() && a.find_first_of(" \t\"'\\$`*?[]{}();&|<>") == std::string::npos;
        if (!out.empty())
            out += ' ';
        if (plain) {
            out += a;
        } else {
            out += '\'';
            for (char ch : a) {
                if (ch == '\'') {
                    out += "'\\''";
                } else {
                    out += ch;
                }
            }
            out += '\'';
        }
    }
    return out;
}

const CLI::Validator& positive_number() {
    static const CLI::Validator validator(
        [](const std::string& text) -> std::string {
            double value = 0;
            if (!CLI::detail::lexical_cast(text, value) || !(value > 0)) {
                return "must be a positive number, got '" + text + "'";
            }
            return {};
        },
        "POSITIVE");
    return validator;
}

CLI::Option* add_db_option(CLI::App& cmd, std::string& db) {
    return cmd.add_option("--db", db, "Result store (SQLite file)")->capture_default_str();
}

void warn_unreadable_rows(const Store& store) {
    const auto rows = store.unreadable_rows();
    if (rows.empty()) {
        return;
    }
    constexpr std::size_t kShown = 3;
    std::string line =
        fmt::format("assay: warning: '{}': skipped {} unreadable row{}: ", store.path().string(),
                    rows.size(), rows.size() == 1 ? "" : "s");
    for (std::size_t i = 0; i < rows.size() && i < kShown; ++i) {
        line += (i == 0 ? "" : "; ") + rows[i];
    }
    if (rows.size() > kShown) {
        line += fmt::format("; and {} more", rows.size() - kShown);
    }
    // Stored text may hold anything: keep the warning on one line.
    for (char& c : line) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            c = '?';
        }
    }
    std::cerr << line << '\n';
}

}  // namespace assay::cli
