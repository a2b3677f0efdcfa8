// Attaching to a queue, and recovering it when a process dies holding one of its locks.
#include "shm/attachment.hpp"

#include "conveyor/error.hpp"

#include "shm/wait.hpp"

#include <algorithm>
#include <cstring>

namespace conveyor::shm::detail {
namespace {

// Membership fields change under their side's lock; readers on the other side use acquire
// to see the ring as it was when the membership changed.
constexpr auto relaxed = std::memory_order_relaxed;

participant_slot* free_slot(participant_slot* slots, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i)
        if (slots[i].pid.load(relaxed) == 0) return &slots[i];
    return nullptr;
}

// Frees dead processes' slots; returns how many slots are in use afterwards.
unsigned sweep(participant_slot* slots, std::size_t n) noexcept {
    unsigned used = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const auto who = slots[i].identity();
        if (who.pid == 0) continue;
        if (conveyor::detail::is_alive(who))
            ++used;
        else
            slots[i].pid.store(0, relaxed);
    }
    return used;
}

// A holder of either lock leaves it within a microsecond or two unless it is descheduled;
// polling that long is cheaper than the futex sleep and wake-up that a blocked robust
// pthread_mutex_lock pays at once (it never spins).
constexpr int lock_polls = 32;

bool take_lock(robust_mutex& lock, std::error_code& ec, bool& owner_died) noexcept {
    robust_mutex::acquired how = robust_mutex::acquired::clean;
    for (int poll = 0, pauses = 1; poll < lock_polls; ++poll, pauses = std::min(pauses * 2, 64)) {
        if (lock.try_lock(how, ec)) {
            owner_died = how == robust_mutex::acquired::owner_died;
            return true;
        }
        if (ec) return false;
        for (int i = 0; i < pauses; ++i)
            cpu_relax();
    }
    owner_died = lock.lock(ec) == robust_mutex::acquired::owner_died;
    return !ec;
}

} // namespace

std::unique_ptr<attachment> attachment::open(const endpoint& where, role as,
                                             const segment_request& request, std::error_code& ec,
                                             std::string& why, std::uint64_t min_producers) {
    auto map = mapping::open_or_create(where.name(), request, ec, why);
    if (!map) return nullptr;
    std::unique_ptr<attachment> result(new attachment(std::move(map), where, as));
    if (!result->take_slot(min_producers, ec, why)) return nullptr;
    return result;
}

attachment::~attachment() {
    detach();
}

bool attachment::take_slot(std::uint64_t min_producers, std::error_code& ec,
                           std::string& why) noexcept {
    auto& q = control();
    const bool producer = role_ == role::producer;
    // Producers' lock for both roles: it guards the stream counters a consumer reads here.
    if (!lock_producers(ec)) {
        why = where_.uri() + ": " + ec.message();
        return false;
    }
    const bool idle = q.producers_live.load(relaxed) == 0 &&
                      q.head.load(std::memory_order_acquire) == q.tail.load(relaxed);
    if (!producer) {
        // A consumer joins the current stream, leftovers included, unless that stream is
        // over: idle, with as many producers come and gone as this consumer needs. Then it
        // waits for the next one.
        const auto attached = q.producers_attached.load(relaxed);
        const auto start = q.stream_start.load(relaxed);
        stream_base = idle && attached - start >= min_producers ? attached : start;
        unlock_producers();
        if (!lock_consumers(ec)) {
            why = where_.uri() + ": " + ec.message();
            return false;
        }
    }
    participant_slot* slots = producer ? q.producers : q.consumers;
    const std::size_t n = producer ? max_producers : max_consumers;
    slot_ = free_slot(slots, n);
    if (!slot_) {
        producer ? reap_dead_producers() : reap_dead_consumers();
        slot_ = free_slot(slots, n);
    }
    if (!slot_) {
        producer ? unlock_producers() : unlock_consumers();
        ec = errc::too_many_attached;
        why = where_.uri() + ": all " + std::to_string(n) + " " +
              (producer ? "producer" : "consumer") + " slots are in use";
        return false;
    }
    const auto me = conveyor::detail::self_identity();
    slot_->start_time.store(me.start_time, relaxed);
    slot_->pid.store(me.pid, relaxed);
    if (producer) {
        // A producer arriving at an idle queue begins a new stream.
        if (idle) q.stream_start.store(q.producers_attached.load(relaxed), relaxed);
        q.producers_attached.fetch_add(1, relaxed);
        q.producers_live.fetch_add(1, std::memory_order_release);
        unlock_producers();
        q.not_empty.notify_all(); // consumers waiting for a stream look again
    } else {
        q.consumers_live.fetch_add(1, relaxed);
        unlock_consumers();
    }
    return true;
}

void attachment::detach() noexcept {
    if (!slot_) return;
    auto& q = control();
    std::error_code ec;
    if (role_ == role::producer) {
        if (!lock_producers(ec)) return; // unrecoverable: the others' sweeps free the slot
        slot_->pid.store(0, relaxed);
        // release: a consumer that sees the count drop also sees every record committed.
        const bool last = q.producers_live.fetch_sub(1, std::memory_order_release) == 1;
        unlock_producers();
        if (last) q.not_empty.notify_all();
    } else {
        if (!lock_consumers(ec)) return;
        slot_->pid.store(0, relaxed);
        q.consumers_live.fetch_sub(1, relaxed);
        unlock_consumers();
    }
    slot_ = nullptr;
}

void attachment::reap_dead_producers() noexcept {
    auto& q = control();
    const unsigned live = sweep(q.producers, max_producers);
    const bool last_gone = live == 0 && q.producers_live.load(relaxed) != 0;
    q.producers_live.store(live, std::memory_order_release);
    if (last_gone) q.not_empty.notify_all();
}

void attachment::reap_dead_consumers() noexcept {
    auto& q = control();
    q.consumers_live.store(sweep(q.consumers, max_consumers), relaxed);
}

bool attachment::lock_producers(std::error_code& ec) noexcept {
    bool owner_died = false;
    if (!take_lock(control().producer_lock, ec, owner_died)) return false;
    if (owner_died) {
        repair_producers();
        control().producer_lock.mark_consistent();
    }
    return true;
}

bool attachment::try_lock_producers() noexcept {
    auto& lock = control().producer_lock;
    robust_mutex::acquired how = robust_mutex::acquired::clean;
    std::error_code ec;
    if (!lock.try_lock(how, ec)) return false;
    if (how == robust_mutex::acquired::owner_died) {
        repair_producers();
        lock.mark_consistent();
    }
    return true;
}

bool attachment::lock_consumers(std::error_code& ec) noexcept {
    bool owner_died = false;
    if (!take_lock(control().consumer_lock, ec, owner_died)) return false;
    if (owner_died) {
        repair_consumers();
        control().consumer_lock.mark_consistent();
    }
    return true;
}

// A producer died inside its critical section. A record commits by a single store of
// tail, so whatever it wrote past tail is invisible and will be overwritten; what may be
// stale is membership, rebuilt from the slots.
void attachment::repair_producers() noexcept {
    auto& q = control();
    q.repairs.fetch_add(1, relaxed);
    reap_dead_producers();
    q.not_empty.notify_all();
    q.not_full.notify_all();
}

// A consumer died inside its critical section. A record is taken by a single store of
// head, so the ring is whole: a record it was copying is still there for the next
// consumer. The records still queued are checked, in case the dead process scribbled.
void attachment::repair_consumers() noexcept {
    auto& q = control();
    const auto& h = header();
    q.repairs.fetch_add(1, relaxed);
    const std::uint64_t tail = q.tail.load(std::memory_order_acquire);
    std::uint64_t at = q.head.load(relaxed);
    while (at < tail) {
        const std::uint64_t offset = at % h.capacity;
        record_header record;
        std::memcpy(&record, ring() + offset, sizeof record);
        const std::uint64_t size =
            record.kind == wrap_record ? h.capacity - offset : record_size(record.size);
        const bool whole = (record.kind == wrap_record ||
                            (record.kind == message_record && record.size <= h.max_message &&
                             offset + size <= h.capacity)) &&
                           at + size <= tail;
        if (!whole) {
            // Cannot happen with whole commits; skip what cannot be read rather than wedge.
            q.head.store(tail, std::memory_order_release);
            break;
        }
        at += size;
    }
    reap_dead_consumers();
    q.not_empty.notify_all();
    q.not_full.notify_all();
}

} // namespace conveyor::shm::detail
