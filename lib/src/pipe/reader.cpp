// Reading frames from a pipe or FIFO with Asio: wait for readiness, read, decode.
#include "pipe/reader.hpp"

#include "conveyor/error.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
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

bool frame_reader::advance(bytes_view& message, receive_status& status, std::error_code& ec,
                           bool may_wait) {
    status = receive_status::empty;
    for (;;) {
        if (failure_) {
            ec = failure_;
            return true;
        }
        if (decoder_.next(message, ec)) {
            status = receive_status::message;
            return true;
        }
        if (ec) break;
        if (at_eof_) {
            if (decoder_.finish(message, ec)) {
                status = receive_status::message;
                return true;
            }
            if (ec) break;
            const int next = at_end_ ? at_end_(decoder_.producers_seen(), ec) : -1;
            if (ec) break;
            if (next < 0) {
                status = receive_status::end_of_stream;
                return true;
            }
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
            ec = std::error_code(errno, std::system_category());
            break;
        } else {
            if (!may_wait) return false;
            // Nothing to read yet: readiness comes with data, or with a hang-up once every
            // writer that opened has gone.
            stream_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                               [this](const boost::system::error_code& e) {
                                   if (e) return complete(from_asio(e), receive_status::empty);
                                   writer_seen_ = true;
                                   step();
                               });
            return false;
        }
    }
    failure_ = ec; // a broken stream stays broken
    return true;
}

void frame_reader::step() {
    bytes_view message;
    receive_status status;
    std::error_code ec;
    if (!advance(message, status, ec, true)) return;
    if (status == receive_status::message) message_->assign(message.begin(), message.end());
    complete(ec, status);
}

receive_status frame_reader::receive(std::vector<std::byte>& message, wait_duration wait,
                                     std::error_code& ec) {
    ec.clear();
    bool done = false;
    receive_status result = receive_status::empty;
    message_ = &message;
    done_ = [&](std::error_code e, receive_status status) {
        done = true;
        ec = e;
        result = status;
    };
    // What is buffered or readable now needs no trip through io.
    bytes_view ready;
    if (advance(ready, result, ec, true)) {
        if (result == receive_status::message) message.assign(ready.begin(), ready.end());
        done = true;
    } else if (!run_until(io_, done, deadline_after(wait))) {
        cancel(); // nothing is lost: only the wait is cancelled, never a read
        run_until(io_, done, clock_type::time_point::max());
    }
    done_ = nullptr;
    if (ec == aborted()) {
        ec.clear();
        return receive_status::empty;
    }
    return ec ? receive_status::empty : result;
}

receive_status frame_reader::receive_batch(message_batch& batch, std::size_t max,
                                           wait_duration wait, std::error_code& ec) {
    const auto add = [&](bytes_view message) {
        const auto room = batch.append(message.size());
        std::copy(message.begin(), message.end(), room.begin());
    };
    // Messages are copied once, from the decoder's buffer into the batch; only a first
    // message that had to be waited for goes through receive() and scratch_.
    bytes_view message;
    receive_status status;
    ec.clear();
    if (!advance(message, status, ec, false)) {
        status = receive(scratch_, wait, ec);
        if (status != receive_status::message) return status;
        add(scratch_);
    } else if (status != receive_status::message) {
        return ec ? receive_status::empty : status;
    } else {
        add(message);
    }
    std::error_code later; // sticky in failure_: the next call reports it
    while (batch.size() < max && advance(message, status, later, false) &&
           status == receive_status::message)
        add(message);
    return receive_status::message;
}

} // namespace conveyor::pipe::detail
