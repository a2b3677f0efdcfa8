// One process's attachment to a topic, as a publisher or a subscriber: its slot, the
// publishers' lock with crash repair, and the sweep that detaches the dead.
// docs/architecture.md, "Topics", has the protocol.
#pragma once

#include "conveyor/endpoint.hpp"
#include "shm/attachment.hpp"
#include "shm/topic_layout.hpp"

#include <memory>
#include <string>
#include <system_error>

namespace conveyor::shm::detail {

class topic_attachment {
public:
    using time_point = process_lock::clock::time_point;

    // Opens (or creates) the topic and takes a slot in it: a publisher (role::producer) or a
    // subscriber (role::consumer), which from then on sees every message published.
    static std::unique_ptr<topic_attachment> open(const endpoint& where, role as,
                                                  const attach_request& request,
                                                  std::error_code& ec, std::string& why);
    ~topic_attachment(); // frees the slot if still held

    // Takes the publishers' lock, waiting until the deadline at most; a previous holder that
    // died is repaired after first (docs/architecture.md, "Topics"). False when the deadline
    // passed (ec clear) or the topic is past repair (ec = errc::segment_corrupt).
    bool lock(time_point until, std::error_code& ec) noexcept;
    void unlock() noexcept { control().publisher_lock.unlock(); }
    // Sweeps the publishers and subscribers that died, if the lock is free now; for waiters.
    void sweep_dead() noexcept;
    // Gives up this attachment's slot; takes and releases the lock.
    void detach() noexcept;
    bool attached() const noexcept { return slot_ != nullptr; }

    // Lock held: head <= tail and tail - head <= capacity; else ec = errc::segment_corrupt.
    bool positions_sane(std::uint64_t head, std::uint64_t tail, std::error_code& ec) noexcept;
    // Records what is wrong with the topic; returns errc::segment_corrupt.
    std::error_code corrupt(std::string what) noexcept;
    const std::string& problem() const noexcept { return problem_; }

    topic_control& control() const noexcept { return map_->topic(); }
    const segment_shape& shape() const noexcept { return map_->shape(); }
    std::byte* ring() const noexcept { return map_->ring(); }
    const endpoint& where() const noexcept { return where_; }
    // This subscriber's slot (subscribers only, while attached).
    subscriber_slot& subscription() const noexcept { return *static_cast<subscriber_slot*>(slot_); }

    // Subscribers: where reading starts (the tail when it subscribed) and the sequence
    // number of the message there, and the producers_attached count from which its stream
    // counts (as a queue consumer's).
    std::uint64_t first_position = 0;
    std::uint64_t first_sequence = 0;
    std::uint64_t stream_base = 0;

private:
    topic_attachment(std::unique_ptr<mapping> map, const endpoint& where, role as)
        : map_(std::move(map)), where_(where), role_(as) {}
    bool take_slot(const attach_request& request, std::error_code& ec, std::string& why) noexcept;
    bool take_subscriber_slot(std::error_code& ec, std::string& why) noexcept;
    // Lock held: frees dead subscribers' slots and pauses or frees dead publishers'.
    void reap_dead() noexcept;
    void free_subscriber(std::size_t index) noexcept;
    bool repair(std::error_code& ec) noexcept;

    std::unique_ptr<mapping> map_;
    endpoint where_;
    role role_;
    participant_slot* slot_ = nullptr;
    std::string problem_;
};

} // namespace conveyor::shm::detail
