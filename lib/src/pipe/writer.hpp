// The writing half of every pipe transport: frames messages and writes them whole, waiting
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
        // Several writers share the stream (a FIFO): frames are written under flock, shared
        // while each write is whole frames of at most PIPE_BUF bytes, exclusive otherwise
        // (docs/architecture.md, "FIFOs").
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
    // Sends messages in order with few writes and one lock and signal mask a round (of up to
    // round_bytes of frames); returns how many went out whole. Fewer than all when the wait
    // ended (at a frame's end: a frame started is finished), or with ec: peer_gone, or
    // message_too_large / invalid_argument for the first message that cannot be framed.
    std::size_t send_batch(std::span<const bytes_view> messages, wait_duration wait,
                           std::error_code& ec);
    void close(std::error_code& ec);

    std::size_t max_message() const noexcept { return settings_.max_message; }
    boost::asio::io_context& context() noexcept { return io_; }

private:
    // Frames the first messages into frame_, up to round_bytes (at least one message);
    // returns how many. Stops before a message that cannot be framed, with ec for it.
    std::size_t frame_round(std::span<const bytes_view> messages, std::error_code& ec);
    void start_round();
    // Writes what is due without waiting: true when done (ec says how), false when a wait
    // was started that goes on with resume().
    bool advance(std::error_code& ec);
    void resume();
    bool lock(std::error_code& ec);
    // Ends the round: unlocks, notes the hello; returns the messages written whole.
    std::size_t settle();
    void finish(std::error_code ec);
    void retry_soon(std::chrono::microseconds& backoff, std::chrono::microseconds most);
    // The wait is over: stop at the end of the frame being written, now if none is.
    void stop_soon();
    // Runs the round to its end on the caller's thread, waiting on io until deadline.
    std::size_t run_round(std::chrono::steady_clock::time_point deadline, std::error_code& ec);

    settings settings_;
    std::unique_ptr<boost::asio::io_context> own_io_;
    boost::asio::io_context& io_;
    boost::asio::posix::stream_descriptor stream_;
    boost::asio::steady_timer retry_;
    connect_hook connect_;
    std::vector<std::byte> frame_;  // the round's frames, back to back
    std::vector<std::size_t> ends_; // where each message's frame ends in frame_
    std::size_t written_ = 0;       // bytes of frame_ written
    std::size_t stop_at_ = 0;       // write no further than this (a frame's end)
    bool exclusive_ = false;        // some frame is above PIPE_BUF: the stream alone
    bool locked_ = false;
    bool block_on_lock_ = false; // the blocking form with no deadline may wait in flock
    bool closed_ = false;
    bool hello_sent_ = false;
    handler done_;
    std::chrono::microseconds connect_backoff_{50};
    std::chrono::microseconds lock_backoff_{50};
};

} // namespace conveyor::pipe::detail
