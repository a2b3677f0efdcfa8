// Starting a child process with pipes in place of its standard input and output.
#include "conveyor/pipe/child.hpp"

#include "conveyor/error.hpp"
#include "pipe/writer.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>

extern char** environ;

namespace conveyor::pipe {
namespace {

std::error_code last_error() {
    return std::error_code(errno, std::system_category());
}

void close_if_open(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

} // namespace

std::vector<std::string> child::shell(const std::string& command) {
    return {"/bin/sh", "-c", command};
}

child::child(const std::vector<std::string>& argv, pipes connect, std::error_code& ec) {
    start(argv, connect, ec);
}

void child::start(const std::vector<std::string>& argv, pipes connect, std::error_code& ec) {
    ec.clear();
    if (argv.empty()) {
        ec = errc::invalid_argument;
        return;
    }
    int in[2] = {-1, -1}, out[2] = {-1, -1};
    // Close-on-exec everywhere: the child gets only the ends dup2'd onto 0 and 1.
    if ((connect.to_stdin && ::pipe2(in, O_CLOEXEC) != 0) ||
        (connect.from_stdout && ::pipe2(out, O_CLOEXEC) != 0)) {
        ec = last_error();
        for (int* fd : {&in[0], &in[1], &out[0], &out[1]})
            close_if_open(*fd);
        return;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (connect.to_stdin) posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
    if (connect.from_stdout) posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    // The child starts with no signal blocked and default actions, whatever this thread
    // blocks or handles (an app may take its signals on another thread).
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setsigdefault(&attributes, &all);
    // A process group of its own: the terminal's Ctrl-C reaches only the parent, which then
    // closes the pipe, and the child reads to the end of its input and finishes.
    posix_spawnattr_setpgroup(&attributes, 0);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                              POSIX_SPAWN_SETPGROUP);
    const int failed = ::posix_spawnp(&pid_, args[0], &actions, &attributes, args.data(), environ);
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    close_if_open(in[0]);
    close_if_open(out[1]);
    if (failed) {
        ec = std::error_code(failed, std::system_category());
        pid_ = -1;
        close_if_open(in[1]);
        close_if_open(out[0]);
        return;
    }
    stdin_ = in[1];
    stdout_ = out[0];
}

child::child(const std::vector<std::string>& argv, pipes connect) {
    std::error_code ec;
    start(argv, connect, ec);
    if (ec) throw_error(ec, "starting '" + (argv.empty() ? std::string() : argv.back()) + "'");
}

child::~child() {
    std::error_code ignored;
    wait(ignored);
}

int child::take_stdin() noexcept {
    return std::exchange(stdin_, -1);
}

int child::take_stdout() noexcept {
    return std::exchange(stdout_, -1);
}

int child::wait(std::error_code& ec) {
    ec.clear();
    close_if_open(stdin_); // a child reading its input to the end would wait for us
    close_if_open(stdout_);
    if (pid_ < 0) return status_;
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0) {
        if (errno != EINTR) {
            ec = last_error();
            return status_;
        }
    }
    pid_ = -1;
    status_ = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
    return status_;
}

int child::wait() {
    std::error_code ec;
    const int status = wait(ec);
    if (ec) throw_error(ec, "waiting for child process");
    return status;
}

std::unique_ptr<stream_sender> spawn_sender(const std::string& command, const endpoint& where,
                                            const stream_options& options, std::error_code& ec) {
    auto started = std::make_unique<child>(child::shell(command), child::pipes{}, ec);
    if (ec) return nullptr;
    auto writer = std::make_unique<detail::frame_writer>(
        started->take_stdin(), detail::frame_writer::settings{options.how, options.max_message},
        options.io);
    return std::make_unique<stream_sender>(std::move(writer), where, std::move(started),
                                           options.description);
}

} // namespace conveyor::pipe
