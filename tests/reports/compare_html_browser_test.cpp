// Browser test of the comparison page (CTest "compare_html_browser", label smoke): renders the
// fixture store's comparison through the real `assay report compare --format html -o ...`, loads
// it in headless Chromium, fails on any console message or script error, checks the rendered DOM
// has the charts and the tables with the model's row counts, and saves a screenshot as a test
// artifact (<build>/artifacts/compare.png). Exit 0 = pass, 1 = fail, 77 = skipped (no Chromium).
//
// Not a Catch2 suite: it needs CTest's SKIP_RETURN_CODE, and it is one sequential scenario.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "reports/compare/compare_html.hpp"
#include "reports/compare/compare_model.hpp"
#include "store/store.hpp"
#include "tests/reports/compare_fixture.hpp"
#include "tests/reports/xml_check.hpp"

namespace fs = std::filesystem;
using assay::test::count_of;

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
    std::cout << (ok ? "ok   " : "FAIL ") << what << "\n";
    if (!ok) {
        ++failures;
    }
}

std::string quoted(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') {
            out += "'\\''";
        } else {
            out += c;
        }
    }
    return out + "'";
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// Runs a shell command line; returns its exit status (128 + signal when killed).
int run(const std::string& command) {
    std::cout << "$ " << command << "\n" << std::flush;
    const int status = std::system(command.c_str());
    if (status == -1) {
        return 127;
    }
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;
}

/// The browser: $ASSAY_CHROMIUM, else the first of chromium / chromium-browser /
/// google-chrome on PATH. Empty when none.
std::string find_chromium() {
    if (const char* env = std::getenv("ASSAY_CHROMIUM"); env != nullptr && *env != '\0') {
        return fs::exists(env) ? std::string(env) : std::string();
    }
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
            const fs::path candidate = fs::path(dir) / name;
            if (::access(candidate.c_str(), X_OK) == 0) {
                return candidate.string();
            }
        }
    }
    return {};
}

/// The text of `<table id="id" ...> ... </table>`; empty when absent.
std::string table_text(const std::string& html, const std::string& id) {
    const std::size_t start = html.find("<table id=\"" + id + "\"");
    if (start == std::string::npos) {
        return {};
    }
    return html.substr(start, html.find("</table>", start) - start);
}

std::size_t body_rows(const std::string& dom, const std::string& id) {
    const std::string t = table_text(dom, id);
    const std::size_t n = count_of(t, "<tr");
    return n > 0 ? n - 1 : 0;  // minus the header row
}

}  // namespace

int main() {
    const std::string chromium = find_chromium();
    if (chromium.empty()) {
        std::cout << "SKIP: no Chromium found (set ASSAY_CHROMIUM or install Debian's chromium; "
                     "scripts/install-deps.sh does)\n";
        return 77;
    }
    const fs::path dir = fs::path(ASSAY_TEST_TMP) / "compare_html_browser";
    const fs::path artifacts = fs::path(ASSAY_ARTIFACT_DIR);
    fs::remove_all(dir);
    fs::create_directories(dir);
    fs::create_directories(artifacts);
    const fs::path db = dir / "fixture.db";
    const fs::path html_path = artifacts / "compare.html";
    const fs::path dom_path = dir / "dom.html";
    const fs::path log_path = dir / "chromium.log";
    const fs::path shot_path = artifacts / "compare.png";
    fs::remove(shot_path);

    assay::test::write_compare_fixture(db);
    assay::CompareModel model;
    {
        assay::Store store = assay::Store::open(db, assay::OpenMode::read_only);
        assay::CompareOptions o;
        o.bootstrap_resamples = 200;  // counts only: rows do not depend on the resamples
        model = assay::build_compare_model({{&store, db.string()}}, o);
    }

    // The page as users get it: through the CLI.
    const fs::path cli_err = dir / "cli.stderr";
    const int cli =
        run(quoted(ASSAY_BINARY) + " report compare --db " + quoted(db.string()) +
            " --format html -o " + quoted(html_path.string()) + " 2> " + quoted(cli_err.string()));
    const std::string cli_stderr = read_file(cli_err);
    std::cout << cli_stderr;
    check(cli == 0, "assay report compare --format html exits 0");
    if (cli != 0 || !fs::exists(html_path)) {
        return 1;
    }
    const std::string html = read_file(html_path);
    check(html.rfind("<!DOCTYPE html>", 0) == 0, "the CLI wrote an HTML5 page");

    const std::string profile = (dir / "profile").string();
    const std::string common = quoted(chromium) +
                               " --headless --no-sandbox --disable-gpu --no-first-run "
                               "--disable-extensions --disable-background-networking "
                               "--user-data-dir=" +
                               quoted(profile) + " --enable-logging=stderr --v=0 ";
    const std::string url = "file://" + fs::absolute(html_path).string();
    // Enough virtual time for the script to run before the DOM is dumped.
    const int dump =
        run("timeout 90 " + common + "--virtual-time-budget=5000 --dump-dom " + quoted(url) +
            " > " + quoted(dom_path.string()) + " 2> " + quoted(log_path.string()));
    check(dump == 0, "chromium --dump-dom exits 0");
    const int shot = run("timeout 90 " + common + "--hide-scrollbars --window-size=1400,3000 " +
                         "--screenshot=" + quoted(shot_path.string()) + " " + quoted(url) + " >> " +
                         quoted(log_path.string()) + " 2>&1");
    check(shot == 0, "chromium --screenshot exits 0");
    check(fs::exists(shot_path) && fs::file_size(shot_path) > 20000,
          "screenshot saved (non-trivial PNG): " + shot_path.string());

    // Console messages (console.log/error, uncaught exceptions) are logged as
    // "...:CONSOLE(<line>)] ..." on stderr; the page has none when it works.
    const std::string log = read_file(log_path);
    std::istringstream lines(log);
    std::string line;
    std::size_t console_lines = 0;
    while (std::getline(lines, line)) {
        if (line.find(":CONSOLE") != std::string::npos ||
            line.find("Uncaught") != std::string::npos) {
            std::cout << "console: " << line << "\n";
            ++console_lines;
        }
    }
    check(console_lines == 0, "no console messages or script errors");

    const std::string dom = read_file(dom_path);
    check(dom.find("data-script=\"ready\"") != std::string::npos,
          "the inline script ran to its end");
    check(count_of(dom, "<svg") >= 4 + model.rooflines.size(), "inline SVG charts in the DOM");
    check(count_of(dom, "chart chart-ratio") >= 1, "ratio bar chart(s) present");
    check(count_of(dom, "chart chart-roofline") == model.rooflines.size(),
          "one roofline per model roofline (" + std::to_string(model.rooflines.size()) + ")");
    for (const char* id : {"curve-bandwidth", "curve-latency", "gemm-efficiency-chart"}) {
        check(dom.find(std::string("id=\"") + id + "\"") != std::string::npos,
              std::string("chart #") + id + " present");
    }
    check(count_of(dom, "class=\"marker\"") >= 2, "cache-level markers on the curves");
    check(body_rows(dom, "rows-table") == model.rows.size(),
          "rows table has " + std::to_string(model.rows.size()) +
              " rows (DOM: " + std::to_string(body_rows(dom, "rows-table")) + ")");
    check(body_rows(dom, "family-table") == model.families.size(), "family table row count");
    check(body_rows(dom, "one-sided-table") == model.one_sided.size(), "one-sided table row count");
    check(body_rows(dom, "projection-table") == model.projections.size(),
          "projection table row count");
    check(dom.find("tabindex=\"0\"") != std::string::npos,
          "sortable headers were wired up by the script");

    std::cout << (failures == 0 ? "PASS" : "FAILED") << " (" << failures << " failure(s)); page "
              << html_path << ", screenshot " << shot_path << "\n";
    return failures == 0 ? 0 : 1;
}
