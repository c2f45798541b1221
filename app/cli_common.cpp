#include "app/cli_common.hpp"

#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <limits>

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

/// errno's text after a failed stream operation; streams do not always leave one.
std::string last_error(int saved_errno) {
    return saved_errno != 0 ? std::strerror(saved_errno) : "write failed";
}

/// Digits only, no overflow.
bool parse_whole(const std::string& text, std::uint64_t& value) {
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
        return false;
    }
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

void write_output(const std::string& path, const std::string& text) {
    if (path.empty() || path == "-") {
        errno = 0;
        std::cout << text << std::flush;
        if (!std::cout) {
            throw InputError(fmt::format("cannot write to stdout: {}", last_error(errno)));
        }
        return;
    }
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) {
        throw InputError(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
    }
    errno = 0;
    out << text;
    out.close();  // flushes: a full device fails here
    if (!out) {
        throw InputError(fmt::format("cannot write '{}': {}", path, last_error(errno)));
    }
}

void check_stdout() {
    errno = 0;
    std::cout.flush();
    if (!std::cout) {
        const int saved = errno;
        std::cout.clear();  // nothing more is written; later flushes must not throw either
        throw InputError(fmt::format("cannot write to stdout: {}", last_error(saved)));
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

CLI::Validator number_in(double min, double max, bool open_min, bool open_max) {
    const std::string range =
        fmt::format("{}{}, {}{}", open_min ? '(' : '[', min, max, open_max ? ')' : ']');
    return CLI::Validator(
        [=](const std::string& text) -> std::string {
            double v = 0;
            const bool ok = CLI::detail::lexical_cast(text, v) && std::isfinite(v) &&
                            (v == 0 || std::isnormal(v)) && (open_min ? v > min : v >= min) &&
                            (open_max ? v < max : v <= max);
            return ok ? std::string()
                      : fmt::format("must be a number in {}, got '{}'", range, text);
        },
        "NUMBER in " + range);
}

CLI::Validator seconds() {
    return number_in(0, 86400, true, false);
}

CLI::Validator whole_number_in(std::uint64_t min, std::uint64_t max) {
    const std::string range = fmt::format("[{}, {}]", min, max);
    return CLI::Validator(
        [=](const std::string& text) -> std::string {
            std::uint64_t v = 0;
            const bool ok = parse_whole(text, v) && v >= min && v <= max;
            return ok ? std::string()
                      : fmt::format("must be a whole number in {}, got '{}'", range, text);
        },
        "INT in " + range);
}

CLI::Validator count() {
    return whole_number_in(1, 1'000'000'000);
}

CLI::Validator run_id() {
    return whole_number_in(1, static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
}

CLI::Validator size_bytes() {
    return CLI::Validator(
        [](std::string& text) -> std::string {
            static const CLI::AsSizeValue units(false);
            const std::string original = text;
            std::string converted = text;
            std::uint64_t bytes = 0;
            bool ok = !text.empty() && std::isdigit(static_cast<unsigned char>(text.front())) != 0;
            try {
                ok = ok && units(converted).empty() && parse_whole(converted, bytes) && bytes > 0;
            } catch (const CLI::Error&) {
                ok = false;
            }
            if (!ok) {
                return fmt::format("must be a size > 0 such as 4096, 512MiB or 2GiB, got '{}'",
                                   original);
            }
            text = converted;
            return {};
        },
        "SIZE");
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
