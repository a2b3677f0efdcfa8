// Senders and receivers over a byte stream: a pipe's end, standard input or output, a
// FIFO, a child process's pipe. Asio drives them on an io_context: their own by default,
// or a service's, which may then use the async calls and serve many pipes on one thread.
#pragma once

#include "conveyor/channel.hpp"
#include "conveyor/channel_options.hpp"
#include "conveyor/pipe/framing.hpp"

#include <functional>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace conveyor::pipe {
namespace detail {
class frame_reader;
class frame_writer;
} // namespace detail
class child;

struct stream_options {
    framing how = framing::frames;
    std::size_t max_message = 64u << 10;
    // Run on this io_context instead of one of the channel's own. The blocking calls run it
    // themselves; a context that other threads run needs the async calls only.
    boost::asio::io_context* io = nullptr;
    // How error messages name the stream (describe()); empty: the endpoint's URI.
    std::string description;
};

class stream_receiver final : public conveyor::receiver {
public:
    using receive_handler = std::function<void(std::error_code, receive_status)>;

    // Reads from fd (a pipe's read end, standard input), which it takes over and closes.
    stream_receiver(int fd, const endpoint& where, const stream_options& options = {});
    explicit stream_receiver(std::unique_ptr<detail::frame_reader> reader, const endpoint& where,
                             std::size_t max_message);
    ~stream_receiver() override;

    // Calls handler through the io_context once message holds the next message (message),
    // the stream has ended (end_of_stream) or reading failed (ec). One call at a time.
    void async_receive(std::vector<std::byte>& message, receive_handler handler);
    // Makes a pending async_receive complete with std::errc::operation_canceled.
    void cancel();

    std::size_t max_message() const noexcept override { return max_message_; }
    const endpoint& where() const noexcept override { return where_; }
    std::string describe() const override;

protected:
    receive_status do_receive(std::vector<std::byte>& message, wait_duration wait,
                              std::error_code& ec) override;
    // Every frame that one read brings, cut out of the reader's buffer: no call a message.
    receive_status do_receive_batch(message_batch& batch, std::size_t max, wait_duration wait,
                                    std::error_code& ec) override;

private:
    std::unique_ptr<detail::frame_reader> reader_;
    endpoint where_;
    std::size_t max_message_;
    std::string description_;
};

class stream_sender final : public conveyor::sender {
public:
    using send_handler = std::function<void(std::error_code)>;

    // Writes to fd (a pipe's write end, standard output), which it takes over and closes.
    stream_sender(int fd, const endpoint& where, const stream_options& options = {});
    stream_sender(std::unique_ptr<detail::frame_writer> writer, const endpoint& where,
                  std::unique_ptr<child> reader_child = nullptr, std::string description = {});
    ~stream_sender() override; // closes the stream (and waits for the child, if any)

    // Calls handler through the io_context once the whole frame is written, or with
    // errc::peer_gone when the reader went away. One call at a time; message is copied.
    void async_send(bytes_view message, send_handler handler);

    // The exit status of the child this sender writes to (128 + N when signal N ended it),
    // once close() has waited for it; -1 when there is no child or it has not ended.
    int child_status() const noexcept { return child_status_; }

    std::size_t max_message() const noexcept override;
    const endpoint& where() const noexcept override { return where_; }
    std::string describe() const override;

protected:
    bool do_send(bytes_view message, wait_duration wait, std::error_code& ec) override;
    // Frames the lot into one buffer and writes it with few writes, one lock and one signal
    // mask (docs/architecture.md, "FIFOs"); the count is of messages written whole.
    std::size_t do_send_batch(std::span<const bytes_view> messages, wait_duration wait,
                              std::error_code& ec) override;
    void do_close(std::error_code& ec) override;

private:
    std::unique_ptr<detail::frame_writer> writer_;
    endpoint where_;
    std::unique_ptr<child> child_;
    int child_status_ = -1;
    std::string description_;
};

// The pipe: endpoint. A sender writes to standard output, or to a child started with
// options.spawn; a receiver reads standard input. Either must be a pipe (or socket): the
// stream is the channel's from then on (standard output is pointed at /dev/null, so that
// closing the sender ends the stream).
std::unique_ptr<stream_sender> open_pipe_sender(const endpoint& where,
                                                const channel_options& options, std::error_code& ec,
                                                std::string* why = nullptr);
std::unique_ptr<stream_receiver> open_pipe_receiver(const endpoint& where,
                                                    const channel_options& options,
                                                    std::error_code& ec,
                                                    std::string* why = nullptr);

} // namespace conveyor::pipe
