// Broadcast through shared memory: topic://NAME. Every subscriber gets every message
// published after it subscribed, each reading at its own pace from one ring that publishers
// write once. A subscriber a whole ring behind either holds publishers back
// (slow_subscriber::block, the default) or loses the oldest messages and is told how many
// (slow_subscriber::drop), as the topic's creator chose. End of stream as on shm://.
// docs/architecture.md, "Topics", has the protocol and its crash safety.
#pragma once

#include "conveyor/channel.hpp"
#include "conveyor/channel_options.hpp"
#include "conveyor/shm/queue.hpp"

#include <memory>
#include <string>

namespace conveyor::shm {
namespace detail {
class topic_attachment;
struct wait_hooks;
} // namespace detail

// A publisher on topic://NAME, creating the topic with options when it does not exist (its
// capacity, max_message, mode and slow; a joiner takes the topic's). options.producer_name
// makes it a named publisher, as on shm://.
class topic_sender final : public conveyor::sender {
public:
    explicit topic_sender(const endpoint& where, const channel_options& options = {});
    static std::unique_ptr<topic_sender> open(const endpoint& where, const channel_options& options,
                                              std::error_code& ec, std::string* why = nullptr);
    ~topic_sender() override; // closes the stream

    // What the topic does with a subscriber a whole ring behind, as its creator chose.
    slow_subscriber slow() const noexcept;

    std::size_t max_message() const noexcept override;
    const endpoint& where() const noexcept override;
    std::string failure_detail(std::error_code ec) const override;

    // For the async calls (conveyor/shm/async.hpp).
    detail::wait_hooks hooks_for_async() noexcept;

protected:
    bool do_send(bytes_view message, wait_duration wait, std::error_code& ec) override;
    // As many messages as fit under one lock, then one commit; in drop mode never waits for
    // subscribers.
    std::size_t do_send_batch(std::span<const bytes_view> messages, wait_duration wait,
                              std::error_code& ec) override;
    void do_close(std::error_code& ec) override;

private:
    explicit topic_sender(std::unique_ptr<detail::topic_attachment> attached);
    bool may_send(std::size_t size, std::error_code& ec) const noexcept;
    // Takes the lock and room for a record of size bytes, waiting (block mode) while the
    // slowest live subscriber holds the ring; returns where its payload goes, or nullptr
    // (lock not held).
    std::byte* claim(std::size_t size, wait_duration wait, std::error_code& ec);
    // Lock held: the next record past pending_tail_, written up to its payload, or nullptr
    // when there is no room (ec set when the ring is corrupt).
    std::byte* place(std::size_t size, std::error_code& ec) noexcept;
    // Lock held: whether required bytes past pending_tail_ may be written; in drop mode
    // moves head past the oldest records to make it so.
    bool make_room(std::uint64_t required, std::error_code& ec) noexcept;
    // The lowest cursor of a live subscriber, bounded to [head, committed tail].
    std::uint64_t slowest_cursor(std::uint64_t head, std::uint64_t tail) const noexcept;
    bool wait_for_room(const deadline& until);
    // Commits the records placed since the lock was taken and releases the lock.
    void publish() noexcept;

    std::unique_ptr<detail::topic_attachment> attached_;
    bool drop_ = false;
    std::uint64_t cached_head_ = 0;    // bytes before it may be overwritten
    std::uint64_t committed_tail_ = 0; // tail when the lock was taken
    std::uint64_t pending_tail_ = 0;   // tail after the records placed, until published
    std::uint64_t next_sequence_ = 0;  // of the next record placed
    std::uint64_t room_needed_ = 0;    // bytes the last make_room that failed needed
    detail::spin_state spin_;
};

// A subscriber to topic://NAME, creating the topic when it does not exist. It sees the
// messages published from the moment it subscribed (this constructor) on.
class topic_receiver final : public conveyor::receiver {
public:
    explicit topic_receiver(const endpoint& where, const channel_options& options = {});
    static std::unique_ptr<topic_receiver> open(const endpoint& where,
                                                const channel_options& options, std::error_code& ec,
                                                std::string* why = nullptr);
    ~topic_receiver() override;

    // Messages this subscriber lost so far, having fallen a whole ring behind in a topic
    // created with slow_subscriber::drop; always 0 with block.
    std::uint64_t dropped() const noexcept { return dropped_; }
    slow_subscriber slow() const noexcept;

    std::size_t max_message() const noexcept override;
    const endpoint& where() const noexcept override;
    std::string failure_detail(std::error_code ec) const override;

    // For the async calls (conveyor/shm/async.hpp).
    detail::wait_hooks hooks_for_async() noexcept;

protected:
    receive_status do_receive(std::vector<std::byte>& message, wait_duration wait,
                              std::error_code& ec) override;
    receive_status do_receive_batch(message_batch& batch, std::size_t max, wait_duration wait,
                                    std::error_code& ec) override;

private:
    explicit topic_receiver(std::unique_ptr<detail::topic_attachment> attached,
                            const channel_options& options);
    // Copies up to max records past the cursor with add(payload), checks that no publisher
    // overwrote them meanwhile, and moves the cursor past them; returns how many. Records
    // found overwritten are given back with drop() and the cursor moves to the oldest
    // record still there.
    template <class Add, class Drop>
    std::size_t read_some(std::size_t max, Add&& add, Drop&& drop, std::error_code& ec);
    template <class Read> receive_status take(wait_duration wait, std::error_code& ec, Read&& read);
    bool stream_over() const noexcept;
    bool wait_for_data(const deadline& until);
    void publish_progress(std::uint64_t messages) noexcept;

    std::unique_ptr<detail::topic_attachment> attached_;
    std::size_t min_producers_ = 1;
    bool drop_ = false;
    // The reader's own state, in private memory: the slot's copy is for others to read.
    std::uint64_t cursor_ = 0;
    std::uint64_t sequence_ = 0; // expected next
    std::uint64_t received_ = 0;
    std::uint64_t dropped_ = 0;
    detail::spin_state spin_;
};

} // namespace conveyor::shm
