// Liveness from /proc/PID/stat: the state letter (a zombie has exited) and the start time
// (a reused pid has another).
#include "detail/process_liveness.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

namespace conveyor::detail {
namespace {

struct stat_fields {
    char state = '?';
    std::uint64_t start_time = 0;
};

bool read_stat(pid_t pid, stat_fields& out) noexcept {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    char buffer[1024];
    ssize_t n = ::read(fd, buffer, sizeof buffer - 1);
    ::close(fd);
    if (n <= 0) return false;
    buffer[n] = '\0';
    // The command name may hold spaces and ')': the fields start after the last ')'.
    const char* p = std::strrchr(buffer, ')');
    if (!p || p[1] != ' ') return false;
    out.state = p[2];
    // After ") S" come fields 4..: start time is field 22, i.e. 19 more spaces on.
    const char* q = p + 2;
    for (int field = 3; field < 22 && q; ++field) {
        q = std::strchr(q, ' ');
        if (q) ++q;
    }
    if (!q) return false;
    out.start_time = std::strtoull(q, nullptr, 10);
    return true;
}

} // namespace

process_identity self_identity() noexcept {
    process_identity me;
    me.pid = ::getpid();
    stat_fields fields;
    if (read_stat(me.pid, fields)) me.start_time = fields.start_time;
    return me;
}

namespace {

// The state and start time of pid when it runs (not a zombie), else false.
// The process's state is unknown: /proc/PID cannot be read.
constexpr char unreadable = '?';

bool running(pid_t pid, stat_fields& fields) noexcept {
    if (pid <= 0) return false;
    if (!read_stat(pid, fields)) {
        // A /proc mounted with hidepid hides other users' processes: kill(pid, 0) still
        // tells one that exists (EPERM) from one that is gone (ESRCH). Its start time cannot
        // be checked then, so a reused pid passes for the process it replaced.
        fields.state = unreadable;
        return ::kill(pid, 0) == 0 || errno == EPERM;
    }
    return fields.state != 'Z' && fields.state != 'X';
}

bool same_start(const stat_fields& fields, std::uint64_t start_time, std::uint64_t mask) noexcept {
    return fields.state == unreadable || (fields.start_time & mask) == (start_time & mask);
}

constexpr std::uint64_t low_half = 0xFFFF'FFFFu;

} // namespace

bool is_alive(const process_identity& process) noexcept {
    stat_fields fields;
    return running(process.pid, fields) &&
           same_start(fields, process.start_time, ~std::uint64_t(0));
}

std::uint64_t packed_identity(const process_identity& process) noexcept {
    return (process.start_time << 32) | (static_cast<std::uint32_t>(process.pid) & low_half);
}

namespace {

// This process's identity, read from /proc once. getpid() is a system call (glibc stopped
// caching it), and the process lock asks for the identity on every take: a forked child
// learns that it is someone else from the fork handler below instead.
struct cached_self {
    // relaxed: racing threads compute the same values; the pid, which says the entry is
    // filled, is stored last.
    std::atomic<pid_t> pid{0};
    std::atomic<std::uint64_t> start_time{0};
};
cached_self self_cache;

void forget_self_in_child() noexcept {
    self_cache.pid.store(0, std::memory_order_relaxed);
}

} // namespace

process_identity self_identity_cached() noexcept {
    const pid_t pid = self_cache.pid.load(std::memory_order_acquire);
    if (pid != 0) return {pid, self_cache.start_time.load(std::memory_order_relaxed)};
    // Registered before the first identity is cached, so that no fork after it keeps a stale
    // one. A child made by a raw clone() skips fork handlers: it must exec before using
    // conveyor (posix_spawn and vfork children do).
    [[maybe_unused]] static const int registered =
        ::pthread_atfork(nullptr, nullptr, forget_self_in_child);
    const auto me = self_identity();
    self_cache.start_time.store(me.start_time, std::memory_order_relaxed);
    self_cache.pid.store(me.pid, std::memory_order_release);
    return me;
}

std::uint64_t packed_self() noexcept {
    return packed_identity(self_identity_cached());
}

bool is_alive_packed(std::uint64_t word) noexcept {
    const auto pid = static_cast<pid_t>(static_cast<std::int32_t>(word & low_half));
    stat_fields fields;
    return running(pid, fields) && same_start(fields, word >> 32, low_half);
}

} // namespace conveyor::detail
