// A client's byte-stream connection (tcp, or a unix socket): calls go out as records
// (record_marking.hpp) through one output buffer, replies come in through a record reader.
#include "record_marking.hpp"
#include "sockets.hpp"
#include "wire.hpp"

#include "conveyor/rpc/error.hpp"

#include <cerrno>
#include <mutex>
#include <sys/socket.h>

namespace conveyor::rpc::detail {
namespace {

class stream_wire final : public wire {
public:
    // Records queued but not yet taken by the socket, as a multiple of the largest record.
    static constexpr std::size_t backlog_records = 4;

    stream_wire(socket_fd fd, std::size_t max_record, std::chrono::microseconds busy_poll)
        : fd_(std::move(fd)), reader_(max_record), max_record_(max_record),
          max_backlog_(backlog_records * max_record), busy_poll_(busy_poll) {}

    std::size_t max_message() const noexcept override { return max_record_; }

    bool send(bytes_view message, time_point deadline, bool wait, std::error_code& ec) override {
        std::unique_lock lock(out_mutex_);
        if (failed_) {
            ec = failed_;
            return false;
        }
        // A server that stops reading must not make the output grow without bound: beyond
        // the backlog, a call waits for room until its deadline, or fails at once.
        while (queued_ - written_ > max_backlog_) {
            if (!wait) {
                ec = std::make_error_code(std::errc::no_buffer_space);
                return false;
            }
            lock.unlock();
            pollfd p{fd_.get(), POLLOUT, 0};
            const int ready = poll_until(&p, 1, deadline);
            lock.lock();
            if (ready == 0) return false;
            write_some(ec);
            if (ec) return false;
        }
        append_record(out_, message);
        const std::uint64_t end = queued_ += record_mark_size + message.size();
        if (corked_ && !wait) return true;
        write_some(ec);
        while (!ec && wait && written_ < end) {
            // A record partly written cannot be taken back: it goes out later, and its
            // reply, if any, finds no call waiting.
            lock.unlock();
            pollfd p{fd_.get(), POLLOUT, 0};
            const int ready = poll_until(&p, 1, deadline);
            lock.lock();
            if (ready == 0) return false;
            write_some(ec);
        }
        return !ec;
    }

    void cork() noexcept override {
        const std::lock_guard lock(out_mutex_);
        corked_ = true;
    }

    void flush(std::error_code& ec) override {
        const std::lock_guard lock(out_mutex_);
        corked_ = false;
        write_some(ec);
    }

    bool receive(std::vector<std::byte>& message, time_point deadline,
                 std::error_code& ec) override {
        ec.clear();
        for (;;) {
            bytes_view record;
            if (reader_.next(record, ec)) {
                message.assign(record.begin(), record.end());
                return true;
            }
            if (ec) return false;
            pollfd fds[2] = {{fd_.get(), POLLIN, 0}, {wake_.fd(), POLLIN, 0}};
            if (has_output()) fds[0].events |= POLLOUT;
            const int ready = poll_busy_until(fds, 2, busy_poll_, deadline);
            if (ready < 0) {
                ec = {errno, std::system_category()};
                return false;
            }
            if (ready == 0) return false;
            if (fds[1].revents != 0) {
                wake_.drain();
                return false;
            }
            if (fds[0].revents & POLLOUT) {
                const std::lock_guard lock(out_mutex_);
                write_some(ec);
                if (ec) return false;
            }
            if (fds[0].revents & (POLLIN | POLLHUP | POLLERR) && !read_some(ec)) return false;
        }
    }

    void wake() noexcept override { wake_.signal(); }

    bool closed_by_peer() const noexcept override {
        pollfd p{fd_.get(), POLLRDHUP, 0};
        return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
    }

private:
    bool has_output() {
        const std::lock_guard lock(out_mutex_);
        return written_ < queued_;
    }

    // out_mutex_ held: writes what the socket takes now.
    void write_some(std::error_code& ec) {
        while (sent_ < out_.size()) {
            const auto n = ::send(fd_.get(), out_.data() + sent_, out_.size() - sent_,
                                  MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN) return;
                ec = failed_ = {errno, std::system_category()};
                return;
            }
            sent_ += static_cast<std::size_t>(n);
            written_ += static_cast<std::uint64_t>(n);
        }
        out_.clear();
        sent_ = 0;
    }

    // Reader only: what the socket holds; false with ec set when the stream ended.
    bool read_some(std::error_code& ec) {
        const auto space = reader_.space();
        const auto n = ::recv(fd_.get(), space.data(), space.size(), MSG_DONTWAIT);
        if (n > 0) {
            reader_.commit(static_cast<std::size_t>(n));
            return true;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
        ec = n == 0 || errno == ECONNRESET ? make_error_code(errc::server_gone)
                                           : std::error_code(errno, std::system_category());
        return false;
    }

    socket_fd fd_;
    wake_event wake_;
    record_reader reader_; // the reader's only
    const std::size_t max_record_;
    const std::size_t max_backlog_;
    const std::chrono::microseconds busy_poll_;

    std::mutex out_mutex_; // guards what follows
    std::vector<std::byte> out_;
    std::size_t sent_ = 0;      // bytes of out_ written
    std::uint64_t queued_ = 0;  // bytes given to send() since the start
    std::uint64_t written_ = 0; // of those, bytes the socket took
    bool corked_ = false;
    std::error_code failed_; // a write failed: the stream is broken
};

} // namespace

std::unique_ptr<wire> open_stream_wire(const address& where, const client_options& options,
                                       time_point deadline, std::error_code& ec, std::string& why) {
    auto fd = connect_to(where.host, where.port, SOCK_STREAM, deadline, ec, why);
    if (ec) return nullptr;
    return std::make_unique<stream_wire>(std::move(fd), options.max_record, options.busy_poll);
}

std::unique_ptr<wire> open_unix_wire(const std::string& path, const client_options& options,
                                     time_point deadline, std::error_code& ec, std::string& why) {
    auto fd = connect_unix(path, deadline, ec, why);
    if (ec) return nullptr;
    return std::make_unique<stream_wire>(std::move(fd), options.max_record, options.busy_poll);
}

} // namespace conveyor::rpc::detail
