// One process's attachment to a segment's queue, as a producer or a consumer: its slot,
// the two locks with crash repair, the sweep that detaches the dead, and the checks that
// tell a corrupt segment from a busy one.
#pragma once

#include "conveyor/endpoint.hpp"
#include "shm/mapping.hpp"

#include <memory>
#include <string>
#include <system_error>

namespace conveyor::shm::detail {

enum class role { producer, consumer };

struct attach_request {
    segment_request segment;
    // Consumers: how many producers the stream needs (see stream_base).
    std::uint64_t min_producers = 1;
    // Producers: a named producer takes over the slot of its dead or paused namesake.
    std::string producer_name;
};

class attachment {
public:
    using time_point = process_lock::clock::time_point;

    // Opens (or creates) the segment and takes a slot in it; a durable queue opened after a
    // restart, or as a copy, is recovered first (recovery() says what that found).
    static std::unique_ptr<attachment> open(const endpoint& where, role as,
                                            const attach_request& request, std::error_code& ec,
                                            std::string& why);
    ~attachment(); // frees the slot if still held

    // Take the producers' or the consumers' lock, waiting until the deadline at most. If its
    // previous holder died, the state it guards is repaired first (docs/architecture.md,
    // "Crash recovery"). False when the deadline passed (ec clear) or the state is past
    // repair (ec = errc::segment_corrupt; problem() says why). When both are needed,
    // producers' first.
    bool lock_producers(time_point until, std::error_code& ec) noexcept;
    void unlock_producers() noexcept { control().producer_lock.unlock(); }
    bool lock_consumers(time_point until, std::error_code& ec) noexcept;
    void unlock_consumers() noexcept { control().consumer_lock.unlock(); }
    // Take the lock if it is free now, or its holder died (repairing as above); false, at
    // once, otherwise. For periodic sweeps.
    bool try_lock_producers() noexcept;
    bool try_lock_consumers() noexcept;

    // Producers' lock held: producers that died are detached (a named one is paused), and
    // consumers are woken when the last one is gone.
    void reap_dead_producers() noexcept;
    // Consumers' lock held: consumers that died are detached; their leases are orphaned,
    // to be delivered again.
    void reap_dead_consumers() noexcept;
    // Gives up this attachment's slot (a consumer's leases are orphaned); takes and
    // releases its side's lock.
    void detach() noexcept;
    bool attached() const noexcept { return slot_ != nullptr; }

    // Consumers' lock held: head <= next <= tail, and tail - head <= capacity. Otherwise the
    // segment was written by hand: sets ec to errc::segment_corrupt and problem().
    bool positions_sane(std::error_code& ec) noexcept;
    // Producers' lock held: the producers' view of the same (claimed and head).
    bool room_sane(std::uint64_t tail, std::uint64_t head, std::error_code& ec) noexcept;
    // Producers' lock held: tail <= claimed, at most a ring apart.
    bool claims_sane(std::uint64_t tail, std::uint64_t claimed, std::error_code& ec) noexcept;
    // Records what is wrong with the segment; returns errc::segment_corrupt.
    std::error_code corrupt(std::string what) noexcept;
    // The last thing found wrong with the segment, in words ("head 96 is past tail 64").
    const std::string& problem() const noexcept { return problem_; }
    // What recovering a durable queue found, or empty.
    const std::string& recovery() const noexcept { return recovery_; }

    queue_control& control() const noexcept { return map_->control(); }
    const segment_shape& shape() const noexcept { return map_->shape(); }
    std::byte* ring() const noexcept { return map_->ring(); }
    const mapping& map() const noexcept { return *map_; }
    const endpoint& where() const noexcept { return where_; }
    // This consumer's slot (consumers only, while attached).
    consumer_slot& own_leases() const noexcept { return *static_cast<consumer_slot*>(slot_); }

    // For consumers: the producers_attached count from which this consumer's stream counts.
    std::uint64_t stream_base = 0;

private:
    attachment(std::unique_ptr<mapping> map, const endpoint& where, role as)
        : map_(std::move(map)), where_(where), role_(as) {}
    bool take_slot(const attach_request& request, std::error_code& ec, std::string& why) noexcept;
    bool take_producer_slot(const std::string& name, bool& rejoined, std::error_code& ec,
                            std::string& why) noexcept;
    bool take_consumer_slot(std::error_code& ec, std::string& why) noexcept;
    bool repair_producers(std::error_code& ec) noexcept;
    bool repair_consumers(std::error_code& ec) noexcept;
    // Durable queues: resets what names processes of another boot or file, and drops a torn
    // tail of records; the file's flock held.
    void recover() noexcept;

    std::unique_ptr<mapping> map_;
    endpoint where_;
    role role_;
    participant_slot* slot_ = nullptr;
    std::string problem_;
    std::string recovery_;
};

} // namespace conveyor::shm::detail
