// A producer on a JetStream stream: publishes within a window of messages the server has not
// yet confirmed (back-pressure), each with a message id for JetStream's duplicate window,
// resent in order after a reconnect; a send returns once the server has confirmed it, or
// with sync_policy::none as soon as it is in the window. docs/nats.md, "Sending", has why.
//
// The confirmations come to an inbox of the sender's own, which the sender reads whenever it
// is called: no thread of nats.c ever calls into it, so it needs no lock, and nothing of
// nats.c outlives it.
#pragma once

#include "conveyor/channel.hpp"
#include "conveyor/channel_options.hpp"
#include "nats/address.hpp"
#include "nats/connection.hpp"
#include "nats/registry.hpp"

#include <deque>
#include <memory>

namespace conveyor::nats::detail {

// Messages sent and not yet confirmed by the server, at most: send waits and try_send
// refuses beyond. A window of this many keeps the loopback link busy (a confirmation comes
// back within tens of microseconds) without holding much memory.
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
    std::size_t do_send_batch(std::span<const bytes_view> messages, wait_duration wait,
                              std::error_code& ec) override;
    void do_close(std::error_code& ec) override;

private:
    using clock = std::chrono::steady_clock;

    stream_sender(const endpoint& where, address parsed, const channel_options& options);
    bool subscribe(std::string& why);
    // Puts message in the window, waiting until until for room; false if there was none.
    bool publish(bytes_view message, clock::time_point until, std::error_code& ec);
    // Waits until the server has confirmed every message in the window.
    bool confirm(std::error_code& ec);
    // Takes the confirmations that came, waiting until until for one if wait; false when
    // none came.
    bool take_confirmations(clock::time_point until);
    void take(natsMsg* reply);
    // After a reconnect, or a confirmation overdue: sends every unconfirmed message again,
    // in order (its message id lets JetStream drop those it had stored).
    void resend_if_disrupted();
    bool reconnected();
    void fail(std::error_code ec, std::string text);

    // A message sent and not yet confirmed; its sequence is base_ plus its place in window_.
    struct entry {
        natsMsg* msg = nullptr; // null once confirmed
        std::size_t bytes = 0;
    };

    endpoint where_;
    address address_;
    std::chrono::milliseconds timeout_; // for the server: to confirm, to come back
    sync_policy sync_;
    std::string instance_; // this producer's part of every message id
    std::size_t max_message_ = 0;
    std::unique_ptr<connection> connection_;
    std::unique_ptr<producer_record> record_;
    natsSubscription* confirmations_ = nullptr; // on inbox_.*, one reply per message
    natsStatistics* statistics_ = nullptr;      // its reconnect count tells of reconnects
    std::string inbox_;
    std::string reply_; // "INBOX." and room for a sequence number
    std::string id_;    // "INSTANCE-" and room for a sequence number
    std::uint64_t reconnects_ = 0;
    bool closed_ = false;

    std::deque<entry> window_;
    std::uint64_t base_ = 0;            // the sequence of window_.front()
    std::size_t unconfirmed_ = 0;       // entries of window_ with a message
    std::size_t unconfirmed_bytes_ = 0; // their payload bytes
    clock::time_point last_progress_;   // a confirmation came, or the window was empty
    clock::time_point last_resend_;     // the last resend began
    bool disrupted_ = false;            // a reconnect, or a lost confirmation: resend
    std::error_code failure_;           // the first message the server refused
    std::string detail_;                // server, stream and cause of the last failure
};

} // namespace conveyor::nats::detail
