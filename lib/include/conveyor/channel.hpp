// The channel contract every transport keeps: a sender puts messages in, a receiver takes
// them out. See docs/architecture.md, "The channel contract".
#pragma once

#include "conveyor/endpoint.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <system_error>
#include <vector>

namespace conveyor {

using bytes_view = std::span<const std::byte>;
using wait_duration = std::chrono::nanoseconds;

// How long a call may block: no_wait for try_*, forever for the blocking calls.
inline constexpr wait_duration no_wait{0};
inline constexpr wait_duration forever = wait_duration::max();

// What a receive call found.
enum class receive_status {
    message,      // a message was written to the caller's buffer
    empty,        // nothing arrived within the time allowed (try_receive, receive_for)
    end_of_stream // every producer has closed or died and the channel is drained
};

// Puts messages into a channel. One sender belongs to one thread at a time; different
// senders and receivers, of one channel or many, may be used from different threads at once.
class sender {
public:
    virtual ~sender();

    // Blocks while the channel is full.
    void send(bytes_view message);
    void send(bytes_view message, std::error_code& ec);
    // Returns false, without blocking, when the channel is full.
    bool try_send(bytes_view message);
    bool try_send(bytes_view message, std::error_code& ec);
    // Returns false when the channel stayed full for the whole timeout.
    bool send_for(bytes_view message, wait_duration timeout);
    bool send_for(bytes_view message, wait_duration timeout, std::error_code& ec);
    // Sends messages in order, waiting up to wait while the channel is full; returns how
    // many were sent (the first ones), fewer only when the wait passed. A transport that can
    // commits them all in one visit (shm: one lock, one commit for the lot).
    std::size_t send_batch(std::span<const bytes_view> messages, wait_duration wait);
    std::size_t send_batch(std::span<const bytes_view> messages, wait_duration wait,
                           std::error_code& ec);
    // Ends this producer's stream; later sends fail with errc::closed. Idempotent.
    void close();
    void close(std::error_code& ec);

    // The largest message this channel carries.
    virtual std::size_t max_message() const noexcept = 0;
    virtual const endpoint& where() const noexcept = 0;
    // The channel as error messages name it: the URI, and what it stands for where the URI
    // alone says little ("pipe: (standard output)").
    virtual std::string describe() const;
    // More words on a failure that ec alone says little about (which bytes of a segment were
    // wrong); empty by default. The throwing calls add it to what() in parentheses.
    virtual std::string failure_detail(std::error_code ec) const;

protected:
    // Transports implement these two; wait is no_wait, a finite time, or forever.
    virtual bool do_send(bytes_view message, wait_duration wait, std::error_code& ec) = 0;
    virtual void do_close(std::error_code& ec) = 0;
    // By default one do_send after another.
    virtual std::size_t do_send_batch(std::span<const bytes_view> messages, wait_duration wait,
                                      std::error_code& ec);
};

// Several messages taken in one call, stored back to back; reused from call to call.
class message_batch {
public:
    std::size_t size() const noexcept { return ends_.size(); }
    bool empty() const noexcept { return ends_.empty(); }
    bytes_view operator[](std::size_t i) const noexcept {
        const std::size_t begin = i == 0 ? 0 : ends_[i - 1];
        return {bytes_.data() + begin, ends_[i] - begin};
    }
    std::size_t bytes() const noexcept { return used_; }
    // Whether message i was delivered before, to a receiver that died or closed without
    // acknowledging it (receivers opened with channel_options::acknowledge).
    bool redelivered(std::size_t i) const noexcept {
        return i < redelivered_.size() && redelivered_[i];
    }
    void clear() noexcept {
        used_ = 0;
        ends_.clear();
        redelivered_.clear();
    }
    // Room for a message of size bytes at the end of the batch, to be filled by the caller.
    std::span<std::byte> append(std::size_t size) {
        // The buffer only grows and clear() keeps it: refilling a batch writes each byte once,
        // where resizing a cleared vector would zero-fill every message before its copy.
        if (bytes_.size() - used_ < size) bytes_.resize(std::max(used_ + size, 2 * bytes_.size()));
        used_ += size;
        ends_.push_back(used_);
        return {bytes_.data() + used_ - size, size};
    }
    // Marks the last message appended as delivered before.
    void mark_redelivered() {
        redelivered_.resize(ends_.size());
        redelivered_.back() = true;
    }

private:
    std::vector<std::byte> bytes_; // bytes_.size() is the capacity; used_ bytes hold messages
    std::size_t used_ = 0;
    std::vector<std::size_t> ends_;
    std::vector<bool> redelivered_; // empty unless some message was redelivered
};

// Takes messages out of a channel. One receiver belongs to one thread at a time (as senders).
class receiver {
public:
    virtual ~receiver();

    // Blocks while the channel is empty; returns message or end_of_stream.
    receive_status receive(std::vector<std::byte>& message);
    receive_status receive(std::vector<std::byte>& message, std::error_code& ec);
    // Returns empty, without blocking, when nothing is there.
    receive_status try_receive(std::vector<std::byte>& message);
    receive_status try_receive(std::vector<std::byte>& message, std::error_code& ec);
    // Returns empty when nothing arrived within the timeout.
    receive_status receive_for(std::vector<std::byte>& message, wait_duration timeout);
    receive_status receive_for(std::vector<std::byte>& message, wait_duration timeout,
                               std::error_code& ec);
    // Replaces batch's contents with 1..max messages, waiting up to wait for the first;
    // returns message when it took any. A failure after the first message does not take
    // back the ones before it: they are returned, and the next call reports it. Each message
    // taken is the caller's: a transport that can takes them all in one visit (shm: one lock
    // for the lot).
    receive_status receive_batch(message_batch& batch, std::size_t max, wait_duration wait);
    receive_status receive_batch(message_batch& batch, std::size_t max, wait_duration wait,
                                 std::error_code& ec);

    // Acknowledged delivery (channel_options::acknowledge): every message this receiver has
    // taken so far is done with and leaves the channel. Until then a receiver that dies or
    // closes gives them back, to be delivered again. Does nothing on a receiver that takes
    // messages outright (opened without acknowledge, or a transport that keeps nothing).
    void ack();
    void ack(std::error_code& ec);
    // Whether the message of the last receive, try_receive or receive_for was delivered
    // before (message_batch::redelivered says it per message of a batch).
    bool redelivered() const noexcept { return redelivered_; }

    virtual std::size_t max_message() const noexcept = 0;
    virtual const endpoint& where() const noexcept = 0;
    // As sender::describe ("pipe: (standard input)").
    virtual std::string describe() const;
    // As sender::failure_detail.
    virtual std::string failure_detail(std::error_code ec) const;

protected:
    // By default nothing to do: the transport hands messages out for good.
    virtual void do_ack(std::error_code& ec);
    // Transports that redeliver say so for the message a do_receive returns.
    void set_redelivered(bool redelivered) noexcept { redelivered_ = redelivered; }
    virtual receive_status do_receive(std::vector<std::byte>& message, wait_duration wait,
                                      std::error_code& ec) = 0;
    // By default one do_receive that may wait, then others that do not.
    virtual receive_status do_receive_batch(message_batch& batch, std::size_t max,
                                            wait_duration wait, std::error_code& ec);

private:
    receive_status receive_within(std::vector<std::byte>& message, wait_duration wait,
                                  std::error_code& ec);

    std::vector<std::byte> scratch_; // for the default do_receive_batch
    // A failure the default do_receive_batch met after taking messages: it returned those,
    // and the next receive call reports the failure.
    std::error_code deferred_;
    bool redelivered_ = false;
};

} // namespace conveyor
