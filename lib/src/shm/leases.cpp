// Lease ranges: adding, dropping, redelivering and repairing them (consumers' lock held).
#include "shm/leases.hpp"

#include <algorithm>
#include <array>

namespace conveyor::shm::detail {
namespace {

// Everything here is guarded by the consumers' lock; the atomics let conveyor-ctl read a
// snapshot without it.
constexpr auto relaxed = std::memory_order_relaxed;

std::uint32_t used_ranges(const consumer_slot& slot) noexcept {
    // A forged count must not send anyone past the array.
    return std::min<std::uint32_t>(slot.ranges_used.load(relaxed), max_lease_ranges);
}

bool holds_leases(const consumer_slot& slot) noexcept {
    const auto state = slot.state.load(relaxed);
    return (state == live_slot || state == orphaned_slot) && used_ranges(slot) != 0;
}

void release_slot(consumer_slot& slot) noexcept {
    slot.ranges_used.store(0, relaxed);
    slot.pid.store(0, relaxed);
    slot.state.store(free_slot, relaxed);
}

} // namespace

bool add_lease(queue_control& q, consumer_slot& slot, std::uint64_t begin, std::uint64_t end,
               bool redelivered) noexcept {
    const auto used = used_ranges(slot);
    if (used != 0) {
        auto& last = slot.ranges[used - 1];
        if (last.end.load(relaxed) == begin && range_redelivered(last) == redelivered) {
            last.end.store(end, relaxed);
            return true;
        }
    }
    if (used == max_lease_ranges) return false;
    auto& range = slot.ranges[used];
    range.begin.store(begin | (redelivered ? lease_range::redelivered_bit : 0), relaxed);
    range.end.store(end, relaxed);
    slot.ranges_used.store(used + 1, relaxed); // last: a range counts once it is whole
    q.lease_ranges.store(q.lease_ranges.load(relaxed) + 1, relaxed);
    return true;
}

void drop_leases(queue_control& q, consumer_slot& slot) noexcept {
    const auto used = used_ranges(slot);
    if (used == 0) return;
    slot.ranges_used.store(0, relaxed);
    const auto total = q.lease_ranges.load(relaxed);
    q.lease_ranges.store(total >= used ? total - used : 0, relaxed);
}

std::uint64_t oldest_needed(const queue_control& q) noexcept {
    std::uint64_t oldest = q.next.load(relaxed);
    if (q.lease_ranges.load(relaxed) == 0) return oldest;
    for (const auto& slot : q.consumers) {
        if (!holds_leases(slot)) continue;
        for (std::uint32_t i = 0, n = used_ranges(slot); i < n; ++i)
            oldest = std::min(oldest, range_begin(slot.ranges[i]));
    }
    return oldest;
}

lease_range* oldest_orphaned(queue_control& q, consumer_slot*& owner) noexcept {
    if (q.orphans.load(relaxed) == 0) return nullptr;
    lease_range* oldest = nullptr;
    for (auto& slot : q.consumers) {
        if (slot.state.load(relaxed) != orphaned_slot) continue;
        for (std::uint32_t i = 0, n = used_ranges(slot); i < n; ++i) {
            if (oldest && range_begin(slot.ranges[i]) >= range_begin(*oldest)) continue;
            oldest = &slot.ranges[i];
            owner = &slot;
        }
    }
    return oldest;
}

void advance_orphaned(queue_control& q, consumer_slot& owner, lease_range& range,
                      std::uint64_t begin) noexcept {
    if (begin < range.end.load(relaxed)) {
        range.begin.store(begin | lease_range::redelivered_bit, relaxed);
        return;
    }
    // The range is used up: the last range takes its place.
    const auto used = used_ranges(owner);
    auto& last = owner.ranges[used - 1];
    if (&last != &range) {
        range.begin.store(last.begin.load(relaxed), relaxed);
        range.end.store(last.end.load(relaxed), relaxed);
    }
    owner.ranges_used.store(used - 1, relaxed);
    const auto total = q.lease_ranges.load(relaxed);
    q.lease_ranges.store(total > 0 ? total - 1 : 0, relaxed);
    if (used - 1 == 0) {
        release_slot(owner);
        const auto orphans = q.orphans.load(relaxed);
        q.orphans.store(orphans > 0 ? orphans - 1 : 0, relaxed);
    }
}

void leave_slot(queue_control& q, consumer_slot& slot) noexcept {
    if (used_ranges(slot) == 0) {
        release_slot(slot);
        return;
    }
    slot.pid.store(0, relaxed);
    slot.state.store(orphaned_slot, relaxed);
    q.orphans.store(q.orphans.load(relaxed) + 1, relaxed);
}

std::uint64_t repair_leases(queue_control& q) noexcept {
    struct held {
        std::uint64_t begin, end;
        std::uint16_t slot;
        bool redelivered;
    };
    std::array<held, max_consumers * max_lease_ranges> all;
    std::size_t n = 0;
    const std::uint64_t head = q.head.load(relaxed);
    const std::uint64_t next = q.next.load(relaxed);
    for (std::size_t s = 0; s < max_consumers; ++s) {
        auto& slot = q.consumers[s];
        const auto state = slot.state.load(relaxed);
        if (state != live_slot && state != orphaned_slot) {
            if (state != free_slot) release_slot(slot); // a forged state: nobody's
            slot.ranges_used.store(0, relaxed);
            continue;
        }
        for (std::uint32_t i = 0, used = used_ranges(slot); i < used; ++i) {
            const auto& r = slot.ranges[i];
            // A take cut short between recording its range and moving next leaves a range
            // past next: those records were never taken.
            const auto begin = std::max(range_begin(r), head);
            const auto end = std::min(r.end.load(relaxed), next);
            if (begin < end)
                all[n++] = {begin, end, static_cast<std::uint16_t>(s), range_redelivered(r)};
        }
    }
    // A redelivery cut short between its two steps leaves records in two ranges: one keeps
    // them.
    std::sort(all.begin(), all.begin() + n,
              [](const held& a, const held& b) { return a.begin < b.begin; });
    std::uint64_t covered = head;
    std::uint32_t ranges = 0;
    for (auto& slot : q.consumers)
        slot.ranges_used.store(0, relaxed);
    for (std::size_t i = 0; i < n; ++i) {
        auto& h = all[i];
        h.begin = std::max(h.begin, covered);
        if (h.begin >= h.end) continue;
        covered = h.end;
        auto& slot = q.consumers[h.slot];
        const auto used = slot.ranges_used.load(relaxed);
        if (used == max_lease_ranges) continue; // cannot happen: each had room before
        slot.ranges[used].begin.store(h.begin | (h.redelivered ? lease_range::redelivered_bit : 0),
                                      relaxed);
        slot.ranges[used].end.store(h.end, relaxed);
        slot.ranges_used.store(used + 1, relaxed);
        ++ranges;
    }
    std::uint32_t orphans = 0;
    for (auto& slot : q.consumers) {
        if (slot.state.load(relaxed) != orphaned_slot) continue;
        if (slot.ranges_used.load(relaxed) == 0)
            release_slot(slot);
        else
            ++orphans;
    }
    q.lease_ranges.store(ranges, relaxed);
    q.orphans.store(orphans, relaxed);
    return std::max(head, oldest_needed(q));
}

} // namespace conveyor::shm::detail
