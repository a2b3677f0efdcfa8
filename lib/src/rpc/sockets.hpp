// The client's sockets, with plain system calls: name resolution, a connect bounded by a
// deadline, waiting for readiness until a deadline, and an eventfd to cut a wait short.
#pragma once

#include "wire.hpp"

#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <system_error>

namespace conveyor::rpc::detail {

// A socket descriptor closed on destruction.
class socket_fd {
public:
    socket_fd() = default;
    explicit socket_fd(int fd) noexcept : fd_(fd) {}
    socket_fd(socket_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    socket_fd& operator=(socket_fd&& other) noexcept;
    ~socket_fd();
    int get() const noexcept { return fd_; }

private:
    int fd_ = -1;
};

// Resolves host and port for type (SOCK_STREAM, SOCK_DGRAM) and makes a non-blocking,
// close-on-exec socket connected to the first address that accepts before deadline.
socket_fd connect_to(const std::string& host, std::uint16_t port, int type, time_point deadline,
                     std::error_code& ec, std::string& why);
socket_fd connect_unix(const std::string& path, time_point deadline, std::error_code& ec,
                       std::string& why);

// ppoll until deadline (time_point::max(): no limit); returns what ppoll returns, 0 at the
// deadline, retrying on EINTR.
int poll_until(pollfd* fds, nfds_t count, time_point deadline) noexcept;
// poll_until, but looking without sleeping for the first busy of it (client_options::busy_poll).
int poll_busy_until(pollfd* fds, nfds_t count, std::chrono::microseconds busy,
                    time_point deadline) noexcept;

// An eventfd that wakes a poll: signal() from any thread, drain() after poll saw it.
class wake_event {
public:
    wake_event();
    ~wake_event();
    wake_event(const wake_event&) = delete;
    wake_event& operator=(const wake_event&) = delete;
    int fd() const noexcept { return fd_; }
    void signal() noexcept;
    void drain() noexcept;

private:
    int fd_ = -1;
};

} // namespace conveyor::rpc::detail
