// The throwing and non-throwing faces of the channel contract, over the transports' hooks.
#include "conveyor/channel.hpp"

#include "conveyor/error.hpp"
#include "detail/or_throw.hpp"

#include <algorithm>

namespace conveyor {

using detail::or_throw;

sender::~sender() = default;

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
    or_throw(where(), [&](std::error_code& ec) { return do_send(message, forever, ec); });
}
bool sender::try_send(bytes_view message) {
    return or_throw(where(), [&](std::error_code& ec) { return do_send(message, no_wait, ec); });
}
bool sender::send_for(bytes_view message, wait_duration timeout) {
    return or_throw(where(), [&](std::error_code& ec) { return do_send(message, timeout, ec); });
}
void sender::close() {
    or_throw(where(), [&](std::error_code& ec) {
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
    return or_throw(where(), [&](std::error_code& ec) { return send_batch(messages, wait, ec); });
}

std::size_t sender::do_send_batch(std::span<const bytes_view> messages, wait_duration wait,
                                  std::error_code& ec) {
    std::size_t sent = 0;
    while (sent < messages.size() && do_send(messages[sent], wait, ec))
        ++sent;
    return sent;
}

receiver::~receiver() = default;

receive_status receiver::receive(std::vector<std::byte>& message, std::error_code& ec) {
    return do_receive(message, forever, ec);
}
receive_status receiver::try_receive(std::vector<std::byte>& message, std::error_code& ec) {
    return do_receive(message, no_wait, ec);
}
receive_status receiver::receive_for(std::vector<std::byte>& message, wait_duration timeout,
                                     std::error_code& ec) {
    return do_receive(message, timeout, ec);
}

receive_status receiver::receive(std::vector<std::byte>& message) {
    return or_throw(where(), [&](std::error_code& ec) { return do_receive(message, forever, ec); });
}
receive_status receiver::try_receive(std::vector<std::byte>& message) {
    return or_throw(where(), [&](std::error_code& ec) { return do_receive(message, no_wait, ec); });
}
receive_status receiver::receive_for(std::vector<std::byte>& message, wait_duration timeout) {
    return or_throw(where(), [&](std::error_code& ec) { return do_receive(message, timeout, ec); });
}

receive_status receiver::receive_batch(message_batch& batch, std::size_t max, wait_duration wait,
                                       std::error_code& ec) {
    ec.clear();
    batch.clear();
    return do_receive_batch(batch, max == 0 ? 1 : max, wait, ec);
}

receive_status receiver::receive_batch(message_batch& batch, std::size_t max, wait_duration wait) {
    return or_throw(where(),
                    [&](std::error_code& ec) { return receive_batch(batch, max, wait, ec); });
}

receive_status receiver::do_receive_batch(message_batch& batch, std::size_t max, wait_duration wait,
                                          std::error_code& ec) {
    auto status = do_receive(scratch_, wait, ec);
    while (status == receive_status::message) {
        auto room = batch.append(scratch_.size());
        std::copy(scratch_.begin(), scratch_.end(), room.begin());
        if (batch.size() == max) break;
        status = do_receive(scratch_, no_wait, ec);
    }
    return batch.empty() ? status : receive_status::message;
}

} // namespace conveyor
