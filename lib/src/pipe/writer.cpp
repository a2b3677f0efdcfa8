// Writing frames to a pipe or FIFO with Asio, never dying of SIGPIPE.
#include "pipe/writer.hpp"

#include "conveyor/error.hpp"
#include "pipe/reader.hpp"

#include <boost/asio/post.hpp>

#include <cerrno>
#include <climits>
#include <csignal>
#include <ctime>
#include <pthread.h>
#include <sys/file.h>
#include <unistd.h>

namespace conveyor::pipe::detail {
namespace {

// write(2) with SIGPIPE blocked in this thread only: a vanished reader becomes EPIPE and
// the SIGPIPE it raised is taken back, without touching the process's signal dispositions.
ssize_t write_without_sigpipe(int fd, const std::byte* data, std::size_t size, int& error) {
    sigset_t pipe_only, old_mask, pending;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &old_mask);
    sigpending(&pending);
    const bool was_pending = sigismember(&pending, SIGPIPE) == 1;
    const ssize_t n = ::write(fd, data, size);
    error = n < 0 ? errno : 0;
    if (n < 0 && error == EPIPE && !was_pending) {
        const timespec now{0, 0};
        while (sigtimedwait(&pipe_only, nullptr, &now) < 0 && errno == EINTR) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    return n;
}

} // namespace

frame_writer::frame_writer(int fd, const settings& s, boost::asio::io_context* io,
                           connect_hook connect)
    : settings_(s), own_io_(io ? nullptr : std::make_unique<boost::asio::io_context>(1)),
      io_(io ? *io : *own_io_), stream_(io_), retry_(io_), connect_(std::move(connect)) {
    if (fd >= 0) {
        stream_.assign(fd);
        stream_.non_blocking(true);
    }
}

void frame_writer::async_send(bytes_view message, handler done) {
    done_ = std::move(done);
    std::error_code ec;
    if (closed_) return finish(errc::closed);
    if (message.size() > settings_.max_message) return finish(errc::message_too_large);
    frame_.clear();
    written_ = 0;
    // The hello rides with the first frame written whole, under the same lock.
    if (settings_.hello && !hello_sent_) append_hello(frame_, settings_.how);
    append_frame(frame_, message, settings_.how, ec);
    if (ec) return finish(ec);
    step();
}

void frame_writer::retry_soon(std::chrono::microseconds& backoff, std::chrono::microseconds most) {
    retry_.expires_after(backoff);
    backoff = std::min(backoff * 2, most);
    retry_.async_wait([this](const boost::system::error_code& e) {
        if (e) return finish(from_asio(e));
        step();
    });
}

bool frame_writer::lock(std::error_code& ec) {
    // Frames up to PIPE_BUF are written atomically by the kernel, so writers of such frames
    // may share the lock; a larger frame goes out in pieces and needs the stream alone.
    const int kind = frame_.size() <= PIPE_BUF ? LOCK_SH : LOCK_EX;
    for (;;) {
        if (::flock(stream_.native_handle(), kind | (block_on_lock_ ? 0 : LOCK_NB)) == 0)
            return locked_ = true;
        if (errno == EINTR) continue;
        if (errno != EWOULDBLOCK) ec = std::error_code(errno, std::system_category());
        return false;
    }
}

void frame_writer::step() {
    std::error_code ec;
    if (!stream_.is_open()) {
        const int fd = connect_(ec);
        // No event says "a reader opened": try again, less and less often.
        if (fd < 0 && ec == std::errc::no_such_device_or_address)
            return retry_soon(connect_backoff_, std::chrono::milliseconds(50));
        if (fd < 0) return finish(ec);
        stream_.assign(fd);
        stream_.non_blocking(true);
    }
    // Another producer's frame is going out: it is done within a write or a few, unless
    // the consumer is slow, so look again soon.
    if (settings_.lock_frames && !locked_ && !lock(ec))
        return ec ? finish(ec) : retry_soon(lock_backoff_, std::chrono::milliseconds(1));
    connect_backoff_ = lock_backoff_ = std::chrono::microseconds(50);
    while (written_ < frame_.size()) {
        int error = 0;
        const ssize_t n = write_without_sigpipe(stream_.native_handle(), frame_.data() + written_,
                                                frame_.size() - written_, error);
        if (n > 0) {
            written_ += static_cast<std::size_t>(n);
        } else if (error == EAGAIN) {
            stream_.async_wait(boost::asio::posix::stream_descriptor::wait_write,
                               [this](const boost::system::error_code& e) {
                                   if (e) return finish(from_asio(e));
                                   step();
                               });
            return;
        } else if (error == EPIPE) {
            return finish(errc::peer_gone);
        } else if (error != EINTR) {
            return finish(std::error_code(error, std::system_category()));
        }
    }
    hello_sent_ = true;
    finish({});
}

void frame_writer::finish(std::error_code ec) {
    if (locked_) ::flock(stream_.native_handle(), LOCK_UN);
    locked_ = false;
    boost::asio::post(io_, [done = std::move(done_), ec] { done(ec); });
}

bool frame_writer::cancel_unstarted() {
    if (written_ != 0) return false;
    retry_.cancel();
    if (stream_.is_open()) stream_.cancel();
    return true;
}

bool frame_writer::send(bytes_view message, wait_duration wait, std::error_code& ec) {
    bool done = false;
    block_on_lock_ = wait == forever;
    async_send(message, [&](std::error_code e) {
        done = true;
        ec = e;
    });
    return run_to_completion(done, wait, ec);
}

bool frame_writer::run_to_completion(const bool& done, wait_duration wait, std::error_code& ec) {
    const auto forever_after = std::chrono::steady_clock::time_point::max();
    if (!run_until(io_, done, deadline_after(wait))) {
        cancel_unstarted();
        run_until(io_, done, forever_after);
    }
    if (ec == aborted()) {
        ec.clear();
        return false;
    }
    return !ec;
}

void frame_writer::close(std::error_code& ec) {
    ec.clear();
    if (closed_) return;
    // A producer that sent nothing still attached: say hello if a consumer is there now,
    // so that a consumer waiting for it sees its (empty) stream end.
    if (settings_.hello && !hello_sent_) {
        bool done = false;
        block_on_lock_ = false;
        frame_.clear();
        written_ = 0;
        append_hello(frame_, settings_.how);
        done_ = [&](std::error_code) { done = true; };
        step();
        std::error_code ignored; // no consumer to greet is no failure
        run_to_completion(done, no_wait, ignored);
    }
    closed_ = true;
    boost::system::error_code e;
    if (stream_.is_open()) stream_.close(e);
    if (e) ec = from_asio(e);
}

} // namespace conveyor::pipe::detail
