// Attaching to a topic, sweeping the dead, and repairing it when a process dies holding
// the publishers' lock.
#include "shm/topic_attachment.hpp"

#include "conveyor/error.hpp"
#include "detail/process_liveness.hpp"
#include "shm/producer_slots.hpp"
#include "shm/records.hpp"

#include <bit>
#include <chrono>

namespace conveyor::shm::detail {
namespace {

// Membership changes under the publishers' lock; see topic_layout.hpp for what else it
// guards.
constexpr auto relaxed = std::memory_order_relaxed;

// How long opening and closing wait for the publishers' lock (a forged holder that looks
// alive would keep it for ever) before they say so, or leave the slot to the others' sweep.
constexpr std::chrono::seconds attach_patience{10};
constexpr std::chrono::seconds detach_patience{2};

topic_attachment::time_point after(std::chrono::seconds wait) {
    return process_lock::clock::now() + wait;
}

} // namespace

std::unique_ptr<topic_attachment> topic_attachment::open(const endpoint& where, role as,
                                                         const attach_request& request,
                                                         std::error_code& ec, std::string& why) {
    if (request.producer_name.size() >= producer_name_capacity ||
        request.producer_name.find('\0') != std::string::npos) {
        ec = errc::invalid_argument;
        why = where.uri() + ": a producer name is at most " +
              std::to_string(producer_name_capacity - 1) + " bytes, without NUL";
        return nullptr;
    }
    auto map = mapping::open_or_create(segment_location::of(where), request.segment, ec, why);
    if (!map) return nullptr;
    std::unique_ptr<topic_attachment> result(new topic_attachment(std::move(map), where, as));
    if (!result->take_slot(request, ec, why)) return nullptr;
    return result;
}

topic_attachment::~topic_attachment() {
    detach();
}

std::error_code topic_attachment::corrupt(std::string what) noexcept {
    problem_ = std::move(what);
    return errc::segment_corrupt;
}

bool topic_attachment::positions_sane(std::uint64_t head, std::uint64_t tail,
                                      std::error_code& ec) noexcept {
    if (head <= tail && tail - head <= shape().capacity) return true;
    ec = corrupt("positions out of order: head " + std::to_string(head) + ", tail " +
                 std::to_string(tail) + " in a ring of " + std::to_string(shape().capacity) +
                 " bytes");
    return false;
}

bool topic_attachment::take_slot(const attach_request& request, std::error_code& ec,
                                 std::string& why) noexcept {
    auto& t = control();
    if (!lock(after(attach_patience), ec)) {
        why = where_.uri() + (ec ? ": topic is corrupt (" + problem_ + ")"
                                 : ": the publishers' lock stayed taken for " +
                                       std::to_string(attach_patience.count()) + " s (process " +
                                       std::to_string(static_cast<std::int32_t>(
                                           t.publisher_lock.holder.load(relaxed))) +
                                       " holds it)");
        if (!ec) ec = std::make_error_code(std::errc::timed_out);
        return false;
    }
    const bool idle = t.producers_live.load(relaxed) == 0;
    if (role_ == role::consumer) {
        // As a queue's consumer: joins the current stream unless it is over (idle, with as
        // many publishers come and gone as this subscriber needs); then waits for the next.
        const auto attached = t.producers_attached.load(relaxed);
        const auto start = t.stream_start.load(relaxed);
        stream_base = idle && attached - start >= request.min_producers ? attached : start;
        const bool taken = take_subscriber_slot(ec, why);
        unlock();
        return taken;
    }
    bool rejoined = false;
    slot_ = take_producer_slot(t, request.producer_name, where_.uri(), rejoined, ec, why);
    if (!slot_) {
        unlock();
        return false;
    }
    if (!rejoined) {
        // A publisher arriving at a topic without publishers begins a new stream.
        if (idle) t.stream_start.store(t.producers_attached.load(relaxed), relaxed);
        // Live before attached, as a queue's (attachment::take_slot): stream_over reads them
        // the other way round, without the lock.
        t.producers_live.fetch_add(1, relaxed);
        t.producers_attached.fetch_add(1, std::memory_order_release);
    }
    unlock();
    t.published.notify_all(); // subscribers waiting for a stream look again
    return true;
}

bool topic_attachment::take_subscriber_slot(std::error_code& ec, std::string& why) noexcept {
    auto& t = control();
    auto free_index = [&] {
        return static_cast<std::size_t>(std::countr_one(t.subscriber_mask.load(relaxed)));
    };
    if (free_index() >= max_subscribers) reap_dead();
    const std::size_t index = free_index();
    if (index >= max_subscribers) {
        ec = errc::too_many_attached;
        why = where_.uri() + ": all " + std::to_string(max_subscribers) +
              " subscriber slots are in use";
        return false;
    }
    // Every message published from now on: the tail, and the sequence number it will carry.
    first_position = t.tail.load(relaxed);
    first_sequence = t.sent.load(relaxed);
    auto& slot = t.subscribers[index];
    const auto me = conveyor::detail::self_identity();
    slot.cursor.store(first_position, relaxed);
    slot.sequence.store(first_sequence, relaxed);
    slot.received.store(0, relaxed);
    slot.dropped.store(0, relaxed);
    slot.start_time.store(me.start_time, relaxed);
    slot.pid.store(me.pid, relaxed);
    slot.state.store(live_slot, relaxed);
    t.subscriber_mask.store(t.subscriber_mask.load(relaxed) | std::uint64_t(1) << index, relaxed);
    t.subscribers_live.fetch_add(1, relaxed);
    slot_ = &slot;
    return true;
}

void topic_attachment::free_subscriber(std::size_t index) noexcept {
    auto& t = control();
    auto& slot = t.subscribers[index];
    t.departed_received.fetch_add(slot.received.load(relaxed), relaxed);
    slot.pid.store(0, relaxed);
    slot.state.store(free_slot, relaxed);
    t.subscriber_mask.store(t.subscriber_mask.load(relaxed) & ~(std::uint64_t(1) << index),
                            relaxed);
    const auto live = t.subscribers_live.load(relaxed);
    t.subscribers_live.store(live > 0 ? live - 1 : 0, relaxed);
}

void topic_attachment::reap_dead() noexcept {
    auto& t = control();
    if (reap_dead_producers(t)) t.published.notify_all(); // the last publisher gone: the end
    bool freed = false;
    for (auto mask = t.subscriber_mask.load(relaxed); mask != 0; mask &= mask - 1) {
        const auto index = static_cast<std::size_t>(std::countr_zero(mask));
        if (conveyor::detail::is_alive(t.subscribers[index].identity())) continue;
        free_subscriber(index);
        freed = true;
    }
    if (freed) t.consumed.notify_all(); // publishers held back by the dead go on
}

void topic_attachment::sweep_dead() noexcept {
    process_lock::acquired how{};
    if (!control().publisher_lock.try_lock(how)) return;
    std::error_code ec;
    if (how == process_lock::acquired::owner_died && !repair(ec)) {
        unlock();
        return;
    }
    reap_dead();
    unlock();
}

void topic_attachment::detach() noexcept {
    if (!slot_) return;
    auto& t = control();
    std::error_code ec;
    // Past the patience, or in a corrupt topic, the slot is left: once this process is gone,
    // the others' sweeps free it.
    if (!lock(after(detach_patience), ec)) return;
    if (role_ == role::producer) {
        slot_->pid.store(0, relaxed);
        slot_->state.store(free_slot, relaxed);
        // release: a subscriber that sees the count drop also sees every record committed.
        const auto live = t.producers_live.load(relaxed);
        t.producers_live.store(live > 0 ? live - 1 : 0, std::memory_order_release);
        unlock();
        if (live <= 1) t.published.notify_all();
    } else {
        free_subscriber(
            static_cast<std::size_t>(static_cast<subscriber_slot*>(slot_) - t.subscribers));
        unlock();
        t.consumed.notify_all(); // a publisher waiting for this subscriber goes on
    }
    slot_ = nullptr;
}

bool topic_attachment::lock(time_point until, std::error_code& ec) noexcept {
    switch (control().publisher_lock.lock(until)) {
    case process_lock::acquired::clean:
        return true;
    case process_lock::acquired::timed_out:
        return false;
    case process_lock::acquired::owner_died:
        break;
    }
    if (repair(ec)) return true;
    unlock();
    return false;
}

// A process died holding the publishers' lock. A record commits by a single store of tail,
// so whatever a publisher wrote past tail is invisible and will be overwritten, and what it
// overwrote below head no reader trusts. What may be stale: sent, if it died between the
// commit and sent's store (recomputed from the last record's sequence number), and
// membership, rebuilt from the slots.
bool topic_attachment::repair(std::error_code& ec) noexcept {
    auto& t = control();
    t.repairs.fetch_add(1, relaxed);
    const auto head = t.head.load(relaxed);
    const auto tail = t.tail.load(relaxed);
    if (!positions_sane(head, tail, ec)) return false;
    std::uint64_t next_sequence = t.sent.load(relaxed);
    bool any = false;
    for (std::uint64_t at = head; at < tail;) {
        const auto record = read_record(shape(), ring(), at, tail);
        if (record.status == record_status::malformed) {
            ec = corrupt(describe_malformed(shape(), ring(), at, tail));
            return false;
        }
        if (record.status == record_status::message) {
            next_sequence = record.sequence + 1;
            any = true;
        }
        at = record.next; // each record moves on by at least its header: tail - head bounds it
    }
    if (any) t.sent.store(next_sequence, relaxed);
    reap_dead();
    t.published.notify_all();
    t.consumed.notify_all();
    return true;
}

} // namespace conveyor::shm::detail
