#include "process.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace assay::test {
namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string scratch_dir() {
    const std::filesystem::path dir = std::filesystem::path(ASSAY_TEST_TMP) / "proc";
    std::filesystem::create_directories(dir);
    return dir.string();
}

}  // namespace

Process::Process(const std::vector<std::string>& args, const std::string& scratch_prefix,
                 const std::string& stdout_path) {
    own_stdout_ = stdout_path.empty();
    out_path_ = own_stdout_ ? scratch_prefix + ".out" : stdout_path;
    err_path_ = scratch_prefix + ".err";
    std::vector<std::string> full = {ASSAY_BINARY};
    full.insert(full.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : full)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out_path_.c_str(),
                                     own_stdout_ ? O_WRONLY | O_CREAT | O_TRUNC : O_WRONLY, 0644);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, err_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int rc = posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        throw std::runtime_error("posix_spawn failed for " + full[0]);
    }
}

ProcessResult Process::wait() {
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0) {
    }
    ProcessResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = own_stdout_ ? slurp(out_path_) : std::string();
    r.err = slurp(err_path_);
    return r;
}

ProcessResult run_assay(const std::vector<std::string>& args) {
    static std::atomic<int> counter{0};
    const std::string prefix =
        scratch_dir() + "/p" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    return Process(args, prefix).wait();
}

ProcessResult run_assay_stdout_to(const std::vector<std::string>& args,
                                  const std::string& stdout_path) {
    static std::atomic<int> counter{0};
    const std::string prefix =
        scratch_dir() + "/q" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    return Process(args, prefix, stdout_path).wait();
}

std::string scratch_path(const std::string& dir, const std::string& name) {
    const std::filesystem::path folder = std::filesystem::path(ASSAY_TEST_TMP) / dir;
    std::filesystem::create_directories(folder);
    const std::string p = (folder / (std::to_string(::getpid()) + "_" + name)).string();
    for (const char* suffix : {"", "-wal", "-shm"}) {
        std::filesystem::remove(p + suffix);
    }
    return p;
}

int line_count(const std::string& s) {
    int n = 0;
    std::istringstream in(s);
    for (std::string line; std::getline(in, line);) {
        if (!line.empty())
            ++n;
    }
    return n;
}

}  // namespace assay::test
