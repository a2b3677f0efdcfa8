// Attaching to a queue, and recovering it when a process dies holding its lock.
#include "shm/attachment.hpp"

#include "conveyor/error.hpp"

#include <cstring>

namespace conveyor::shm::detail {
namespace {

constexpr auto relaxed = std::memory_order_relaxed; // every field here changes under the lock

unsigned count_used(const participant_slot* slots, std::size_t n) noexcept {
    unsigned used = 0;
    for (std::size_t i = 0; i < n; ++i)
        used += slots[i].pid.load(relaxed) != 0;
    return used;
}

} // namespace

std::unique_ptr<attachment> attachment::open(const endpoint& where, role as,
                                             const segment_request& request, std::error_code& ec,
                                             std::string& why) {
    auto map = mapping::open_or_create(where.name(), request, ec, why);
    if (!map) return nullptr;
    std::unique_ptr<attachment> result(new attachment(std::move(map), where, as));
    if (!result->take_slot(ec, why)) return nullptr;
    return result;
}

attachment::~attachment() {
    if (!slot_) return;
    std::error_code ec;
    if (!lock(ec)) return; // an unrecoverable lock: the sweep of others frees our slot
    detach();
    unlock();
}

bool attachment::take_slot(std::error_code& ec, std::string& why) noexcept {
    if (!lock(ec)) {
        why = where_.uri() + ": " + ec.message();
        return false;
    }
    auto& q = control();
    participant_slot* slots = role_ == role::producer ? q.producers : q.consumers;
    const std::size_t n = role_ == role::producer ? max_producers : max_consumers;
    for (int pass = 0; pass < 2 && !slot_; ++pass) {
        if (pass == 1) reap_dead();
        for (std::size_t i = 0; i < n; ++i) {
            if (slots[i].pid.load(relaxed) == 0) {
                slot_ = &slots[i];
                break;
            }
        }
    }
    if (!slot_) {
        unlock();
        ec = errc::too_many_attached;
        why = where_.uri() + ": all " + std::to_string(n) + " " +
              (role_ == role::producer ? "producer" : "consumer") + " slots are in use";
        return false;
    }
    const bool idle =
        q.producers_live.load(relaxed) == 0 && q.head.load(relaxed) == q.tail.load(relaxed);
    const auto me = conveyor::detail::self_identity();
    slot_->start_time.store(me.start_time, relaxed);
    slot_->pid.store(me.pid, relaxed);
    if (role_ == role::producer) {
        // A producer arriving at an idle queue begins a new stream.
        if (idle) q.stream_start.store(q.producers_attached.load(relaxed), relaxed);
        q.producers_attached.fetch_add(1, relaxed);
        q.producers_live.fetch_add(1, relaxed);
        q.not_empty.notify_all(); // consumers waiting for a stream re-check
    } else {
        // A consumer arriving at an idle queue waits for the next stream; otherwise it
        // joins the current one, leftovers included.
        stream_base = idle ? q.producers_attached.load(relaxed) : q.stream_start.load(relaxed);
        q.consumers_live.fetch_add(1, relaxed);
    }
    unlock();
    return true;
}

void attachment::detach() noexcept {
    if (!slot_) return;
    auto& q = control();
    slot_->pid.store(0, relaxed);
    slot_ = nullptr;
    if (role_ == role::producer) {
        if (q.producers_live.fetch_sub(1, relaxed) == 1) q.not_empty.notify_all();
    } else {
        q.consumers_live.fetch_sub(1, relaxed);
    }
}

void attachment::reap_dead() noexcept {
    auto& q = control();
    auto sweep = [](participant_slot* slots, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
            const auto who = slots[i].identity();
            if (who.pid != 0 && !conveyor::detail::is_alive(who)) slots[i].pid.store(0, relaxed);
        }
    };
    sweep(q.producers, max_producers);
    sweep(q.consumers, max_consumers);
    const unsigned producers = count_used(q.producers, max_producers);
    const bool last_producer_gone = producers == 0 && q.producers_live.load(relaxed) != 0;
    q.producers_live.store(producers, relaxed);
    q.consumers_live.store(count_used(q.consumers, max_consumers), relaxed);
    if (last_producer_gone) q.not_empty.notify_all();
}

bool attachment::lock(std::error_code& ec) noexcept {
    auto how = control().lock.lock(ec);
    if (ec) return false;
    if (how == robust_mutex::acquired::owner_died) {
        repair();
        control().lock.mark_consistent();
    }
    return true;
}

// The dead owner may have stopped anywhere inside a critical section. Records commit by a
// single store of tail and are taken by a single store of head, so the ring itself is
// whole; what can be stale is derived state, rebuilt here from the ring and the slots.
void attachment::repair() noexcept {
    auto& q = control();
    const auto& h = header();
    q.repairs.fetch_add(1, relaxed);
    std::uint64_t head = q.head.load(relaxed);
    std::uint64_t tail = q.tail.load(relaxed);
    if (head > tail) { // an empty queue's reset stopped between its two stores
        tail = head;
        q.tail.store(tail, relaxed);
    }
    std::uint64_t messages = 0;
    std::uint64_t at = head;
    while (at < tail) {
        const std::uint64_t offset = at % h.capacity;
        record_header record;
        std::memcpy(&record, ring() + offset, sizeof record);
        if (record.kind == wrap_record) {
            if (at + (h.capacity - offset) > tail) break;
            at += h.capacity - offset;
            continue;
        }
        if (record.kind != message_record || record.size > h.max_message ||
            offset + record_size(record.size) > h.capacity || at + record_size(record.size) > tail)
            break; // cannot happen with whole commits; keep what is whole before it
        ++messages;
        at += record_size(record.size);
    }
    if (at != tail) q.tail.store(at, relaxed);
    q.messages.store(messages, relaxed);
    reap_dead();
    q.not_empty.notify_all();
    q.not_full.notify_all();
}

} // namespace conveyor::shm::detail
