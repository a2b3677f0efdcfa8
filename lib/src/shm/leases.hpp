// Acknowledged delivery's bookkeeping: which records between head and next each consumer
// holds, and which wait to be delivered again. docs/architecture.md, "Acknowledged
// delivery", has the protocol; every function here runs under the consumers' lock.
//
// A consumer that takes records records them as a lease range in its slot before it moves
// next past them; ack() empties its ranges and moves head to the oldest record still held.
// A consumer that dies or closes holding ranges leaves its slot orphaned: takers deliver
// the orphan's records first, oldest first, before any record past next.
#pragma once

#include "shm/layout.hpp"

#include <cstdint>

namespace conveyor::shm::detail {

// Adds the records from begin to end to slot's leases, extending its last range when they
// follow it. False when every range is in use and they do not follow the last one.
bool add_lease(queue_control& q, consumer_slot& slot, std::uint64_t begin, std::uint64_t end,
               bool redelivered) noexcept;

// Drops every lease of slot: its records are done with.
void drop_leases(queue_control& q, consumer_slot& slot) noexcept;

// The oldest record still needed: the oldest leased one, or next when none is leased.
std::uint64_t oldest_needed(const queue_control& q) noexcept;

// The orphaned range holding the oldest record waiting to be delivered again, or null.
lease_range* oldest_orphaned(queue_control& q, consumer_slot*& owner) noexcept;

// Shortens an orphaned range to start at begin; frees the slot once it holds nothing.
void advance_orphaned(queue_control& q, consumer_slot& owner, lease_range& range,
                      std::uint64_t begin) noexcept;

// Makes a departing consumer's slot an orphan if it holds leases, else frees it.
void leave_slot(queue_control& q, consumer_slot& slot) noexcept;

// After a consumer died holding the lock: every range cut to lie between head and next,
// overlaps (a take cut short between its two steps) removed, counts rebuilt. Returns head's
// new position.
std::uint64_t repair_leases(queue_control& q) noexcept;

inline std::uint64_t range_begin(const lease_range& r) noexcept {
    return r.begin.load(std::memory_order_relaxed) & ~lease_range::redelivered_bit;
}
inline bool range_redelivered(const lease_range& r) noexcept {
    return (r.begin.load(std::memory_order_relaxed) & lease_range::redelivered_bit) != 0;
}

} // namespace conveyor::shm::detail
