// The reading half of every pipe transport: waits for readiness on an io_context, reads
// what is there and cuts it into messages. Shared by pipe:, child pipes and FIFOs.
#pragma once

#include "conveyor/pipe/framing.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <functional>
#include <memory>

namespace conveyor::pipe::detail {

class frame_reader {
public:
    using handler = std::function<void(std::error_code, receive_status)>;
    // Called at end of input with the producers seen so far: returns a new descriptor to
    // go on reading (a FIFO waiting for more producers), or -1 for end of stream.
    using at_end_hook = std::function<int(std::size_t producers_seen, std::error_code& ec)>;

    // Takes over fd; runs on io, or on a context of its own when io is null.
    frame_reader(int fd, framing how, std::size_t max_message, boost::asio::io_context* io,
                 at_end_hook at_end = {});

    // Completes handler (through io) once message holds the next message, the stream ended
    // or reading failed; operation_aborted after cancel(). One call at a time.
    void async_receive(std::vector<std::byte>& message, handler done);
    void cancel();
    // The blocking form: runs io until the message, end of stream or the wait is over.
    receive_status receive(std::vector<std::byte>& message, wait_duration wait,
                           std::error_code& ec);
    // Up to max messages into batch: waits as receive() for the first, then takes what is
    // there without waiting: many frames from one read. A failure after the first message is kept
    // for the next call (the reader's failures are sticky).
    receive_status receive_batch(message_batch& batch, std::size_t max, wait_duration wait,
                                 std::error_code& ec);

    boost::asio::io_context& context() noexcept { return io_; }

private:
    void step();
    // Takes the next message (a view into the decoder's buffer, valid until it reads again)
    // without waiting: true when done (message, end of stream, or ec); false when nothing is
    // there, after starting a wait that goes on with step() if may_wait.
    bool advance(bytes_view& message, receive_status& status, std::error_code& ec, bool may_wait);
    void complete(std::error_code ec, receive_status status);

    std::unique_ptr<boost::asio::io_context> own_io_;
    boost::asio::io_context& io_;
    boost::asio::posix::stream_descriptor stream_;
    frame_decoder decoder_;
    at_end_hook at_end_;
    std::vector<std::byte>* message_ = nullptr;
    std::vector<std::byte> scratch_; // receive_batch's first message, when it waited for it
    handler done_;
    // A read of 0 bytes means end of input only once a writer has been seen: a FIFO that
    // no writer has opened yet also reads 0.
    bool writer_seen_ = false;
    bool at_eof_ = false;
    std::error_code failure_;
};

// What a cancelled operation completes with.
std::error_code aborted();
// Asio's system errors as std::system_category codes.
std::error_code from_asio(const boost::system::error_code& e);

// Runs io until done holds or deadline passes; false when the deadline passed first.
bool run_until(boost::asio::io_context& io, const bool& done,
               std::chrono::steady_clock::time_point deadline);
std::chrono::steady_clock::time_point deadline_after(wait_duration wait);

} // namespace conveyor::pipe::detail
