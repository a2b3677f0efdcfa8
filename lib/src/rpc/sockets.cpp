// Sockets with system calls: see sockets.hpp.
#include "sockets.hpp"

#include <cerrno>
#include <climits>
#include <cstring>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/un.h>
#include <unistd.h>
#include <utility>

namespace conveyor::rpc::detail {
namespace {

constexpr timespec no_wait{};

std::error_code last_error() noexcept {
    return {errno, std::system_category()};
}

// Waits for a non-blocking connect to finish; its result is the socket's SO_ERROR.
bool finish_connect(int fd, time_point deadline, std::error_code& ec) {
    pollfd p{fd, POLLOUT, 0};
    const int ready = poll_until(&p, 1, deadline);
    if (ready < 0) {
        ec = last_error();
        return false;
    }
    if (ready == 0) {
        ec = std::make_error_code(std::errc::timed_out);
        return false;
    }
    int error = 0;
    socklen_t size = sizeof error;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
    if (error != 0) ec = {error, std::system_category()};
    return error == 0;
}

bool connect_one(int fd, const sockaddr* to, socklen_t size, time_point deadline,
                 std::error_code& ec) {
    if (::connect(fd, to, size) == 0) return true;
    if (errno != EINPROGRESS) {
        ec = last_error();
        return false;
    }
    return finish_connect(fd, deadline, ec);
}

} // namespace

socket_fd& socket_fd::operator=(socket_fd&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

socket_fd::~socket_fd() {
    if (fd_ >= 0) ::close(fd_);
}

socket_fd connect_to(const std::string& host, std::uint16_t port, int type, time_point deadline,
                     std::error_code& ec, std::string& why) {
    ec.clear();
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = type;
    addrinfo* found = nullptr;
    const std::string service = std::to_string(port);
    if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
        ec = std::make_error_code(std::errc::host_unreachable);
        why = "cannot resolve host \"" + host + "\": " + ::gai_strerror(rc);
        return {};
    }
    socket_fd connected;
    for (const addrinfo* a = found; a; a = a->ai_next) {
        socket_fd fd(
            ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol));
        if (fd.get() < 0) {
            ec = last_error();
            continue;
        }
        ec.clear();
        if (connect_one(fd.get(), a->ai_addr, a->ai_addrlen, deadline, ec)) {
            connected = std::move(fd);
            break;
        }
    }
    ::freeaddrinfo(found);
    if (connected.get() < 0) {
        why = ec == std::errc::timed_out ? "no connection before the deadline"
                                         : "cannot connect: " + ec.message();
        return {};
    }
    if (type == SOCK_STREAM) {
        // Each call is one write: Nagle would hold a call back behind an unacknowledged one.
        const int on = 1;
        ::setsockopt(connected.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    }
    return connected;
}

socket_fd connect_unix(const std::string& path, time_point deadline, std::error_code& ec,
                       std::string& why) {
    ec.clear();
    sockaddr_un to{};
    to.sun_family = AF_UNIX;
    if (path.size() >= sizeof to.sun_path) {
        ec = std::make_error_code(std::errc::filename_too_long);
        why = path + ": the path is too long for a unix socket";
        return {};
    }
    std::memcpy(to.sun_path, path.c_str(), path.size() + 1);
    socket_fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (fd.get() < 0 ||
        !connect_one(fd.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to, deadline, ec)) {
        if (!ec) ec = last_error();
        why = path + ": cannot connect: " + ec.message();
        return {};
    }
    return fd;
}

int poll_until(pollfd* fds, nfds_t count, time_point deadline) noexcept {
    for (;;) {
        timespec wait{};
        const timespec* limit = nullptr;
        if (deadline != time_point::max()) {
            const auto left = std::max(deadline - clock::now(), clock::duration::zero());
            const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
            wait.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
            wait.tv_nsec = static_cast<long>(ns % 1'000'000'000);
            limit = &wait;
        }
        const int ready = ::ppoll(fds, count, limit, nullptr);
        if (ready >= 0 || errno != EINTR) return ready;
    }
}

int poll_busy_until(pollfd* fds, nfds_t count, std::chrono::microseconds busy,
                    time_point deadline) noexcept {
    if (busy.count() > 0) {
        const auto stop = std::min(deadline, clock::now() + busy);
        do {
            const int ready = ::ppoll(fds, count, &no_wait, nullptr);
            if (ready > 0 || (ready < 0 && errno != EINTR)) return ready;
        } while (clock::now() < stop);
    }
    return poll_until(fds, count, deadline);
}

wake_event::wake_event() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (fd_ < 0) throw std::system_error(last_error(), "eventfd");
}

wake_event::~wake_event() {
    ::close(fd_);
}

void wake_event::signal() noexcept {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(fd_, &one, sizeof one);
}

void wake_event::drain() noexcept {
    std::uint64_t count = 0;
    [[maybe_unused]] const auto n = ::read(fd_, &count, sizeof count);
}

} // namespace conveyor::rpc::detail
