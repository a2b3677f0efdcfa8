// A producer on a JetStream stream: asynchronous publishes within a window of messages the
// server has not yet confirmed (back-pressure), each with a message id for JetStream's
// duplicate window, resent in order after a reconnect. docs/nats.md, "Sending", has why.
#pragma once

#include "conveyor/channel.hpp"
#include "conveyor/channel_options.hpp"
#include "nats/address.hpp"
#include "nats/connection.hpp"
#include "nats/registry.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

namespace conveyor::nats::detail {

// Messages sent and not yet confirmed by the server, at most: send waits and try_send
// refuses beyond. A window of this many keeps the loopback link busy (an acknowledgement
// comes back within tens of microseconds) without holding much memory.
inline constexpr std::size_t max_unconfirmed = 4096;
// ... and at most this many bytes of them.
inline constexpr std::size_t max_unconfirmed_bytes = 16u << 20;
// A confirmation that has not come within this long was lost (a server died between our
// connection's and the stream's leader): every unconfirmed message is sent again.
inline constexpr std::chrono::milliseconds confirmation_timeout{5'000};
// Room a message's headers take within the server's max payload (the message id).
inline constexpr std::size_t header_allowance = 128;

class stream_sender final : public conveyor::sender {
public:
    static std::unique_ptr<stream_sender> open(const endpoint& where,
                                               const channel_options& options, std::error_code& ec,
                                               std::string* why);
    ~stream_sender() override; // closes the stream if close() was not called

    std::size_t max_message() const noexcept override { return max_message_; }
    const endpoint& where() const noexcept override { return where_; }
    // The URI, and the server, stream and cause of the last failure.
    std::string describe() const override;

protected:
    bool do_send(bytes_view message, wait_duration wait, std::error_code& ec) override;
    void do_close(std::error_code& ec) override;

private:
    using clock = std::chrono::steady_clock;

    stream_sender(const endpoint& where, address parsed, const channel_options& options);
    static void on_ack(jsCtx* js, natsMsg* msg, jsPubAck* ack, jsPubAckErr* error, void* closure);
    static void on_disconnected(natsConnection* nc, void* closure);

    // Lock held: waits until the window has room for size bytes, or until; false if not.
    bool wait_for_room(std::unique_lock<std::mutex>& lock, std::size_t size,
                       clock::time_point until);
    // Lock held: once the connection is back, sends again, in order, every message not
    // confirmed (its message id lets JetStream drop those it had stored).
    void resend(std::unique_lock<std::mutex>& lock);
    // Lock held: notices a confirmation that has not come in time.
    void check_progress(clock::time_point now);
    // Lock held: records the first failure the server reported for a message.
    void fail(std::error_code ec, std::string text);
    bool report(std::error_code& ec);
    natsMsg* make_message(bytes_view message, std::error_code& ec);

    endpoint where_;
    address address_;
    std::chrono::milliseconds timeout_;
    std::string instance_; // this producer's part of every message id
    std::uint64_t next_sequence_ = 0;
    std::size_t max_message_ = 0;
    std::unique_ptr<connection> connection_;
    std::unique_ptr<producer_record> record_;
    bool closed_ = false;

    mutable std::mutex mutex_; // guards what follows: nats.c's threads share it
    std::condition_variable changed_;
    std::size_t unconfirmed_ = 0;       // messages in the window
    std::size_t unconfirmed_bytes_ = 0; // their payload bytes
    clock::time_point last_progress_;   // a confirmation came, or the window was empty
    bool disrupted_ = false;            // a reconnect, or a lost confirmation: resend
    std::vector<natsMsg*> to_resend_;   // ours; sent again, in order, by resend()
    std::error_code failure_;           // the first message the server refused
    std::string detail_;                // server, stream and cause of the last failure
};

} // namespace conveyor::nats::detail
