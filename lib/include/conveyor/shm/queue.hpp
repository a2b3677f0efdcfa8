// The shared-memory queue: a bounded ring of variable-size records in a named segment (or a
// file), with one crash-safe process lock for producers and one for consumers. Many
// producers and many consumers; each message goes to one consumer; one producer's messages
// arrive in order. docs/architecture.md has the commit, acknowledgement and crash-recovery
// protocols and the end-of-stream rules.
#pragma once

#include "conveyor/channel.hpp"
#include "conveyor/channel_options.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace conveyor::shm {
namespace detail {
class attachment;
struct lease_range;
struct consumer_slot;
struct wait_hooks;
// What a waiter has learnt about polling before it sleeps (lib/src/shm/wait.hpp).
struct spin_state {
    wait_duration window{-1}; // negative until the first wait
    unsigned waits = 0;
};
} // namespace detail
struct deadline;

// A producer attached to shm://NAME (or file:///PATH: the same queue in a file that outlives
// the machine's restarts). Creates the queue with options when it does not exist, else joins
// it (options.capacity, max_message, mode and sync are then ignored). options.producer_name
// makes it a named producer: one that dies pauses its stream instead of ending it, and the
// next sender of that name takes its place.
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
    // On a durable queue with sync batch or always, returns once they are on disk.
    void commit() noexcept;

    // A durable queue opened after a crash: what recovering it found ("dropped 3 torn
    // records..."); empty otherwise.
    const std::string& recovery() const noexcept;

    std::size_t max_message() const noexcept override;
    const endpoint& where() const noexcept override;
    std::string failure_detail(std::error_code ec) const override;

    // For the async calls (conveyor/shm/async.hpp).
    detail::wait_hooks hooks_for_async() noexcept;

protected:
    bool do_send(bytes_view message, wait_duration wait, std::error_code& ec) override;
    std::size_t do_send_batch(std::span<const bytes_view> messages, wait_duration wait,
                              std::error_code& ec) override;
    void do_close(std::error_code& ec) override;

private:
    explicit queue_sender(std::unique_ptr<detail::attachment> attached);
    // Checks that a message of size bytes may be sent now; sets ec if not.
    bool may_send(std::size_t size, std::error_code& ec) const noexcept;
    // Takes the producers' lock and waits for room for a record of size bytes (and a free
    // claim where one is needed: off_lock, to copy it after releasing the lock); returns
    // where its payload goes or nullptr (lock not held).
    std::byte* claim(std::size_t size, bool off_lock, wait_duration wait, std::error_code& ec);
    bool claim_available() const noexcept;
    // A large message: claimed under the lock, copied outside it, committed in order.
    bool send_outside_lock(bytes_view message, wait_duration wait, std::error_code& ec);
    // Producers' lock held: commits what can be, releases the lock, wakes whom it concerns.
    void finish_claims() noexcept;
    // Producers' lock held: room for one more record past pending_tail_, or nullptr.
    std::byte* place(std::size_t size) noexcept;
    bool wait_for_room(std::uint64_t required, std::uint64_t tail_seen, const deadline& until);
    // Commits the records claimed since the lock was taken and releases the lock.
    void publish(std::uint64_t records) noexcept;
    // Durable queues: the checksums of the records about to be committed, and their sync.
    void seal_records() noexcept;
    void sync_records(std::uint64_t from, std::uint64_t to) noexcept;
    void abandon_reservation() noexcept;

    std::unique_ptr<detail::attachment> attached_;
    std::uint64_t cached_head_ = 0;    // a head seen earlier: free space is at least this much
    std::uint64_t committed_tail_ = 0; // claimed when the lock was taken: these records' start
    std::uint64_t tail_at_claim_ = 0;  // tail when the lock was taken
    std::uint64_t pending_tail_ = 0;   // tail after the claimed record, until published
    std::uint64_t room_needed_ = 0;    // bytes the last place() that failed needed
    std::uint64_t reserved_ = 0;       // records awaiting commit(); producers' lock held if any
    detail::spin_state spin_;
};

// A consumer attached to shm://NAME (or file:///PATH), creating the queue when it does not
// exist. With options.acknowledge, the messages it takes stay the queue's until ack(): if it
// dies or closes first they are delivered again, before newer ones, marked redelivered.
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
    // in the same terms as receive_view; one release() takes them all. redelivered() says
    // whether they are redeliveries (one call lends one kind or the other).
    receive_status receive_views(std::vector<bytes_view>& views, std::size_t max,
                                 wait_duration wait, std::error_code& ec);
    receive_status receive_views(std::vector<bytes_view>& views, std::size_t max); // waits
    // Takes the lent messages off the queue (with acknowledge: leases them until ack()).
    void release() noexcept;

    // As queue_sender::recovery.
    const std::string& recovery() const noexcept;

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
    void do_ack(std::error_code& ec) override;

private:
    // Where the records of a take come from: an orphan's lease range (redeliveries), or the
    // records past next.
    struct source {
        std::uint64_t begin = 0;
        std::uint64_t limit = 0;               // the first position past what may be taken
        detail::lease_range* orphan = nullptr; // null: past next
        detail::consumer_slot* owner = nullptr;
    };

    queue_receiver(std::unique_ptr<detail::attachment> attached, const channel_options& options);
    // Takes the consumers' lock with a message to take; returns end_of_stream or empty
    // (lock not held) when there is none to wait for.
    receive_status claim(wait_duration wait, std::error_code& ec);
    // Consumers' lock held: picks where the next records come from; false (ec set) when
    // this receiver cannot lease more.
    bool choose_source(std::error_code& ec) noexcept;
    // Consumers' lock held: moves past wrap records to the next message from position and
    // describes it in claimed_; false when there is none. Sets ec on a malformed record.
    bool find_record(std::uint64_t position, std::error_code& ec) noexcept;
    // find_record's look past a record that is not a message: wraps, skips, the end, or
    // a malformed one.
    bool find_record_after(std::uint64_t position, std::error_code& ec) noexcept;
    // Consumers' lock held: takes the records of the source up to end (messages of them).
    // hold: lease them even without acknowledgement, to copy them after the lock is
    // released; let_go_held() ends that lease.
    void take_until(std::uint64_t end, std::uint64_t messages, bool hold = false) noexcept;
    // Whether the claimed message is copied outside the lock (large ones).
    bool copy_outside_lock() const noexcept;
    void let_go_held() noexcept;
    // Releases the consumers' lock after a take, and wakes producers.
    void finish_take() noexcept;
    bool wait_for_data(const deadline& until);
    // Without the lock: a message, an orphan's leases or the end looks there.
    bool data_visible() const noexcept;
    // Between sleeps: producers that died count as closed, dead consumers' leases return.
    void sweep_dead_peers() noexcept;
    bool stream_over() const noexcept;
    void sweep_dead_consumers() noexcept;

    std::unique_ptr<detail::attachment> attached_;
    std::size_t min_producers_ = 1;
    bool acknowledge_ = false;
    source source_;
    std::uint64_t claimed_next_ = 0; // the position after the claimed record
    bytes_view claimed_;             // the claimed record's payload, in the ring
    std::uint64_t viewing_ = 0;      // messages lent; consumers' lock held if any
    std::vector<bytes_view> held_;   // a batch's large messages, copied after the lock
    std::chrono::steady_clock::time_point last_sweep_{};
    detail::spin_state spin_;
};

} // namespace conveyor::shm
