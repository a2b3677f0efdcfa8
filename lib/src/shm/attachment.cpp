// Attaching to a queue, recovering it when a process dies holding one of its locks, and
// recovering a durable queue opened after a restart.
#include "shm/attachment.hpp"

#include "conveyor/error.hpp"
#include "shm/claims.hpp"
#include "shm/durable.hpp"
#include "shm/leases.hpp"
#include "shm/producer_slots.hpp"
#include "shm/records.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <sys/file.h>

namespace conveyor::shm::detail {
namespace {

// Membership fields change under their side's lock; readers on the other side use acquire
// to see the ring as it was when the membership changed.
constexpr auto relaxed = std::memory_order_relaxed;

// How long opening waits for the producers' lock (a producer holding a reservation keeps
// it; a forged holder that looks alive would keep it for ever) before it says so.
constexpr std::chrono::seconds attach_patience{10};
// How long closing waits for its side's lock before it leaves its slot to the others'
// sweep of the dead.
constexpr std::chrono::seconds detach_patience{2};

attachment::time_point after(std::chrono::seconds wait) {
    return process_lock::clock::now() + wait;
}

} // namespace

std::unique_ptr<attachment> attachment::open(const endpoint& where, role as,
                                             const attach_request& request, std::error_code& ec,
                                             std::string& why) {
    if (request.producer_name.size() >= producer_name_capacity ||
        request.producer_name.find('\0') != std::string::npos) {
        ec = errc::invalid_argument;
        why = where.uri() + ": a producer name is at most " +
              std::to_string(producer_name_capacity - 1) + " bytes, without NUL";
        return nullptr;
    }
    auto map = mapping::open_or_create(segment_location::of(where), request.segment, ec, why);
    if (!map) return nullptr;
    std::unique_ptr<attachment> result(new attachment(std::move(map), where, as));
    if (result->shape().durable) {
        // One opener at a time decides whether the file needs recovering; the kernel drops
        // the flock of a process that dies.
        ::flock(result->map_->descriptor(), LOCK_EX);
        if (identity_changed(result->control(), result->map_->descriptor()) ||
            result->map_->was_extended())
            result->recover();
        ::flock(result->map_->descriptor(), LOCK_UN);
    }
    if (!result->take_slot(request, ec, why)) return nullptr;
    return result;
}

attachment::~attachment() {
    detach();
}

std::error_code attachment::corrupt(std::string what) noexcept {
    problem_ = std::move(what);
    return errc::segment_corrupt;
}

bool attachment::positions_sane(std::error_code& ec) noexcept {
    const auto& q = control();
    const auto head = q.head.load(relaxed);
    const auto next = q.next.load(relaxed);
    const auto tail = q.tail.load(std::memory_order_acquire);
    if (head <= next && next <= tail && tail - head <= shape().capacity) return true;
    ec = corrupt("positions out of order: head " + std::to_string(head) + ", next " +
                 std::to_string(next) + ", tail " + std::to_string(tail) + " in a ring of " +
                 std::to_string(shape().capacity) + " bytes");
    return false;
}

bool attachment::room_sane(std::uint64_t tail, std::uint64_t head, std::error_code& ec) noexcept {
    if (head <= tail && tail - head <= shape().capacity) return true;
    ec = corrupt("positions out of order: head " + std::to_string(head) + ", tail " +
                 std::to_string(tail) + " in a ring of " + std::to_string(shape().capacity) +
                 " bytes");
    return false;
}

bool attachment::claims_sane(std::uint64_t tail, std::uint64_t claimed,
                             std::error_code& ec) noexcept {
    if (tail <= claimed && claimed - tail <= shape().capacity) return true;
    ec = corrupt("claimed records out of order: tail " + std::to_string(tail) + ", claimed " +
                 std::to_string(claimed) + " in a ring of " + std::to_string(shape().capacity) +
                 " bytes");
    return false;
}

bool attachment::take_slot(const attach_request& request, std::error_code& ec,
                           std::string& why) noexcept {
    auto& q = control();
    // Producers' lock for both roles: it guards the stream counters a consumer reads here.
    if (!lock_producers(after(attach_patience), ec)) {
        if (!ec) {
            ec = std::make_error_code(std::errc::timed_out);
            why = where_.uri() + ": the producers' lock stayed taken for " +
                  std::to_string(attach_patience.count()) + " s (process " +
                  std::to_string(static_cast<std::int32_t>(q.producer_lock.holder.load(relaxed))) +
                  " holds it)";
        } else {
            why = where_.uri() + ": segment is corrupt (" + problem_ + ")";
        }
        return false;
    }
    // Idle: no producer, nothing queued and nothing out on lease. Records leased by a
    // consumer that may yet die belong to the current stream: a consumer that joined the
    // next one would take them back when they are orphaned, then wait for a stream that
    // never comes.
    const bool idle = q.producers_live.load(relaxed) == 0 && q.orphans.load(relaxed) == 0 &&
                      q.head.load(std::memory_order_acquire) == q.tail.load(relaxed);
    if (role_ == role::consumer) {
        // A consumer joins the current stream, leftovers included, unless that stream is
        // over: idle, with as many producers come and gone as this consumer needs. Then it
        // waits for the next one.
        const auto attached = q.producers_attached.load(relaxed);
        const auto start = q.stream_start.load(relaxed);
        stream_base = idle && attached - start >= request.min_producers ? attached : start;
        unlock_producers();
        return take_consumer_slot(ec, why);
    }
    bool rejoined = false;
    if (!take_producer_slot(request.producer_name, rejoined, ec, why)) {
        unlock_producers();
        return false;
    }
    if (!rejoined) {
        // A producer arriving at an idle queue begins a new stream.
        if (idle) q.stream_start.store(q.producers_attached.load(relaxed), relaxed);
        // Live before attached, and attached with release: a consumer reads them without the
        // lock, attached first (stream_over), so one that sees this producer attached also
        // sees it live, never an attached producer already gone (a false end of stream).
        q.producers_live.fetch_add(1, relaxed);
        q.producers_attached.fetch_add(1, std::memory_order_release);
    }
    unlock_producers();
    q.not_empty.notify_all(); // consumers waiting for a stream look again
    return true;
}

bool attachment::take_producer_slot(const std::string& name, bool& rejoined, std::error_code& ec,
                                    std::string& why) noexcept {
    slot_ = detail::take_producer_slot(control(), name, where_.uri(), rejoined, ec, why);
    return slot_ != nullptr;
}

bool attachment::take_consumer_slot(std::error_code& ec, std::string& why) noexcept {
    auto& q = control();
    if (!lock_consumers(after(attach_patience), ec)) {
        why = where_.uri() + (ec ? ": segment is corrupt (" + problem_ + ")"
                                 : ": the consumers' lock stayed taken for " +
                                       std::to_string(attach_patience.count()) + " s");
        if (!ec) ec = std::make_error_code(std::errc::timed_out);
        return false;
    }
    auto find_free = [&]() -> consumer_slot* {
        for (auto& slot : q.consumers)
            if (slot.state.load(relaxed) == free_slot) return &slot;
        return nullptr;
    };
    consumer_slot* chosen = find_free();
    if (!chosen) {
        reap_dead_consumers();
        chosen = find_free();
    }
    if (!chosen) {
        unlock_consumers();
        ec = errc::too_many_attached;
        why =
            where_.uri() + ": all " + std::to_string(max_consumers) + " consumer slots are in use";
        return false;
    }
    const auto me = conveyor::detail::self_identity();
    chosen->ranges_used.store(0, relaxed);
    chosen->start_time.store(me.start_time, relaxed);
    chosen->pid.store(me.pid, relaxed);
    chosen->state.store(live_slot, relaxed);
    q.consumers_live.fetch_add(1, relaxed);
    slot_ = chosen;
    unlock_consumers();
    return true;
}

void attachment::detach() noexcept {
    if (!slot_) return;
    auto& q = control();
    std::error_code ec;
    if (role_ == role::producer) {
        // Past the patience, or in a corrupt segment, the slot is left: once this process
        // is gone, the others' sweeps free it.
        if (!lock_producers(after(detach_patience), ec)) return;
        auto& slot = *static_cast<producer_slot*>(slot_);
        slot.pid.store(0, relaxed);
        slot.state.store(free_slot, relaxed);
        // release: a consumer that sees the count drop also sees every record committed.
        const auto live = q.producers_live.load(relaxed);
        q.producers_live.store(live > 0 ? live - 1 : 0, std::memory_order_release);
        unlock_producers();
        if (live <= 1) q.not_empty.notify_all();
    } else {
        if (!lock_consumers(after(detach_patience), ec)) return;
        leave_slot(q, own_leases()); // leases not acknowledged are delivered again
        const auto live = q.consumers_live.load(relaxed);
        q.consumers_live.store(live > 0 ? live - 1 : 0, relaxed);
        const bool orphaned = q.orphans.load(relaxed) != 0;
        unlock_consumers();
        if (orphaned) q.not_empty.notify_all(); // another consumer takes them now
    }
    slot_ = nullptr;
}

void attachment::reap_dead_producers() noexcept {
    auto& q = control();
    bool wake = false;
    // A producer that died copying a large message leaves its claim: voided, so that the
    // records behind it are committed.
    if (void_dead_claims(q, shape(), ring())) {
        std::string problem;
        wake = commit_copied(q, problem) != 0;
        if (!problem.empty()) problem_ = problem;
    }
    wake |= detail::reap_dead_producers(q);
    if (wake) q.not_empty.notify_all();
}

void attachment::reap_dead_consumers() noexcept {
    auto& q = control();
    std::uint32_t live = 0;
    bool orphaned = false;
    for (auto& slot : q.consumers) {
        if (slot.state.load(relaxed) != live_slot) continue;
        if (conveyor::detail::is_alive(slot.identity())) {
            ++live;
            continue;
        }
        leave_slot(q, slot);
        orphaned |= slot.state.load(relaxed) == orphaned_slot;
    }
    q.consumers_live.store(live, relaxed);
    if (orphaned) q.not_empty.notify_all(); // their leases wait to be delivered again
}

bool attachment::lock_producers(time_point until, std::error_code& ec) noexcept {
    switch (control().producer_lock.lock(until)) {
    case process_lock::acquired::clean:
        return true;
    case process_lock::acquired::timed_out:
        return false;
    case process_lock::acquired::owner_died:
        break;
    }
    if (repair_producers(ec)) return true;
    unlock_producers();
    return false;
}

bool attachment::lock_consumers(time_point until, std::error_code& ec) noexcept {
    switch (control().consumer_lock.lock(until)) {
    case process_lock::acquired::clean:
        return true;
    case process_lock::acquired::timed_out:
        return false;
    case process_lock::acquired::owner_died:
        break;
    }
    if (repair_consumers(ec)) return true;
    unlock_consumers();
    return false;
}

bool attachment::try_lock_producers() noexcept {
    process_lock::acquired how{};
    if (!control().producer_lock.try_lock(how)) return false;
    std::error_code ec;
    if (how != process_lock::acquired::owner_died || repair_producers(ec)) return true;
    unlock_producers();
    return false;
}

bool attachment::try_lock_consumers() noexcept {
    process_lock::acquired how{};
    if (!control().consumer_lock.try_lock(how)) return false;
    std::error_code ec;
    if (how != process_lock::acquired::owner_died || repair_consumers(ec)) return true;
    unlock_consumers();
    return false;
}

// A producer died inside its critical section. A record commits by a single store of
// tail, so whatever it wrote past tail is invisible and will be overwritten; what may be
// stale is membership, rebuilt from the slots.
bool attachment::repair_producers(std::error_code& ec) noexcept {
    auto& q = control();
    q.repairs.fetch_add(1, relaxed);
    std::string problem;
    if (!repair_claims(q, shape(), ring(), problem)) {
        ec = corrupt(problem);
        return false;
    }
    if (!room_sane(q.claimed.load(relaxed), q.head.load(std::memory_order_acquire), ec))
        return false;
    reap_dead_producers();
    q.not_empty.notify_all();
    q.not_full.notify_all();
    return true;
}

// A consumer died inside its critical section. Records leave the queue only by stores of
// next and head, so the ring is whole; its lease ranges are cut to what it really took,
// its leases orphaned, and the records still queued checked in case it scribbled.
bool attachment::repair_consumers(std::error_code& ec) noexcept {
    auto& q = control();
    q.repairs.fetch_add(1, relaxed);
    if (!positions_sane(ec)) return false;
    const auto tail = q.tail.load(std::memory_order_acquire);
    for (std::uint64_t at = q.head.load(relaxed); at < tail;) {
        const auto record = read_record(shape(), ring(), at, tail);
        if (record.status == record_status::malformed) {
            ec = corrupt(describe_malformed(shape(), ring(), at, tail));
            return false;
        }
        at = record.next; // each record moves on by at least its header: tail - head bounds it
    }
    reap_dead_consumers();
    q.head.store(repair_leases(q), std::memory_order_release);
    q.not_empty.notify_all();
    q.not_full.notify_all();
    return true;
}

void attachment::recover() noexcept {
    auto& q = control();
    // Whoever held a lock or a slot ran under another boot, or in another file: gone.
    q.producer_lock.holder.store(0, relaxed);
    q.producer_lock.sleepers.store(0, relaxed);
    q.consumer_lock.holder.store(0, relaxed);
    q.consumer_lock.sleepers.store(0, relaxed);
    for (auto& slot : q.producers) {
        if (slot.state.load(relaxed) != live_slot) continue;
        slot.state.store(slot.name[0] != '\0' ? paused_slot : free_slot, relaxed);
        slot.pid.store(0, relaxed);
    }
    for (auto& slot : q.consumers)
        if (slot.state.load(relaxed) == live_slot) leave_slot(q, slot);
    std::uint32_t producers = 0;
    for (auto& slot : q.producers)
        producers += slot.state.load(relaxed) == paused_slot;
    q.producers_live.store(producers, relaxed);
    q.consumers_live.store(0, relaxed);

    // Records reach the disk in no particular order: the last ones before the crash may be
    // missing or half there. The first record that fails its checks ends the queue.
    std::error_code ec;
    auto tail = q.tail.load(relaxed);
    auto head = q.head.load(relaxed);
    if (head > tail || tail - head > shape().capacity) {
        // The control block itself is torn: nothing in it can be believed.
        recovery_ = where_.uri() + ": recovered: positions were torn (head " +
                    std::to_string(head) + ", tail " + std::to_string(tail) +
                    "); the queue is emptied";
        head = tail;
    }
    std::uint64_t at = head;
    while (at < tail) {
        const auto record = read_record(shape(), ring(), at, tail);
        const bool whole = record.status == record_status::wrap ||
                           (record.status == record_status::message &&
                            record.checksum == record_checksum(at, record.payload));
        if (!whole) break;
        at = record.next;
    }
    if (at < tail) {
        // Count what is dropped, as far as its headers can still be read.
        std::uint64_t dropped = 0;
        for (std::uint64_t p = at; p < tail;) {
            const auto record = read_record(shape(), ring(), p, tail);
            if (record.status == record_status::malformed) {
                ++dropped; // the torn one
                break;
            }
            dropped += record.status == record_status::message;
            p = record.next;
        }
        recovery_ = where_.uri() + ": recovered after a crash: dropped " + std::to_string(dropped) +
                    " torn record" + (dropped == 1 ? "" : "s") + " at the end (" +
                    std::to_string(tail - at) + " bytes from position " + std::to_string(at) + ")";
        tail = at;
    }
    q.tail.store(tail, relaxed);
    q.claimed.store(tail, relaxed); // claims of another boot or file: never committed
    for (auto& claim : q.claims)
        claim.state.store(claim_entry::unused, relaxed);
    q.head.store(std::min(head, tail), relaxed);
    q.next.store(std::clamp(q.next.load(relaxed), std::min(head, tail), tail), relaxed);
    q.head.store(repair_leases(q), relaxed);
    stamp_identity(q, map_->descriptor());
    sync_range(map_->base(), map_->ring());
}

} // namespace conveyor::shm::detail
