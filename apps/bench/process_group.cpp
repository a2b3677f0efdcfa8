// Forking, starting together and hearing back from the processes of a run (see
// process_group.hpp).
#include "process_group.hpp"

#include "stream_io.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>
#include <fcntl.h>
#include <poll.h>
#include <string>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

namespace conveyor::bench {
namespace {

using clock = std::chrono::steady_clock;

void write_all(int fd, const void* data, std::size_t n) {
    const auto* p = static_cast<const char*>(data);
    while (n > 0) {
        const ssize_t k = ::write(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) throw_errno("write");
        p += k;
        n -= static_cast<std::size_t>(k);
    }
}

enum class read_outcome { whole, timed_out, ended };

// Reads exactly n bytes within the hang limit.
read_outcome read_all(int fd, void* data, std::size_t n) {
    auto* p = static_cast<char*>(data);
    const auto until = clock::now() + std::chrono::milliseconds(process_group::hang_ms);
    while (n > 0) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(until - clock::now()).count();
        pollfd ready{fd, POLLIN, 0};
        if (left <= 0 || ::poll(&ready, 1, static_cast<int>(left)) == 0)
            return read_outcome::timed_out;
        const ssize_t k = ::read(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return read_outcome::ended;
        p += k;
        n -= static_cast<std::size_t>(k);
    }
    return read_outcome::whole;
}

std::string why_not(read_outcome outcome) {
    return outcome == read_outcome::timed_out
               ? "no word from them in " + std::to_string(process_group::hang_ms / 1000) + " s"
               : "every one of them closed its end of the pipe";
}

// A child's state, without reaping it: "pid 12 running", "pid 12 exited 1", "pid 12 killed
// by signal 9".
std::string state_of(pid_t pid) {
    siginfo_t info{};
    const std::string who = "pid " + std::to_string(pid);
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0)
        return who + " unknown";
    if (info.si_pid == 0) return who + " running";
    if (info.si_code == CLD_EXITED) return who + " exited " + std::to_string(info.si_status);
    return who + " killed by signal " + std::to_string(info.si_status);
}

void make_pipe(int* fds) {
    if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno("pipe2");
}

} // namespace

void touch_memory() noexcept {
    if (::mlockall(MCL_CURRENT) == 0) ::munlockall();
}

std::int64_t monotonic_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch())
        .count();
}

process_group::process_group() {
    make_pipe(ready_);
    make_pipe(go_);
    make_pipe(reports_);
}

process_group::~process_group() {
    for (pid_t pid : pids_)
        ::kill(pid, SIGKILL); // only children not reaped yet: reap() forgets those it reaped
    reap();
    for (int* p : {ready_, go_, reports_})
        for (int i = 0; i < 2; ++i)
            if (p[i] >= 0) ::close(p[i]);
}

void process_group::spawn(const std::function<void()>& body) {
    std::fflush(nullptr); // or the child's exit would print the parent's buffered output
    const pid_t pid = ::fork();
    if (pid < 0) throw_errno("fork");
    if (pid > 0) {
        pids_.push_back(pid);
        return;
    }
    ::close(ready_[0]);
    ::close(go_[1]); // or the child would never see the start
    ::close(reports_[0]);
    int status = 0;
    try {
        body();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "conveyor-bench: %s\n", e.what());
        status = 1;
    }
    ::_exit(status); // no destructors: the parent removes the run's named objects
}

void process_group::started() {
    touch_memory();
    write_all(ready_[1], "r", 1);
    char c;
    while (::read(go_[0], &c, 1) < 0 && errno == EINTR) {
    }
}

bool process_group::wait_ready(std::size_t n) {
    std::vector<char> bytes(n);
    if (n == 0) return true;
    const auto outcome = read_all(ready_[0], bytes.data(), n);
    if (outcome != read_outcome::whole) describe_failure(why_not(outcome));
    return outcome == read_outcome::whole;
}

void process_group::describe_failure(const std::string& why) {
    failure_ = why;
    const char* separator = "; ";
    for (pid_t pid : pids_) {
        failure_ += separator + state_of(pid);
        separator = ", ";
    }
}

std::int64_t process_group::start() {
    // The parent's write ends go first, so that a read sees end of file once children die.
    ::close(ready_[1]);
    ready_[1] = -1;
    ::close(reports_[1]);
    reports_[1] = -1;
    const std::int64_t t0 = monotonic_ns();
    ::close(go_[1]);
    go_[1] = -1;
    return t0;
}

bool process_group::reap() {
    bool all_ok = true;
    for (pid_t pid : pids_) {
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        all_ok = all_ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    pids_.clear();
    return all_ok;
}

void process_group::write_report(const void* data, std::size_t n) {
    write_all(reports_[1], data, n);
}

bool process_group::read_report(void* data, std::size_t n) {
    const auto outcome = read_all(reports_[0], data, n);
    if (outcome != read_outcome::whole) describe_failure(why_not(outcome));
    return outcome == read_outcome::whole;
}

} // namespace conveyor::bench
