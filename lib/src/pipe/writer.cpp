// Writing frames to a pipe or FIFO with Asio, never dying of SIGPIPE.
#include "pipe/writer.hpp"

#include "conveyor/error.hpp"
#include "pipe/reader.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <csignal>
#include <ctime>
#include <pthread.h>
#include <sys/file.h>
#include <unistd.h>

namespace conveyor::pipe::detail {
namespace {

// A round's frames are written, and locked, together: a bound on them bounds how long an
// exclusive lock keeps other producers waiting. A pipe's default capacity: such a round
// waits for the reader about as often as one frame of that size would.
constexpr std::size_t round_bytes = 64u << 10;

// SIGPIPE blocked in this thread while it lives, so that a vanished reader becomes EPIPE;
// the SIGPIPE a write raised is taken back at the end, unless one was pending already
// (someone else's, left alone). The process's signal dispositions are not touched. One
// for all the writes of a round, not one a write: two system calls a round.
class sigpipe_blocked {
public:
    sigpipe_blocked() {
        sigemptyset(&pipe_only_);
        sigaddset(&pipe_only_, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_only_, &old_mask_);
        already_blocked_ = sigismember(&old_mask_, SIGPIPE) == 1;
        // Unblocked until now, no SIGPIPE can be waiting for this thread (it would have been
        // delivered): only a caller that blocks it may have one pending.
        if (already_blocked_) {
            sigset_t pending;
            sigpending(&pending);
            was_pending_ = sigismember(&pending, SIGPIPE) == 1;
        }
    }
    ~sigpipe_blocked() {
        if (raised_ && !was_pending_) {
            const timespec now{0, 0};
            while (sigtimedwait(&pipe_only_, nullptr, &now) < 0 && errno == EINTR) {
            }
        }
        if (!already_blocked_) pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    }
    sigpipe_blocked(const sigpipe_blocked&) = delete;
    sigpipe_blocked& operator=(const sigpipe_blocked&) = delete;

    // A write failed with EPIPE: the kernel raised SIGPIPE at this thread.
    void raised() noexcept { raised_ = true; }

private:
    sigset_t pipe_only_;
    sigset_t old_mask_;
    bool already_blocked_ = false;
    bool was_pending_ = false;
    bool raised_ = false;
};

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

void frame_writer::start_round() {
    frame_.clear();
    ends_.clear();
    written_ = 0;
    exclusive_ = false;
    // The hello rides with the first frame, in the same write and under the same lock.
    if (settings_.hello && !hello_sent_) append_hello(frame_, settings_.how);
}

std::size_t frame_writer::frame_round(std::span<const bytes_view> messages, std::error_code& ec) {
    ec.clear();
    start_round();
    std::size_t begin = 0; // where the current message's frame (with the hello) begins
    for (const bytes_view message : messages) {
        if (!ends_.empty() && frame_.size() + frame_header_size + message.size() > round_bytes)
            break;
        if (message.size() > settings_.max_message) {
            ec = errc::message_too_large;
            break;
        }
        append_frame(frame_, message, settings_.how, ec); // appends nothing when it fails
        if (ec) break;
        // Frames up to PIPE_BUF go out in writes of whole frames of at most PIPE_BUF bytes,
        // which the kernel makes atomic: producers that do so only need the shared lock and
        // go side by side. One larger frame goes out in pieces, so its round takes the
        // stream alone and writes everything at once: bounded by round_bytes.
        if (frame_.size() - begin > PIPE_BUF) exclusive_ = true;
        begin = frame_.size();
        ends_.push_back(frame_.size());
    }
    stop_at_ = frame_.size();
    return ends_.size();
}

void frame_writer::async_send(bytes_view message, handler done) {
    done_ = std::move(done);
    if (closed_) return finish(errc::closed);
    std::error_code ec;
    if (frame_round(std::span(&message, 1), ec) == 0) return finish(ec);
    resume();
}

void frame_writer::retry_soon(std::chrono::microseconds& backoff, std::chrono::microseconds most) {
    retry_.expires_after(backoff);
    backoff = std::min(backoff * 2, most);
    retry_.async_wait([this](const boost::system::error_code& e) {
        if (e) return finish(from_asio(e));
        resume();
    });
}

bool frame_writer::lock(std::error_code& ec) {
    const int kind = exclusive_ ? LOCK_EX : LOCK_SH;
    for (;;) {
        if (::flock(stream_.native_handle(), kind | (block_on_lock_ ? 0 : LOCK_NB)) == 0)
            return locked_ = true;
        if (errno == EINTR) continue;
        if (errno != EWOULDBLOCK) ec = std::error_code(errno, std::system_category());
        return false;
    }
}

bool frame_writer::advance(std::error_code& ec) {
    if (written_ >= stop_at_) return true;
    if (!stream_.is_open()) {
        const int fd = connect_(ec);
        // No event says "a reader opened": try again, less and less often.
        if (fd < 0 && ec == std::errc::no_such_device_or_address) {
            ec.clear();
            retry_soon(connect_backoff_, std::chrono::milliseconds(50));
            return false;
        }
        if (fd < 0) return true;
        stream_.assign(fd);
        stream_.non_blocking(true);
    }
    // Another producer's round is going out: it is done within a write or a few, unless
    // the consumer is slow, so look again soon.
    if (settings_.lock_frames && !locked_ && !lock(ec)) {
        if (ec) return true;
        retry_soon(lock_backoff_, std::chrono::milliseconds(1));
        return false;
    }
    connect_backoff_ = lock_backoff_ = std::chrono::microseconds(50);
    sigpipe_blocked blocked;
    while (written_ < stop_at_) {
        std::size_t end = stop_at_;
        if (!exclusive_) // the last frame's end within PIPE_BUF: ends_ has one, see frame_round
            end = std::min(
                end, *(std::upper_bound(ends_.begin(), ends_.end(), written_ + PIPE_BUF) - 1));
        const ssize_t n =
            ::write(stream_.native_handle(), frame_.data() + written_, end - written_);
        const int error = n < 0 ? errno : EAGAIN; // 0 bytes taken: no room yet
        if (n > 0) {
            written_ += static_cast<std::size_t>(n);
        } else if (error == EAGAIN) {
            stream_.async_wait(boost::asio::posix::stream_descriptor::wait_write,
                               [this](const boost::system::error_code& e) {
                                   if (e) return finish(from_asio(e));
                                   resume();
                               });
            return false;
        } else if (error == EPIPE) {
            blocked.raised();
            ec = errc::peer_gone;
            return true;
        } else if (error != EINTR) {
            ec = std::error_code(error, std::system_category());
            return true;
        }
    }
    return true;
}

void frame_writer::resume() {
    std::error_code ec;
    if (advance(ec)) finish(ec);
}

std::size_t frame_writer::settle() {
    if (locked_) ::flock(stream_.native_handle(), LOCK_UN);
    locked_ = false;
    // Frames are counted whole or not at all; a write cut short mid-frame (EPIPE under the
    // exclusive lock) leaves that one uncounted.
    const auto whole = static_cast<std::size_t>(
        std::upper_bound(ends_.begin(), ends_.end(), written_) - ends_.begin());
    if (whole > 0) hello_sent_ = true;
    return whole;
}

void frame_writer::finish(std::error_code ec) {
    settle();
    boost::asio::post(io_, [done = std::move(done_), ec] { done(ec); });
}

void frame_writer::stop_soon() {
    if (written_ != 0 && !std::binary_search(ends_.begin(), ends_.end(), written_)) {
        stop_at_ = *std::lower_bound(ends_.begin(), ends_.end(), written_);
        return; // mid-frame: finish it so that the stream stays whole
    }
    stop_at_ = written_;
    retry_.cancel();
    if (stream_.is_open()) stream_.cancel();
}

std::size_t frame_writer::run_round(std::chrono::steady_clock::time_point deadline,
                                    std::error_code& ec) {
    bool done = false;
    std::error_code result;
    done_ = [&](std::error_code e) {
        done = true;
        result = e;
    };
    // Most rounds need no wait: written at once, without a trip through io.
    if (advance(result)) {
        done = true;
    } else if (!run_until(io_, done, deadline)) {
        stop_soon();
        run_until(io_, done, std::chrono::steady_clock::time_point::max());
    }
    done_ = nullptr;
    ec = result == aborted() ? std::error_code() : result;
    return settle();
}

std::size_t frame_writer::send_batch(std::span<const bytes_view> messages, wait_duration wait,
                                     std::error_code& ec) {
    ec.clear();
    if (closed_) {
        ec = errc::closed;
        return 0;
    }
    block_on_lock_ = wait == forever;
    const auto deadline = deadline_after(wait);
    std::size_t sent = 0;
    while (sent < messages.size()) {
        std::error_code unframed; // for the message after the round, if it could not be framed
        const std::size_t framed = frame_round(messages.subspan(sent), unframed);
        if (framed == 0) {
            ec = unframed;
            break;
        }
        const std::size_t written = run_round(deadline, ec);
        sent += written;
        if (ec || written < framed) break;
        if (unframed) {
            ec = unframed;
            break;
        }
    }
    return sent;
}

bool frame_writer::send(bytes_view message, wait_duration wait, std::error_code& ec) {
    return send_batch(std::span(&message, 1), wait, ec) == 1;
}

void frame_writer::close(std::error_code& ec) {
    ec.clear();
    if (closed_) return;
    // A producer that sent nothing still attached: say hello if a consumer is there now,
    // so that a consumer waiting for it sees its (empty) stream end.
    if (settings_.hello && !hello_sent_) {
        block_on_lock_ = false;
        start_round();
        ends_.push_back(frame_.size());
        stop_at_ = frame_.size();
        std::error_code ignored; // no consumer to greet is no failure
        run_round(deadline_after(no_wait), ignored);
    }
    closed_ = true;
    boost::system::error_code e;
    if (stream_.is_open()) stream_.close(e);
    if (e) ec = from_asio(e);
}

} // namespace conveyor::pipe::detail
