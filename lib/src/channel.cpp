// The throwing and non-throwing faces of the channel contract, over the transports' hooks.
#include "conveyor/channel.hpp"

#include "conveyor/error.hpp"

#include <algorithm>
#include <utility>

namespace conveyor {

namespace {

// Calls call(ec) and throws conveyor::error naming the channel, if it failed; describes the
// channel only then, as sends and receives that succeed must not pay for a string.
template <class Channel, class Call> auto or_throw(const Channel& channel, Call call) {
    std::error_code ec;
    auto result = call(ec);
    if (ec) {
        const std::string detail = channel.failure_detail(ec);
        throw error(ec, channel.describe() + ": " + ec.message() +
                            (detail.empty() ? "" : " (" + detail + ")"));
    }
    return result;
}

} // namespace

sender::~sender() = default;

std::string sender::describe() const {
    return where().uri();
}

std::string sender::failure_detail(std::error_code) const {
    return {};
}

void sender::send(bytes_view message, std::error_code& ec) {
    do_send(message, forever, ec);
}
bool sender::try_send(bytes_view message, std::error_code& ec) {
    return do_send(message, no_wait, ec);
}
bool sender::send_for(bytes_view message, wait_duration timeout, std::error_code& ec) {
    return do_send(message, timeout, ec);
}
void sender::close(std::error_code& ec) {
    do_close(ec);
}

void sender::send(bytes_view message) {
    or_throw(*this, [&](std::error_code& ec) { return do_send(message, forever, ec); });
}
bool sender::try_send(bytes_view message) {
    return or_throw(*this, [&](std::error_code& ec) { return do_send(message, no_wait, ec); });
}
bool sender::send_for(bytes_view message, wait_duration timeout) {
    return or_throw(*this, [&](std::error_code& ec) { return do_send(message, timeout, ec); });
}
void sender::close() {
    or_throw(*this, [&](std::error_code& ec) {
        do_close(ec);
        return true;
    });
}

std::size_t sender::send_batch(std::span<const bytes_view> messages, wait_duration wait,
                               std::error_code& ec) {
    ec.clear();
    return do_send_batch(messages, wait, ec);
}

std::size_t sender::send_batch(std::span<const bytes_view> messages, wait_duration wait) {
    return or_throw(*this, [&](std::error_code& ec) { return send_batch(messages, wait, ec); });
}

std::size_t sender::do_send_batch(std::span<const bytes_view> messages, wait_duration wait,
                                  std::error_code& ec) {
    std::size_t sent = 0;
    while (sent < messages.size() && do_send(messages[sent], wait, ec))
        ++sent;
    return sent;
}

receiver::~receiver() = default;

std::string receiver::describe() const {
    return where().uri();
}

std::string receiver::failure_detail(std::error_code) const {
    return {};
}

receive_status receiver::receive(std::vector<std::byte>& message, std::error_code& ec) {
    return receive_within(message, forever, ec);
}
receive_status receiver::try_receive(std::vector<std::byte>& message, std::error_code& ec) {
    return receive_within(message, no_wait, ec);
}
receive_status receiver::receive_for(std::vector<std::byte>& message, wait_duration timeout,
                                     std::error_code& ec) {
    return receive_within(message, timeout, ec);
}

receive_status receiver::receive(std::vector<std::byte>& message) {
    return or_throw(*this, [&](std::error_code& ec) { return receive(message, ec); });
}
receive_status receiver::try_receive(std::vector<std::byte>& message) {
    return or_throw(*this, [&](std::error_code& ec) { return try_receive(message, ec); });
}
receive_status receiver::receive_for(std::vector<std::byte>& message, wait_duration timeout) {
    return or_throw(*this, [&](std::error_code& ec) { return receive_for(message, timeout, ec); });
}

void receiver::ack(std::error_code& ec) {
    ec.clear();
    do_ack(ec);
}

void receiver::ack() {
    or_throw(*this, [&](std::error_code& ec) {
        ack(ec);
        return true;
    });
}

void receiver::do_ack(std::error_code& ec) {
    ec.clear();
}

receive_status receiver::receive_within(std::vector<std::byte>& message, wait_duration wait,
                                        std::error_code& ec) {
    ec.clear();
    redelivered_ = false;
    if (deferred_) {
        ec = std::exchange(deferred_, {});
        return receive_status::empty;
    }
    return do_receive(message, wait, ec);
}

receive_status receiver::receive_batch(message_batch& batch, std::size_t max, wait_duration wait,
                                       std::error_code& ec) {
    ec.clear();
    batch.clear();
    if (deferred_) {
        ec = std::exchange(deferred_, {});
        return receive_status::empty;
    }
    return do_receive_batch(batch, max == 0 ? 1 : max, wait, ec);
}

receive_status receiver::receive_batch(message_batch& batch, std::size_t max, wait_duration wait) {
    return or_throw(*this,
                    [&](std::error_code& ec) { return receive_batch(batch, max, wait, ec); });
}

receive_status receiver::do_receive_batch(message_batch& batch, std::size_t max, wait_duration wait,
                                          std::error_code& ec) {
    auto status = do_receive(scratch_, wait, ec);
    while (status == receive_status::message) {
        auto room = batch.append(scratch_.size());
        std::copy(scratch_.begin(), scratch_.end(), room.begin());
        if (std::exchange(redelivered_, false)) batch.mark_redelivered();
        if (batch.size() == max) break;
        status = do_receive(scratch_, no_wait, ec);
    }
    if (batch.empty()) return status;
    // The messages taken before a failure are good: deliver them, and report the failure
    // at the next call, as a transport whose failure is not sticky would forget it.
    if (ec) deferred_ = std::exchange(ec, {});
    return receive_status::message;
}

} // namespace conveyor
