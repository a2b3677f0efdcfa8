// Reading frames from a pipe or FIFO with Asio: wait for readiness, read, decode.
#include "pipe/reader.hpp"

#include "conveyor/error.hpp"

#include <boost/asio/post.hpp>

#include <cerrno>
#include <unistd.h>

namespace conveyor::pipe::detail {

using clock_type = std::chrono::steady_clock;

std::error_code aborted() {
    return std::error_code(ECANCELED, std::system_category());
}

clock_type::time_point deadline_after(wait_duration wait) {
    const auto now = clock_type::now();
    if (wait >= clock_type::time_point::max() - now) return clock_type::time_point::max();
    return now + std::chrono::duration_cast<clock_type::duration>(wait);
}

bool run_until(boost::asio::io_context& io, const bool& done, clock_type::time_point deadline) {
    while (!done) {
        if (io.stopped()) io.restart();
        if (deadline == clock_type::time_point::max())
            io.run_one();
        else if (clock_type::now() < deadline)
            io.run_one_until(deadline);
        else if (io.poll() == 0) // past the deadline: only what is ready now
            return false;
    }
    return true;
}

frame_reader::frame_reader(int fd, framing how, std::size_t max_message,
                           boost::asio::io_context* io, at_end_hook at_end)
    : own_io_(io ? nullptr : std::make_unique<boost::asio::io_context>(1)),
      io_(io ? *io : *own_io_), stream_(io_, fd), decoder_(how, max_message),
      at_end_(std::move(at_end)) {
    stream_.non_blocking(true);
}

void frame_reader::async_receive(std::vector<std::byte>& message, handler done) {
    message_ = &message;
    done_ = std::move(done);
    step();
}

void frame_reader::cancel() {
    stream_.cancel();
}

std::error_code from_asio(const boost::system::error_code& e) {
    return std::error_code(e.value(), std::system_category());
}

void frame_reader::complete(std::error_code ec, receive_status status) {
    if (ec && ec != aborted()) failure_ = ec; // a broken stream stays broken
    boost::asio::post(io_, [done = std::move(done_), ec, status] { done(ec, status); });
}

void frame_reader::step() {
    std::error_code ec;
    for (;;) {
        if (failure_) return complete(failure_, receive_status::empty);
        if (decoder_.next(*message_, ec)) return complete({}, receive_status::message);
        if (ec) return complete(ec, receive_status::empty);
        if (at_eof_) {
            if (decoder_.finish(*message_, ec)) return complete({}, receive_status::message);
            if (ec) return complete(ec, receive_status::empty);
            const int next = at_end_ ? at_end_(decoder_.producers_seen(), ec) : -1;
            if (ec) return complete(ec, receive_status::empty);
            if (next < 0) return complete({}, receive_status::end_of_stream);
            stream_.close(); // after the hook opened next, so the FIFO never lacks a reader
            stream_.assign(next);
            stream_.non_blocking(true);
            at_eof_ = writer_seen_ = false;
        }
        const auto room = decoder_.prepare(1 << 16);
        const ssize_t n = ::read(stream_.native_handle(), room.data(), room.size());
        if (n > 0) {
            decoder_.commit(static_cast<std::size_t>(n));
            writer_seen_ = true;
        } else if (n == 0 && writer_seen_) {
            at_eof_ = true;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno != EAGAIN) {
            return complete(std::error_code(errno, std::system_category()), receive_status::empty);
        } else {
            // Nothing to read yet: readiness comes with data, or with a hang-up once every
            // writer that opened has gone.
            stream_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                               [this](const boost::system::error_code& e) {
                                   if (e) return complete(from_asio(e), receive_status::empty);
                                   writer_seen_ = true;
                                   step();
                               });
            return;
        }
    }
}

receive_status frame_reader::receive(std::vector<std::byte>& message, wait_duration wait,
                                     std::error_code& ec) {
    bool done = false;
    receive_status result = receive_status::empty;
    async_receive(message, [&](std::error_code e, receive_status status) {
        done = true;
        ec = e;
        result = status;
    });
    if (!run_until(io_, done, deadline_after(wait))) {
        cancel(); // nothing is lost: only the wait is cancelled, never a read
        run_until(io_, done, clock_type::time_point::max());
    }
    if (ec == aborted()) {
        ec.clear();
        return receive_status::empty;
    }
    return ec ? receive_status::empty : result;
}

} // namespace conveyor::pipe::detail
