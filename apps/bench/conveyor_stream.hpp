// The bench's writer and reader over any conveyor sender and receiver that copy (FIFO,
// pipe, the shared-memory queue's send and receive).
#pragma once

#include "transport.hpp"

#include "conveyor/channel.hpp"

#include <vector>

namespace conveyor::bench {

class copying_writer final : public writer {
public:
    explicit copying_writer(std::unique_ptr<conveyor::sender> sender)
        : sender_(std::move(sender)) {}
    std::span<std::byte> prepare(std::size_t n) override {
        buffer_.resize(n);
        return buffer_;
    }
    void commit() override { sender_->send(buffer_); }
    void close() override { sender_->close(); }

private:
    std::unique_ptr<conveyor::sender> sender_;
    std::vector<std::byte> buffer_;
};

class copying_reader final : public reader {
public:
    explicit copying_reader(std::unique_ptr<conveyor::receiver> receiver)
        : receiver_(std::move(receiver)) {}
    std::optional<std::span<const std::byte>> receive() override {
        if (receiver_->receive(message_) == receive_status::end_of_stream) return std::nullopt;
        return std::span<const std::byte>(message_);
    }

private:
    std::unique_ptr<conveyor::receiver> receiver_;
    std::vector<std::byte> message_;
};

} // namespace conveyor::bench
