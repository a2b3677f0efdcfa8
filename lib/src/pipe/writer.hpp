// The writing half of every pipe transport: frames a message and writes it whole, waiting
// for room on an io_context. Shared by pipe:, child pipes and FIFOs.
#pragma once

#include "conveyor/pipe/framing.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>

namespace conveyor::pipe::detail {

class frame_writer {
public:
    using handler = std::function<void(std::error_code)>;
    // Opens the write end when the first frame is due: returns the descriptor, or -1 with
    // ec set (ENXIO: no reader yet, tried again a little later).
    using connect_hook = std::function<int(std::error_code& ec)>;

    struct settings {
        framing how = framing::frames;
        std::size_t max_message = 64u << 10;
        // Several writers share the stream (a FIFO): each frame is written under flock,
        // shared up to PIPE_BUF bytes, exclusive above (docs/architecture.md, "FIFOs").
        bool lock_frames = false;
        // Begin the stream with a hello frame so that a consumer can count producers.
        bool hello = false;
    };

    // Writes to fd, or to what connect returns when fd is -1. Runs on io, or on a context
    // of its own when io is null.
    frame_writer(int fd, const settings& s, boost::asio::io_context* io, connect_hook connect = {});

    // Completes handler (through io) once the whole frame is written; operation_aborted
    // when cancelled before its first byte. One call at a time.
    void async_send(bytes_view message, handler done);
    // The blocking form; false when the wait ended before the frame's first byte went out
    // (once started, a frame is finished so that the stream stays whole).
    bool send(bytes_view message, wait_duration wait, std::error_code& ec);
    void close(std::error_code& ec);

    std::size_t max_message() const noexcept { return settings_.max_message; }
    boost::asio::io_context& context() noexcept { return io_; }

private:
    void step();
    bool lock(std::error_code& ec);
    void finish(std::error_code ec);
    void retry_soon(std::chrono::microseconds& backoff, std::chrono::microseconds most);
    bool cancel_unstarted();
    // Runs io until done, giving up at the end of wait if no byte has gone out yet.
    bool run_to_completion(const bool& done, wait_duration wait, std::error_code& ec);

    settings settings_;
    std::unique_ptr<boost::asio::io_context> own_io_;
    boost::asio::io_context& io_;
    boost::asio::posix::stream_descriptor stream_;
    boost::asio::steady_timer retry_;
    connect_hook connect_;
    std::vector<std::byte> frame_;
    std::size_t written_ = 0;
    bool locked_ = false;
    bool block_on_lock_ = false; // the blocking form with no deadline may wait in flock
    bool closed_ = false;
    bool hello_sent_ = false;
    handler done_;
    std::chrono::microseconds connect_backoff_{50};
    std::chrono::microseconds lock_backoff_{50};
};

} // namespace conveyor::pipe::detail
