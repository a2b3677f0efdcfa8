// A client's udp socket, connected to the server so that only its datagrams come in and an
// ICMP "port unreachable" ends the calls at once. One call a datagram; the engine
// retransmits what is lost.
#include "sockets.hpp"
#include "wire.hpp"

#include "conveyor/rpc/error.hpp"

#include <cerrno>
#include <sys/socket.h>

namespace conveyor::rpc::detail {
namespace {

// The largest UDP payload over IPv4: a reply up to this size is read whole.
constexpr std::size_t max_datagram = 65'507;

class datagram_wire final : public wire {
public:
    datagram_wire(socket_fd fd, std::chrono::microseconds busy_poll)
        : fd_(std::move(fd)), buffer_(max_datagram + 1), busy_poll_(busy_poll) {}

    bool send(bytes_view message, time_point deadline, bool wait, std::error_code& ec) override {
        if (message.size() > max_datagram) {
            ec = make_error_code(errc::record_too_large);
            return false;
        }
        for (;;) {
            const auto n =
                ::send(fd_.get(), message.data(), message.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n >= 0) return true;
            if (errno == EINTR) continue;
            if (errno != EAGAIN) {
                ec = {errno, std::system_category()};
                return false;
            }
            if (!wait) return true; // dropped: the retransmission sends it again
            pollfd p{fd_.get(), POLLOUT, 0};
            if (poll_until(&p, 1, deadline) == 0) return false;
        }
    }

    bool receive(std::vector<std::byte>& message, time_point deadline,
                 std::error_code& ec) override {
        ec.clear();
        for (;;) {
            // Poll first: a reply is seldom there the moment its call went out, and a read
            // that finds nothing is a system call for nothing.
            pollfd fds[2] = {{fd_.get(), POLLIN, 0}, {wake_.fd(), POLLIN, 0}};
            const int ready = poll_busy_until(fds, 2, busy_poll_, deadline);
            if (ready == 0) return false;
            if (ready < 0) {
                ec = {errno, std::system_category()};
                return false;
            }
            if (fds[1].revents != 0) {
                wake_.drain();
                return false;
            }
            const auto n = ::recv(fd_.get(), buffer_.data(), buffer_.size(), MSG_DONTWAIT);
            if (n >= 0) {
                // One byte more than the largest datagram was asked for: a longer one would
                // have been cut, and is dropped.
                if (static_cast<std::size_t>(n) > max_datagram) continue;
                message.assign(buffer_.begin(), buffer_.begin() + n);
                return true;
            }
            if (errno != EAGAIN && errno != EINTR) {
                ec = {errno, std::system_category()};
                return false;
            }
        }
    }

    void wake() noexcept override { wake_.signal(); }
    bool lossy() const noexcept override { return true; }
    std::size_t max_message() const noexcept override { return max_datagram; }

private:
    socket_fd fd_;
    wake_event wake_;
    std::vector<std::byte> buffer_; // the reader's only
    const std::chrono::microseconds busy_poll_;
};

} // namespace

std::unique_ptr<wire> open_datagram_wire(const address& where, const client_options& options,
                                         std::error_code& ec, std::string& why) {
    auto fd = connect_to(where.host, where.port, SOCK_DGRAM, time_point::max(), ec, why);
    if (ec) return nullptr;
    return std::make_unique<datagram_wire>(std::move(fd), options.busy_poll);
}

} // namespace conveyor::rpc::detail
