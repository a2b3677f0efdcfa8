// fork/exec with files for output: a child never blocks on a full pipe nobody reads.
#include "support/child_process.hpp"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <pthread.h>
#include <sstream>
#include <string_view>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace conveyor::test {
namespace {

std::string temporary_file(const char* what) {
    static std::atomic<int> counter{0};
    return "/tmp/conveyor-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) +
           "." + what;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Writes data to fd, a pipe, until all is written or the reader has gone (false, errno set).
// SIGPIPE is held back meanwhile, so that a child that died early fails its test rather than
// ending the whole test program; one this write raised is taken, not left pending.
bool write_all(int fd, std::string_view data) {
    sigset_t pipe_signal, old_mask;
    sigemptyset(&pipe_signal);
    sigaddset(&pipe_signal, SIGPIPE);
    ::pthread_sigmask(SIG_BLOCK, &pipe_signal, &old_mask);
    bool written = true;
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            written = false;
            break;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    const int saved = errno;
    if (!written && saved == EPIPE) {
        const timespec at_once{};
        ::sigtimedwait(&pipe_signal, nullptr, &at_once);
    }
    ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    errno = saved;
    return written;
}

} // namespace

child_process::child_process(const std::string& program, const std::vector<std::string>& args,
                             const std::string& stdin_data, const std::string& stdout_path)
    : command_(program), out_path_(temporary_file("out")), err_path_(temporary_file("err")) {
    const int input = start(program, args, stdout_path);
    // Feed standard input from a thread so a child that reads slowly cannot block us; a
    // child that exits without reading it all is the test's to judge, by its status (the
    // write fails, without SIGPIPE).
    std::thread([fd = input, data = stdin_data] {
        write_all(fd, data);
        ::close(fd);
    }).detach();
}

child_process::child_process(held_input_t, const std::string& program,
                             const std::vector<std::string>& args, const std::string& stdout_path)
    : command_(program), out_path_(temporary_file("out")), err_path_(temporary_file("err")) {
    input_ = start(program, args, stdout_path);
}

int child_process::start(const std::string& program, const std::vector<std::string>& args,
                         const std::string& stdout_path) {
    const std::string out_target = stdout_path.empty() ? out_path_ : stdout_path;
    int input[2]; // close-on-exec: no other child may hold the write end and keep it open
    if (::pipe2(input, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(program.c_str()));
    for (const auto& a : args) {
        argv.push_back(const_cast<char*>(a.c_str()));
        command_ += ' ' + a;
    }
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        ::dup2(input[0], 0);
        const int out = ::open(out_target.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        const int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ::dup2(out, 1);
        ::dup2(err, 2);
        ::execv(program.c_str(), argv.data());
        std::fprintf(stderr, "exec %s: %s\n", program.c_str(), std::strerror(errno));
        ::_exit(127);
    }
    ::close(input[0]);
    return input[1];
}

child_process::~child_process() {
    close_input();
    if (!reaped_ && pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status_, 0);
        check_for_sanitizer_report(); // it may have ended before the kill
    }
    std::remove(out_path_.c_str());
    std::remove(err_path_.c_str());
}

void child_process::write_input(std::string_view data) {
    BOOST_REQUIRE_MESSAGE(input_ >= 0, "standard input of child " << pid_ << " is not held");
    BOOST_REQUIRE_MESSAGE(write_all(input_, data), "writing to the standard input of child "
                                                       << pid_ << " (" << command_
                                                       << "): " << std::strerror(errno));
}

void child_process::close_input() {
    if (input_ >= 0) ::close(input_);
    input_ = -1;
}

void child_process::signal(int number) const {
    ::kill(pid_, number);
}

int child_process::wait(std::chrono::seconds timeout) {
    if (!reaped_) {
        const auto until = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            const pid_t r = ::waitpid(pid_, &status_, WNOHANG);
            if (r == pid_) break;
            if (std::chrono::steady_clock::now() > until) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, &status_, 0);
                reaped_ = true;
                BOOST_FAIL("child " << pid_ << " (" << command_ << ") did not finish in "
                                    << timeout.count() << " s; stderr: " << err());
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        reaped_ = true;
        check_for_sanitizer_report();
    }
    if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
    return WEXITSTATUS(status_);
}

bool child_process::has_ended() const {
    if (reaped_) return true;
    siginfo_t info{};
    // WNOWAIT: the exit stays to be collected by wait().
    return ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
           info.si_pid == pid_;
}

void child_process::check_for_sanitizer_report() const {
    BOOST_TEST(!(WIFEXITED(status_) && WEXITSTATUS(status_) == sanitizer_exit_code),
               "child " << pid_ << " (" << command_
                        << ") ended with a sanitizer's report; stderr: " << err());
}

std::string child_process::out() const {
    return read_file(out_path_);
}
std::string child_process::err() const {
    return read_file(err_path_);
}

std::uintmax_t child_process::out_size() const {
    std::error_code ec; // not there yet: nothing written
    const auto size = std::filesystem::file_size(out_path_, ec);
    return ec ? 0 : size;
}

run_result run(const std::string& program, const std::vector<std::string>& args,
               const std::string& stdin_data) {
    child_process child(program, args, stdin_data);
    const int status = child.wait();
    return {status, child.out(), child.err()};
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

bool eventually_moving(const std::function<bool()>& condition,
                       const std::function<std::uint64_t()>& progress,
                       std::chrono::milliseconds stall) {
    auto last = progress();
    auto until = std::chrono::steady_clock::now() + stall;
    while (!condition()) {
        const auto now = std::chrono::steady_clock::now();
        if (const auto p = progress(); p != last) {
            last = p;
            until = now + stall;
        } else if (now > until) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

bool eventually_reaches(const std::function<std::uint64_t()>& count, std::uint64_t target,
                        std::chrono::milliseconds stall) {
    return eventually_moving([&] { return count() >= target; }, count, stall);
}

} // namespace conveyor::test
