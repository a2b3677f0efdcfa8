// The bench's writers and reader over any conveyor sender and receiver that copy (FIFO,
// pipe, the shared-memory queue's send and receive): send() per message or send_batch() for
// a stream, receive_batch() taking what is there, as a program after throughput would.
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

// For a stream of messages: collects up to 64 messages (256 KiB) and sends them with one
// send_batch, as conveyor-producer does; on shm:// one lock and one commit for the lot.
class batching_writer final : public writer {
public:
    explicit batching_writer(std::unique_ptr<conveyor::sender> sender)
        : sender_(std::move(sender)) {}
    std::span<std::byte> prepare(std::size_t n) override {
        if (used_ + n > storage_.size())
            storage_.resize(used_ + n); // grows, never zero-fills again
        const std::span<std::byte> room(storage_.data() + used_, n);
        used_ += n;
        ends_.push_back(used_);
        return room;
    }
    void commit() override {
        if (ends_.size() == max_messages || used_ >= max_bytes) flush();
    }
    void close() override {
        flush();
        sender_->close();
    }

private:
    static constexpr std::size_t max_messages = 64;
    static constexpr std::size_t max_bytes = 256u << 10;

    void flush() {
        views_.clear();
        for (std::size_t i = 0, begin = 0; i < ends_.size(); begin = ends_[i++])
            views_.emplace_back(storage_.data() + begin, ends_[i] - begin);
        for (std::size_t sent = 0; sent < views_.size();)
            sent += sender_->send_batch(std::span(views_).subspan(sent), forever);
        used_ = 0;
        ends_.clear();
    }

    std::unique_ptr<conveyor::sender> sender_;
    std::vector<std::byte> storage_;
    std::size_t used_ = 0; // bytes of storage_ holding messages not yet sent
    std::vector<std::size_t> ends_;
    std::vector<bytes_view> views_;
};

// With acknowledge (a receiver opened with channel_options::acknowledge), each batch is
// acknowledged once its messages were used, before the next is taken, as conveyor-consumer
// does once it has written a batch out.
class copying_reader final : public reader {
public:
    explicit copying_reader(std::unique_ptr<conveyor::receiver> receiver, bool acknowledge = false)
        : receiver_(std::move(receiver)), acknowledge_(acknowledge) {}
    std::optional<std::span<const std::byte>> receive() override {
        if (next_ == batch_.size()) {
            if (acknowledge_ && !batch_.empty()) receiver_->ack();
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
    bool acknowledge_;
    message_batch batch_;
    std::size_t next_ = 0;
};

} // namespace conveyor::bench
