// The bench's nats-server (see nats_server.hpp): started by fork and exec, told to die with
// the bench (PR_SET_PDEATHSIG), its port read from the file it writes.
#include "nats_server.hpp"

#include "stream_io.hpp"
#include "transport.hpp"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace conveyor::bench {
namespace {

// A server that has not written its ports file within this long did not start.
constexpr std::chrono::seconds start_timeout{10};
constexpr std::chrono::milliseconds start_poll{20};

class server {
public:
    server() : dir_(std::filesystem::temp_directory_path() / unique_name("conveyor-bench-nats-")) {
        std::filesystem::create_directories(dir_);
        const std::string store = (dir_ / "store").string();
        const std::string ports = dir_.string();
        const std::string log = (dir_ / "log").string();
        pid_ = ::fork();
        if (pid_ < 0) throw_errno("fork");
        if (pid_ == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGTERM); // the bench killed: the server goes too
            std::freopen(log.c_str(), "w", stderr);
            std::freopen("/dev/null", "w", stdout);
            const char* args[] = {"nats-server", "-js", "-sd", store.c_str(),      "-a",
                                  "127.0.0.1",   "-p",  "-1",  "--ports_file_dir", ports.c_str(),
                                  nullptr};
            ::execvp("nats-server", const_cast<char**>(args));
            ::execv("/usr/sbin/nats-server", const_cast<char**>(args)); // Debian puts it there
            ::_exit(127);
        }
        const auto ports_file = dir_ / ("nats-server_" + std::to_string(pid_) + ".ports");
        const auto give_up = std::chrono::steady_clock::now() + start_timeout;
        while (!read_url(ports_file)) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_ ||
                std::chrono::steady_clock::now() > give_up) {
                pid_ = -1;
                throw std::runtime_error("nats-server did not start (is it installed? "
                                         "scripts/setup installs it); see " +
                                         log);
            }
            std::this_thread::sleep_for(start_poll);
        }
    }
    ~server() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            ::waitpid(pid_, nullptr, 0);
        }
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    const std::string& url() const { return url_; }

private:
    // {"nats":["nats://127.0.0.1:PORT"]}: the first URL.
    bool read_url(const std::filesystem::path& file) {
        std::ifstream in(file);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const auto begin = text.find("nats://");
        if (begin == std::string::npos) return false;
        url_ = text.substr(begin, text.find('"', begin) - begin);
        return true;
    }

    std::filesystem::path dir_;
    pid_t pid_ = -1;
    std::string url_;
};

} // namespace

const std::string& bench_nats_url() {
    static const server instance;
    return instance.url();
}

void in_child(const std::string& what, const std::function<void()>& body) {
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) throw_errno("fork");
    if (pid == 0) {
        int status = 0;
        try {
            body();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "conveyor-bench: %s: %s\n", what.c_str(), e.what());
            status = 1;
        }
        ::_exit(status);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error(what + " failed");
}

nats_lane make_nats_lane(const std::string& prefix) {
    std::string name = unique_name(prefix);
    nats_lane lane{name, "bench." + name};
    for (char& c : lane.stream)
        if (c == '.') c = '_';
    return lane;
}

} // namespace conveyor::bench
