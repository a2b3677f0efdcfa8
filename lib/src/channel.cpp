// The throwing and non-throwing faces of the channel contract, over the transports' hooks.
#include "conveyor/channel.hpp"

#include "conveyor/error.hpp"

namespace conveyor {
namespace {

void throw_if(const std::error_code& ec, const endpoint& where) {
    if (ec) throw_error(ec, where.uri());
}

} // namespace

sender::~sender() = default;

void sender::send(bytes_view message, std::error_code& ec) {
    do_send(message, forever, ec);
}

void sender::send(bytes_view message) {
    std::error_code ec;
    send(message, ec);
    throw_if(ec, where());
}

bool sender::try_send(bytes_view message, std::error_code& ec) {
    return do_send(message, no_wait, ec);
}

bool sender::try_send(bytes_view message) {
    std::error_code ec;
    bool sent = try_send(message, ec);
    throw_if(ec, where());
    return sent;
}

bool sender::send_for(bytes_view message, wait_duration timeout, std::error_code& ec) {
    return do_send(message, timeout, ec);
}

bool sender::send_for(bytes_view message, wait_duration timeout) {
    std::error_code ec;
    bool sent = send_for(message, timeout, ec);
    throw_if(ec, where());
    return sent;
}

void sender::close(std::error_code& ec) {
    do_close(ec);
}

void sender::close() {
    std::error_code ec;
    close(ec);
    throw_if(ec, where());
}

receiver::~receiver() = default;

receive_status receiver::receive(std::vector<std::byte>& message, std::error_code& ec) {
    return do_receive(message, forever, ec);
}

receive_status receiver::receive(std::vector<std::byte>& message) {
    std::error_code ec;
    auto status = receive(message, ec);
    throw_if(ec, where());
    return status;
}

receive_status receiver::try_receive(std::vector<std::byte>& message, std::error_code& ec) {
    return do_receive(message, no_wait, ec);
}

receive_status receiver::try_receive(std::vector<std::byte>& message) {
    std::error_code ec;
    auto status = try_receive(message, ec);
    throw_if(ec, where());
    return status;
}

receive_status receiver::receive_for(std::vector<std::byte>& message, wait_duration timeout,
                                     std::error_code& ec) {
    return do_receive(message, timeout, ec);
}

receive_status receiver::receive_for(std::vector<std::byte>& message, wait_duration timeout) {
    std::error_code ec;
    auto status = receive_for(message, timeout, ec);
    throw_if(ec, where());
    return status;
}

} // namespace conveyor
