// The bench's writer and reader over any conveyor sender and receiver that copy (FIFO,
// pipe, the shared-memory queue's send and receive): send() per message, receive_batch()
// taking what is there, as a program after throughput would.
#pragma once

#include "transport.hpp"

#include "conveyor/channel.hpp"

#include <algorithm>
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
        if (next_ == batch_.size()) {
            // Up to 4 MiB a visit: many small messages, or one large.
            const std::size_t most =
                std::max<std::size_t>(1, (4u << 20) / receiver_->max_message());
            if (receiver_->receive_batch(batch_, std::min<std::size_t>(most, 1024), forever) !=
                receive_status::message)
                return std::nullopt;
            next_ = 0;
        }
        return batch_[next_++];
    }

private:
    std::unique_ptr<conveyor::receiver> receiver_;
    message_batch batch_;
    std::size_t next_ = 0;
};

} // namespace conveyor::bench
