// The shared-memory queue: a bounded ring of variable-size records in a named segment, with
// one robust process-shared lock for producers and one for consumers. Many producers and
// many consumers; each message goes to one consumer; one producer's messages arrive in
// order. docs/architecture.md has the commit and crash-recovery protocol and the
// end-of-stream rules.
#pragma once

#include "conveyor/channel.hpp"
#include "conveyor/channel_options.hpp"

#include <memory>
#include <string>

namespace conveyor::shm {
namespace detail {
class attachment;
// What a waiter has learnt about polling before it sleeps (lib/src/shm/wait.hpp).
struct spin_state {
    wait_duration window{-1}; // negative until the first wait
    unsigned waits = 0;
};
} // namespace detail
struct deadline;

// A producer attached to shm://NAME. Creates the segment with options when it does not
// exist, else joins it (options.capacity and max_message are then ignored).
class queue_sender final : public conveyor::sender {
public:
    explicit queue_sender(const endpoint& where, const channel_options& options = {});
    static std::unique_ptr<queue_sender> open(const endpoint& where, const channel_options& options,
                                              std::error_code& ec, std::string* why = nullptr);
    ~queue_sender() override; // drops a reservation not committed; closes the stream

    // Zero copy: room for a message of exactly size bytes inside the queue, to be written
    // in place and published by commit(). Waits like send_for while the queue is full and
    // returns a span whose data() is null if wait passes. Until commit, this sender holds
    // the producers' lock: other producers wait, consumers do not.
    // Further calls before commit() reserve the records that follow, and commit() publishes
    // them all at once. Such a call never waits (it holds the lock that a wait would need
    // others to take): with no room behind the pending records it returns a null span;
    // commit() and reserve again.
    std::span<std::byte> reserve(std::size_t size, wait_duration wait, std::error_code& ec);
    std::span<std::byte> reserve(std::size_t size); // waits while full; throws
    // Publishes every reserved message; they become visible to consumers whole, at once.
    void commit() noexcept;

    std::size_t max_message() const noexcept override;
    const endpoint& where() const noexcept override;

protected:
    bool do_send(bytes_view message, wait_duration wait, std::error_code& ec) override;
    std::size_t do_send_batch(std::span<const bytes_view> messages, wait_duration wait,
                              std::error_code& ec) override;
    void do_close(std::error_code& ec) override;

private:
    explicit queue_sender(std::unique_ptr<detail::attachment> attached);
    // Checks that a message of size bytes may be sent now; sets ec if not.
    bool may_send(std::size_t size, std::error_code& ec) const noexcept;
    // Takes the producers' lock and waits for room for a record of size bytes; returns
    // where its payload goes or nullptr (lock not held).
    std::byte* claim(std::size_t size, wait_duration wait, std::error_code& ec);
    // Producers' lock held: room for one more record past pending_tail_, or nullptr.
    std::byte* place(std::size_t size) noexcept;
    bool wait_for_room(std::uint64_t required, std::uint64_t tail_seen, const deadline& until);
    // Commits the records claimed since the lock was taken and releases the lock.
    void publish(std::uint64_t records) noexcept;
    void abandon_reservation() noexcept;

    std::unique_ptr<detail::attachment> attached_;
    std::uint64_t cached_head_ = 0;  // a head seen earlier: free space is at least this much
    std::uint64_t pending_tail_ = 0; // tail after the claimed record, until published
    std::uint64_t room_needed_ = 0;  // bytes the last place() that failed needed
    std::uint64_t reserved_ = 0;     // records awaiting commit(); producers' lock held if any
    detail::spin_state spin_;
};

// A consumer attached to shm://NAME, creating the segment when it does not exist.
class queue_receiver final : public conveyor::receiver {
public:
    explicit queue_receiver(const endpoint& where, const channel_options& options = {});
    static std::unique_ptr<queue_receiver> open(const endpoint& where,
                                                const channel_options& options, std::error_code& ec,
                                                std::string* why = nullptr);
    ~queue_receiver() override; // a lent view not released goes back to the queue

    // Zero copy: lends the oldest message where it lies in the queue, until release().
    // Returns message, empty (nothing within wait) or end_of_stream. Until release, this
    // receiver holds the consumers' lock: other consumers wait, producers do not. A
    // consumer that dies holding a view leaves the message for the next consumer.
    receive_status receive_view(bytes_view& view, wait_duration wait, std::error_code& ec);
    receive_status receive_view(bytes_view& view); // waits; throws
    // Zero copy, many at once: lends the oldest messages, up to max of them, oldest first,
    // in the same terms as receive_view; one release() takes them all.
    receive_status receive_views(std::vector<bytes_view>& views, std::size_t max,
                                 wait_duration wait, std::error_code& ec);
    receive_status receive_views(std::vector<bytes_view>& views, std::size_t max); // waits
    // Takes the lent messages off the queue.
    void release() noexcept;

    std::size_t max_message() const noexcept override;
    const endpoint& where() const noexcept override;

protected:
    receive_status do_receive(std::vector<std::byte>& message, wait_duration wait,
                              std::error_code& ec) override;
    receive_status do_receive_batch(message_batch& batch, std::size_t max, wait_duration wait,
                                    std::error_code& ec) override;

private:
    explicit queue_receiver(std::unique_ptr<detail::attachment> attached);
    // Takes the consumers' lock with a message at head; returns end_of_stream or empty
    // (lock not held) when there is none to wait for.
    receive_status claim(wait_duration wait, std::error_code& ec);
    // Consumers' lock held: moves head past wrap records to the next committed record and
    // describes it in claimed_; false when there is none. Sets ec on a malformed record.
    bool find_record(std::uint64_t& head, std::error_code& ec) noexcept;
    // Consumers' lock held: takes everything claimed up to head off the queue.
    void take_until(std::uint64_t head, std::uint64_t messages) noexcept;
    bool wait_for_data(const deadline& until);
    bool stream_over() const noexcept;

    std::unique_ptr<detail::attachment> attached_;
    std::size_t min_producers_ = 1;
    std::uint64_t cached_tail_ = 0;  // a tail seen earlier: records up to it are committed
    std::uint64_t claimed_head_ = 0; // head once the claimed record is taken
    bytes_view claimed_;             // the claimed record's payload, in the ring
    std::uint64_t viewing_ = 0;      // messages lent; consumers' lock held if any
    detail::spin_state spin_;
};

} // namespace conveyor::shm
