// One process's attachment to a segment's queue, as a producer or a consumer: its slot,
// the two locks with crash repair, and the sweep that detaches the dead.
#pragma once

#include "conveyor/endpoint.hpp"
#include "shm/mapping.hpp"

#include <memory>
#include <string>
#include <system_error>

namespace conveyor::shm::detail {

enum class role { producer, consumer };

class attachment {
public:
    // Opens (or creates) the segment and takes a slot in it. A consumer says how many
    // producers its stream needs (see stream_base).
    static std::unique_ptr<attachment> open(const endpoint& where, role as,
                                            const segment_request& request, std::error_code& ec,
                                            std::string& why, std::uint64_t min_producers = 1);
    ~attachment(); // frees the slot if still held

    // Take the producers' or the consumers' lock. If its previous owner died holding it,
    // the state it guards is repaired first (docs/architecture.md, "Crash recovery").
    // False only if the lock is unrecoverable. When both are needed, producers' first.
    bool lock_producers(std::error_code& ec) noexcept;
    void unlock_producers() noexcept { control().producer_lock.unlock(); }
    bool lock_consumers(std::error_code& ec) noexcept;
    void unlock_consumers() noexcept { control().consumer_lock.unlock(); }
    // Takes the producers' lock if it is free now (repairing as lock_producers does);
    // false, at once, if a live process holds it or it is unrecoverable.
    bool try_lock_producers() noexcept;

    // Frees the slots of producers that died and wakes consumers when the last producer
    // is gone. Producers' lock held.
    void reap_dead_producers() noexcept;
    // The same for consumers. Consumers' lock held.
    void reap_dead_consumers() noexcept;
    // Gives up this attachment's slot; takes and releases its side's lock.
    void detach() noexcept;
    bool attached() const noexcept { return slot_ != nullptr; }

    queue_control& control() const noexcept { return map_->control(); }
    const segment_header& header() const noexcept { return map_->header(); }
    std::byte* ring() const noexcept { return map_->ring(); }
    const endpoint& where() const noexcept { return where_; }

    // For consumers: the producers_attached count from which this consumer's stream counts.
    std::uint64_t stream_base = 0;

private:
    attachment(std::unique_ptr<mapping> map, const endpoint& where, role as)
        : map_(std::move(map)), where_(where), role_(as) {}
    bool take_slot(std::uint64_t min_producers, std::error_code& ec, std::string& why) noexcept;
    void repair_producers() noexcept;
    void repair_consumers() noexcept;

    std::unique_ptr<mapping> map_;
    endpoint where_;
    role role_;
    participant_slot* slot_ = nullptr;
};

} // namespace conveyor::shm::detail
