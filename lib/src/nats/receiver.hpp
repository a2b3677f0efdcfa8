// A consumer of a JetStream stream through a durable pull consumer: pull requests in
// batches within the durable's max ack pending, explicit acknowledgement (at once, or on
// ack() with channel_options::acknowledge), end of stream from the producer records and the
// durable's backlog. docs/nats.md, "Receiving" and "End of stream".
#pragma once

#include "conveyor/channel.hpp"
#include "conveyor/channel_options.hpp"
#include "nats/address.hpp"
#include "nats/connection.hpp"
#include "nats/registry.hpp"

#include <deque>
#include <memory>
#include <vector>

namespace conveyor::nats::detail {

// A receiver keeps up to this many messages asked for and not yet delivered, asking for
// more once half of them came: messages stream in as they are published, and the round trip
// of the next request overlaps the deliveries of the last.
inline constexpr std::size_t max_fetch = 1024;
// A pull request waits at the server for messages this long at most, and a waiting receiver
// looks whether the stream has ended as often: first_slice once messages stopped coming
// (so that the end of a stream is seen within milliseconds), twice as long each time none
// came, up to idle_slice (so that an idle receiver costs the server little).
inline constexpr std::chrono::milliseconds first_slice{10};
inline constexpr std::chrono::milliseconds idle_slice{100};

class stream_receiver final : public conveyor::receiver {
public:
    static std::unique_ptr<stream_receiver> open(const endpoint& where,
                                                 const channel_options& options,
                                                 std::error_code& ec, std::string* why);
    // Gives back what it took and did not acknowledge: delivered again at once, marked.
    ~stream_receiver() override;

    std::size_t max_message() const noexcept override { return max_message_; }
    const endpoint& where() const noexcept override { return where_; }
    std::string describe() const override;

protected:
    receive_status do_receive(std::vector<std::byte>& message, wait_duration wait,
                              std::error_code& ec) override;
    receive_status do_receive_batch(message_batch& batch, std::size_t max, wait_duration wait,
                                    std::error_code& ec) override;
    void do_ack(std::error_code& ec) override;

private:
    using clock = std::chrono::steady_clock;

    stream_receiver(const endpoint& where, address parsed, const channel_options& options);
    // Makes sure fetched_ holds a message, waiting until until for the first; message,
    // empty, or end_of_stream.
    receive_status fill(clock::time_point until, std::error_code& ec);
    // A pull request for n messages, answered at once (no_wait) or held by the server for
    // up to slice_ while it waits for messages.
    bool request(std::size_t n, bool no_wait, std::error_code& ec);
    // Drops the requests that have expired at the server.
    void forget_expired(clock::time_point now);
    // Asks for more once less than half of max_fetch is asked for and not yet delivered.
    bool top_up(std::error_code& ec);
    // Waits until until for something from the server; false if nothing came.
    bool wait_for_answer(clock::time_point until);
    // Takes what has arrived, without waiting.
    void take_arrived();
    // A delivery or a status of a pull request.
    void take(natsMsg* msg);
    std::size_t in_hand() const noexcept { return fetched_.size() - next_; }
    // The messages held for ack(), each counted once however often it came.
    std::int64_t held_messages() const;
    // Every producer of this receiver's stream has closed or died and the durable has
    // nothing left for it.
    bool stream_over(std::error_code& ec);
    // The next fetched message, acknowledged at once or held until ack().
    natsMsg* take_next();
    void give_back() noexcept;

    endpoint where_;
    address address_;
    bool acknowledge_;
    std::size_t min_producers_;
    std::size_t max_message_ = 0;
    std::int64_t max_ack_pending_ = 0;
    std::unique_ptr<connection> connection_;
    natsSubscription* subscription_ = nullptr; // on inbox_.*: deliveries of our requests
    std::string inbox_;
    std::string next_subject_; // where pull requests go
    // The pull requests in force, oldest first (the server serves them in that order): the
    // number that ends its reply subject, how many messages it may still bring, and when it
    // has expired at the server.
    struct pull {
        std::uint64_t number = 0;
        std::size_t left = 0;
        clock::time_point expires;
    };
    std::deque<pull> pulls_;
    std::uint64_t last_pull_ = 0;
    std::size_t asked_ = 0;  // the sum of pulls_' left
    bool unflushed_ = false; // a request may still sit in nats.c's write buffer
    std::unique_ptr<producer_watch> producers_;
    std::vector<natsMsg*> fetched_; // delivered, not yet handed out; next_ is the first
    std::size_t next_ = 0;
    std::vector<natsMsg*> held_;  // handed out, awaiting ack() (acknowledge only)
    clock::time_point last_look_; // when stream_over() last asked
    std::chrono::milliseconds slice_ = first_slice;
    std::string detail_; // server, stream and cause of the last failure
};

} // namespace conveyor::nats::detail
