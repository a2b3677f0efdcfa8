// Asio's asynchronous model on shared-memory channels: shm://, file:// and topic://.
// Completion tokens of every kind (callbacks, use_future, use_awaitable, deferred),
// handlers run on their associated executor (by default the object's), per-operation
// cancellation through the handler's cancellation slot (bind_cancellation_slot).
//
// No thread per channel: a futex in shared memory cannot be polled by epoll, so one helper
// thread per process (started by the first operation that has to wait) sleeps on the events
// of every channel with an operation waiting, with futex_waitv, and hands each back to its
// executor when a peer notifies it. A peer that finds nobody asleep pays what it always
// did: a fence and a load. docs/architecture.md, "Async calls", has the protocol and costs.
//
// Pipes and FIFOs have async calls of their own (conveyor/pipe/stream.hpp).
#pragma once

#include "conveyor/channel.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/system/error_code.hpp>

#include <memory>
#include <system_error>

namespace conveyor::shm {
namespace detail {
class async_core;
} // namespace detail

// Receives from a shm://, file:// or topic:// receiver without blocking its executor. As
// with Asio's own I/O objects, one operation's initiation, the object's destruction and
// cancel() belong to the object's executor (a strand where several threads run it).
class async_receiver {
public:
    using executor_type = boost::asio::any_io_executor;
    // As receiver::receive: message (the buffer holds it) or end_of_stream, with an error
    // left clear; an error (conveyor's errc values, or operation_aborted when cancelled or
    // when the object went away) with status empty.
    using receive_signature = void(boost::system::error_code, receive_status);

    // Takes over channel: a receiver opened on shm://, file:// or topic://. Anything else
    // throws conveyor::error (errc::invalid_argument).
    async_receiver(executor_type executor, std::unique_ptr<conveyor::receiver> channel);
    async_receiver(async_receiver&&) noexcept;
    async_receiver& operator=(async_receiver&&) noexcept;
    // Operations still pending complete with operation_aborted (their handlers run later,
    // on their executors); the channel is closed after them.
    ~async_receiver();

    executor_type get_executor() const noexcept { return executor_; }
    // The channel, for calls between async ones (ack(), redelivered()).
    conveyor::receiver& channel() noexcept { return *channel_; }

    // The next message into message, which must outlive the operation.
    template <class CompletionToken>
    auto async_receive(std::vector<std::byte>& message, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, receive_signature>(
            [this](boost::asio::any_completion_handler<receive_signature> handler,
                   std::vector<std::byte>* into) { start_receive(std::move(handler), into); },
            token, &message);
    }
    // 1..max messages into batch, as receiver::receive_batch (one visit for the lot).
    template <class CompletionToken>
    auto async_receive_batch(message_batch& batch, std::size_t max, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, receive_signature>(
            [this](boost::asio::any_completion_handler<receive_signature> handler,
                   message_batch* into,
                   std::size_t most) { start_receive_batch(std::move(handler), into, most); },
            token, &batch, max);
    }

    // Every pending operation completes with operation_aborted.
    void cancel();

private:
    void start_receive(boost::asio::any_completion_handler<receive_signature> handler,
                       std::vector<std::byte>* message);
    void start_receive_batch(boost::asio::any_completion_handler<receive_signature> handler,
                             message_batch* batch, std::size_t max);
    void close() noexcept;

    executor_type executor_;
    std::unique_ptr<conveyor::receiver> channel_;
    std::shared_ptr<detail::async_core> core_;
};

// Sends to a shm://, file:// or topic:// sender without blocking its executor; the same
// rules as async_receiver.
class async_sender {
public:
    using executor_type = boost::asio::any_io_executor;
    // Clear once the message is in the channel; else the error (errc::message_too_large,
    // errc::closed, operation_aborted ...).
    using send_signature = void(boost::system::error_code);

    async_sender(executor_type executor, std::unique_ptr<conveyor::sender> channel);
    async_sender(async_sender&&) noexcept;
    async_sender& operator=(async_sender&&) noexcept;
    ~async_sender(); // pending sends complete with operation_aborted; the stream is closed

    executor_type get_executor() const noexcept { return executor_; }
    // The channel, for close() and the blocking calls.
    conveyor::sender& channel() noexcept { return *channel_; }

    // Sends message, whose bytes must stay as they are until the operation completes; waits
    // (without blocking) while the channel is full.
    template <class CompletionToken> auto async_send(bytes_view message, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, send_signature>(
            [this](boost::asio::any_completion_handler<send_signature> handler, bytes_view bytes) {
                start_send(std::move(handler), bytes);
            },
            token, message);
    }

    void cancel();

private:
    void start_send(boost::asio::any_completion_handler<send_signature> handler,
                    bytes_view message);
    void close() noexcept;

    executor_type executor_;
    std::unique_ptr<conveyor::sender> channel_;
    std::shared_ptr<detail::async_core> core_;
};

} // namespace conveyor::shm
