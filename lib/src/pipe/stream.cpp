// stream_sender and stream_receiver: the channel contract over frame_writer/frame_reader.
#include "conveyor/pipe/stream.hpp"

#include "conveyor/error.hpp"
#include "conveyor/pipe/child.hpp"
#include "pipe/reader.hpp"
#include "pipe/writer.hpp"

namespace conveyor::pipe {

stream_receiver::stream_receiver(int fd, const endpoint& where, const stream_options& options)
    : stream_receiver(
          std::make_unique<detail::frame_reader>(fd, options.how, options.max_message, options.io),
          where, options.max_message) {
    description_ = options.description;
}

stream_receiver::stream_receiver(std::unique_ptr<detail::frame_reader> reader,
                                 const endpoint& where, std::size_t max_message)
    : reader_(std::move(reader)), where_(where), max_message_(max_message) {}

std::string stream_receiver::describe() const {
    return description_.empty() ? where_.uri() : description_;
}

stream_receiver::~stream_receiver() = default;

void stream_receiver::async_receive(std::vector<std::byte>& message, receive_handler handler) {
    reader_->async_receive(message, std::move(handler));
}

void stream_receiver::cancel() {
    reader_->cancel();
}

receive_status stream_receiver::do_receive(std::vector<std::byte>& message, wait_duration wait,
                                           std::error_code& ec) {
    return reader_->receive(message, wait, ec);
}

receive_status stream_receiver::do_receive_batch(message_batch& batch, std::size_t max,
                                                 wait_duration wait, std::error_code& ec) {
    return reader_->receive_batch(batch, max, wait, ec);
}

stream_sender::stream_sender(int fd, const endpoint& where, const stream_options& options)
    : stream_sender(
          std::make_unique<detail::frame_writer>(
              fd, detail::frame_writer::settings{options.how, options.max_message}, options.io),
          where, nullptr, options.description) {}

stream_sender::stream_sender(std::unique_ptr<detail::frame_writer> writer, const endpoint& where,
                             std::unique_ptr<child> reader_child, std::string description)
    : writer_(std::move(writer)), where_(where), child_(std::move(reader_child)),
      description_(std::move(description)) {}

std::string stream_sender::describe() const {
    return description_.empty() ? where_.uri() : description_;
}

stream_sender::~stream_sender() {
    std::error_code ignored; // a destructor has no one to tell; close() reports
    do_close(ignored);
}

void stream_sender::async_send(bytes_view message, send_handler handler) {
    writer_->async_send(message, std::move(handler));
}

std::size_t stream_sender::max_message() const noexcept {
    return writer_->max_message();
}

bool stream_sender::do_send(bytes_view message, wait_duration wait, std::error_code& ec) {
    return writer_->send(message, wait, ec);
}

std::size_t stream_sender::do_send_batch(std::span<const bytes_view> messages, wait_duration wait,
                                         std::error_code& ec) {
    return writer_->send_batch(messages, wait, ec);
}

void stream_sender::do_close(std::error_code& ec) {
    writer_->close(ec);
    if (!child_) return;
    std::error_code wait_ec;
    child_status_ = child_->wait(wait_ec); // the child sees end of input and finishes
    child_.reset();
    if (!ec) ec = wait_ec;
}

} // namespace conveyor::pipe
