// Sending and receiving through the shared-memory ring (docs/architecture.md, "The queue"
// and "Acknowledged delivery").
#include "conveyor/shm/queue.hpp"

#include "conveyor/error.hpp"
#include "detail/or_throw.hpp"
#include "shm/attachment.hpp"
#include "shm/claims.hpp"
#include "shm/durable.hpp"
#include "shm/leases.hpp"
#include "shm/records.hpp"
#include "shm/wait.hpp"

#include <algorithm>
#include <cstring>

namespace conveyor::shm {
namespace {

using conveyor::detail::or_throw;
using detail::attachment;
using detail::record_header;
using detail::record_size;
using detail::record_status;

// Positions are read with acquire when the other side wrote them (they publish the bytes
// before them) and relaxed when this side owns them (it holds that side's lock).
constexpr auto relaxed = std::memory_order_relaxed;
constexpr auto acquire = std::memory_order_acquire;
constexpr auto publish_order = std::memory_order_release;

// A batch stops growing past this many bytes, so one visit never copies without bound.
constexpr std::size_t batch_bytes = 1u << 20;
// Messages at least this large are copied into the ring after the producers' lock is
// released (committed in order once copied), and out of it after the consumers' lock is
// released (held meanwhile by a lease): the copy then costs more than the second lock visit.
constexpr std::size_t off_lock_copy = 64u << 10;

attachment::time_point attachment_forever() {
    return attachment::time_point::max();
}
// How long acknowledging waits for the consumers' lock before it reports a timeout: only a
// holder that looks alive and never lets go (a forged one) makes it wait that long.
constexpr std::chrono::seconds ack_patience{10};

std::unique_ptr<attachment> attach(const endpoint& where, detail::role as,
                                   const channel_options& options, std::error_code& ec,
                                   std::string* why) {
    ec.clear();
    std::string reason;
    if (where.kind() != scheme::shm && where.kind() != scheme::file) {
        ec = errc::invalid_endpoint;
        reason = where.uri() + ": not a shm:// or file:// endpoint";
    }
    std::unique_ptr<attachment> attached;
    if (!ec) {
        detail::attach_request request{{options.capacity, options.max_message, options.mode,
                                        static_cast<std::uint32_t>(options.sync)},
                                       std::max<std::uint64_t>(1, options.min_producers),
                                       as == detail::role::producer ? options.producer_name
                                                                    : std::string()};
        attached = attachment::open(where, as, request, ec, reason);
    }
    if (ec && why) *why = reason;
    return attached;
}

attachment::time_point until_of(const deadline& d) {
    return d.unbounded ? attachment::time_point::max() : d.at;
}

} // namespace

// ---- sender ----

queue_sender::queue_sender(std::unique_ptr<detail::attachment> attached)
    : attached_(std::move(attached)) {}

queue_sender::queue_sender(const endpoint& where, const channel_options& options) {
    std::error_code ec;
    std::string why;
    attached_ = attach(where, detail::role::producer, options, ec, &why);
    if (ec) throw error(ec, why);
}

std::unique_ptr<queue_sender> queue_sender::open(const endpoint& where,
                                                 const channel_options& options,
                                                 std::error_code& ec, std::string* why) {
    auto attached = attach(where, detail::role::producer, options, ec, why);
    if (!attached) return nullptr;
    return std::unique_ptr<queue_sender>(new queue_sender(std::move(attached)));
}

queue_sender::~queue_sender() {
    abandon_reservation();
}

std::size_t queue_sender::max_message() const noexcept {
    return attached_->shape().max_message;
}
const endpoint& queue_sender::where() const noexcept {
    return attached_->where();
}
const std::string& queue_sender::recovery() const noexcept {
    return attached_->recovery();
}
std::string queue_sender::failure_detail(std::error_code ec) const {
    return ec == errc::segment_corrupt ? attached_->problem() : std::string();
}

bool queue_sender::wait_for_room(std::uint64_t required, std::uint64_t tail_seen,
                                 const deadline& until) {
    auto& a = *attached_;
    auto& q = a.control();
    const std::uint64_t capacity = a.shape().capacity;
    auto room = [&] {
        // Another producer moving tail also calls for a fresh look under the lock; so does a
        // head that is not where it could be (the look under the lock reports it).
        const auto head = q.head.load(acquire);
        return head > tail_seen || capacity - (tail_seen - head) >= required ||
               q.claimed.load(relaxed) != tail_seen || q.tail.load(relaxed) != tail_at_claim_;
    };
    return wait_until(q.not_full, room, until, spin_, [] {});
}

// Inlined into the batch loop: a call per message cost a tenth of a small message's send.
inline std::byte* queue_sender::place(std::size_t size) noexcept {
    auto& a = *attached_;
    const std::uint64_t capacity = a.shape().capacity;
    const std::uint64_t need = record_size(size);
    std::uint64_t tail = pending_tail_;
    std::uint64_t offset = tail % capacity;
    const std::uint64_t contiguous = capacity - offset;
    const std::uint64_t required = need <= contiguous ? need : contiguous + need;
    auto fits = [&] {
        return tail - cached_head_ <= capacity && capacity - (tail - cached_head_) >= required;
    };
    // acquire: the consumers had finished with the bytes before they moved head.
    if (!fits()) cached_head_ = a.control().head.load(acquire);
    if (!fits()) {
        room_needed_ = required;
        return nullptr;
    }
    std::byte* ring = a.ring();
    if (need > contiguous) { // invisible until the commit moves tail past it
        const record_header wrap{0, detail::wrap_record, 0, 0};
        std::memcpy(ring + offset, &wrap, sizeof wrap);
        tail += contiguous;
        offset = 0;
    }
    const record_header record{static_cast<std::uint32_t>(size), detail::message_record, 0, 0};
    std::memcpy(ring + offset, &record, sizeof record);
    pending_tail_ = tail + need;
    return ring + offset + sizeof record;
}

bool queue_sender::claim_available() const noexcept {
    const auto& q = attached_->control();
    for (const auto& c : q.claims)
        if (c.state.load(relaxed) == detail::claim_entry::unused) return true;
    return false;
}

std::byte* queue_sender::claim(std::size_t size, bool off_lock, wait_duration wait,
                               std::error_code& ec) {
    auto& a = *attached_;
    auto& q = a.control();
    const deadline until(wait);
    for (;;) {
        if (!a.lock_producers(until_of(until), ec)) return nullptr;
        // Producers' lock held: claimed is ours to move; records go after the claimed ones.
        committed_tail_ = pending_tail_ = q.claimed.load(relaxed);
        tail_at_claim_ = q.tail.load(relaxed);
        cached_head_ = std::min(cached_head_, committed_tail_);
        if (!a.claims_sane(tail_at_claim_, committed_tail_, ec)) {
            a.unlock_producers();
            return nullptr;
        }
        // A claim is needed to copy outside the lock, or to commit behind records still being
        // copied; with none free, wait for a commit to free one.
        const bool needs_claim = off_lock || tail_at_claim_ != committed_tail_;
        if (!needs_claim || claim_available()) {
            if (std::byte* payload = place(size)) return payload;
            // No room by a head place() just read: is that head where it could be?
            if (!a.room_sane(committed_tail_, cached_head_, ec)) {
                a.unlock_producers();
                return nullptr;
            }
        } else {
            room_needed_ = ~std::uint64_t(0); // not room but a claim, freed by a commit
        }
        a.unlock_producers();
        if (wait == no_wait || until.passed() || !wait_for_room(room_needed_, pending_tail_, until))
            return nullptr;
    }
}

void queue_sender::seal_records() noexcept {
    auto& a = *attached_;
    const auto& shape = a.shape();
    for (std::uint64_t at = committed_tail_; at < pending_tail_;) {
        auto* header = reinterpret_cast<record_header*>(a.ring() + at % shape.capacity);
        const bool wrap = header->kind == detail::wrap_record;
        const std::uint64_t size =
            wrap ? shape.capacity - at % shape.capacity : record_size(header->size);
        header->checksum = detail::record_checksum(
            at, wrap ? bytes_view{}
                     : bytes_view{a.ring() + at % shape.capacity + sizeof(record_header),
                                  header->size});
        at += size;
    }
}

void queue_sender::sync_records(std::uint64_t from, std::uint64_t to) noexcept {
    auto& a = *attached_;
    const std::uint64_t capacity = a.shape().capacity;
    std::byte* ring = a.ring();
    const std::uint64_t begin = from % capacity;
    const std::uint64_t bytes = to - from;
    if (begin + bytes <= capacity) {
        detail::sync_range(ring + begin, ring + begin + bytes);
    } else {
        detail::sync_range(ring + begin, ring + capacity);
        detail::sync_range(ring, ring + (begin + bytes - capacity));
    }
    // Then the tail that makes them visible after a restart.
    const auto* tail = reinterpret_cast<const std::byte*>(&a.control().tail);
    detail::sync_range(tail, tail + sizeof(std::uint64_t));
}

void queue_sender::publish(std::uint64_t records) noexcept {
    auto& a = *attached_;
    auto& q = a.control();
    const bool durable = a.shape().durable;
    if (durable) seal_records();
    const std::uint64_t from = committed_tail_;
    const std::uint64_t to = pending_tail_;
    if (q.tail.load(relaxed) == from) {
        // Nothing claimed before these is still being copied (always so on a durable queue,
        // whose producers copy under the lock).
        q.tail.store(to, publish_order); // the commit: visible, whole, from here on
        q.claimed.store(to, relaxed);
        q.sent.store(q.sent.load(relaxed) + records, relaxed);
        a.unlock_producers();
        q.not_empty.notify(static_cast<int>(std::min<std::uint64_t>(records, 1u << 20)));
    } else {
        // Behind another producer's copy: committed, in order, once that one is.
        detail::open_claim(q, from, to, records,
                           detail::claim_entry::copied); // claim() saw one free
        q.claimed.store(to, relaxed);
        finish_claims();
    }
    if (durable && a.shape().sync != static_cast<std::uint32_t>(sync_policy::none))
        sync_records(from, to);
}

void queue_sender::finish_claims() noexcept {
    auto& a = *attached_;
    auto& q = a.control();
    std::string problem;
    const auto committed = detail::commit_copied(q, problem);
    a.unlock_producers();
    if (committed != 0)
        q.not_empty.notify(static_cast<int>(std::min<std::uint64_t>(committed, 1u << 20)));
    q.not_full.notify_all(); // producers waiting for a claim to free, or for claimed to move
}

bool queue_sender::send_outside_lock(bytes_view message, wait_duration wait, std::error_code& ec) {
    auto& a = *attached_;
    auto& q = a.control();
    std::byte* payload = claim(message.size(), true, wait, ec);
    if (!payload) return false;
    auto* mine = detail::open_claim(q, committed_tail_, pending_tail_, 1,
                                    detail::claim_entry::copying); // claim() saw one free
    const std::uint64_t begin = committed_tail_;
    q.claimed.store(pending_tail_, relaxed);
    a.unlock_producers();
    // Other producers claim and copy meanwhile; a producer that dies here leaves a claim
    // that the sweep of the dead voids (docs/architecture.md, "Large messages").
    std::memcpy(payload, message.data(), message.size());
    if (!a.lock_producers(attachment_forever(), ec)) return false;
    if (mine && mine->state.load(relaxed) == detail::claim_entry::copying &&
        mine->begin.load(relaxed) == begin)
        mine->state.store(detail::claim_entry::copied, relaxed);
    finish_claims();
    return true;
}

void queue_sender::abandon_reservation() noexcept {
    if (reserved_ == 0) return;
    reserved_ = 0;
    attached_->unlock_producers(); // tail never moved: the claimed bytes stay invisible
}

bool queue_sender::may_send(std::size_t size, std::error_code& ec) const noexcept {
    if (!attached_->attached())
        ec = errc::closed;
    else if (reserved_ != 0)
        ec = errc::invalid_argument; // reservations await commit: one thing at a time
    else if (size > max_message())
        ec = errc::message_too_large;
    return !ec;
}

bool queue_sender::do_send(bytes_view message, wait_duration wait, std::error_code& ec) {
    ec.clear();
    if (!may_send(message.size(), ec)) return false;
    // A durable queue's producers copy under the lock, so that a send returns committed and
    // on disk as its sync policy says.
    if (message.size() >= off_lock_copy && !attached_->shape().durable)
        return send_outside_lock(message, wait, ec);
    std::byte* place = claim(message.size(), false, wait, ec);
    if (!place) return false;
    if (!message.empty()) std::memcpy(place, message.data(), message.size());
    publish(1);
    return true;
}

std::size_t queue_sender::do_send_batch(std::span<const bytes_view> messages, wait_duration wait,
                                        std::error_code& ec) {
    // sync always: each message is on disk before the next is written, so one per commit.
    const bool one_by_one =
        attached_->shape().durable &&
        attached_->shape().sync == static_cast<std::uint32_t>(sync_policy::always);
    const bool durable = attached_->shape().durable;
    // Messages smaller than this join the batch under the lock; larger ones go alone.
    const std::size_t joins_below = std::min<std::size_t>(off_lock_copy, max_message() + 1);
    std::size_t sent = 0;
    while (sent < messages.size()) {
        if (!may_send(messages[sent].size(), ec)) return sent;
        if (messages[sent].size() >= off_lock_copy && !durable) { // large: one at a time
            if (!send_outside_lock(messages[sent], wait, ec)) return sent;
            ++sent;
            continue;
        }
        std::byte* payload = claim(messages[sent].size(), false, wait, ec);
        if (!payload) return sent;
        std::uint64_t records = 0;
        // As many small ones as fit behind the first, under the one lock, then one commit.
        do {
            const auto& m = messages[sent];
            if (!m.empty()) std::memcpy(payload, m.data(), m.size());
            ++records;
            ++sent;
        } while (!one_by_one && sent < messages.size() && messages[sent].size() < joins_below &&
                 (payload = place(messages[sent].size())) != nullptr);
        publish(records);
    }
    return sent;
}

std::span<std::byte> queue_sender::reserve(std::size_t size, wait_duration wait,
                                           std::error_code& ec) {
    ec.clear();
    if (reserved_ != 0) { // producers' lock held: the record goes behind the pending ones
        if (size > max_message()) ec = errc::message_too_large;
        std::byte* payload = ec ? nullptr : place(size);
        if (!payload) return {};
        ++reserved_;
        return {payload, size};
    }
    if (!may_send(size, ec)) return {};
    std::byte* payload = claim(size, false, wait, ec);
    if (!payload) return {};
    reserved_ = 1;
    return {payload, size};
}

std::span<std::byte> queue_sender::reserve(std::size_t size) {
    return or_throw(where(), [&](std::error_code& ec) { return reserve(size, forever, ec); });
}

void queue_sender::commit() noexcept {
    if (reserved_ == 0) return;
    publish(reserved_);
    reserved_ = 0;
}

void queue_sender::do_close(std::error_code& ec) {
    ec.clear();
    abandon_reservation();
    attached_->detach();
}

// ---- receiver ----

queue_receiver::queue_receiver(std::unique_ptr<detail::attachment> attached,
                               const channel_options& options)
    : attached_(std::move(attached)),
      min_producers_(std::max<std::size_t>(1, options.min_producers)),
      acknowledge_(options.acknowledge) {}

queue_receiver::queue_receiver(const endpoint& where, const channel_options& options)
    : min_producers_(std::max<std::size_t>(1, options.min_producers)),
      acknowledge_(options.acknowledge) {
    std::error_code ec;
    std::string why;
    attached_ = attach(where, detail::role::consumer, options, ec, &why);
    if (ec) throw error(ec, why);
}

std::unique_ptr<queue_receiver> queue_receiver::open(const endpoint& where,
                                                     const channel_options& options,
                                                     std::error_code& ec, std::string* why) {
    auto attached = attach(where, detail::role::consumer, options, ec, why);
    if (!attached) return nullptr;
    return std::unique_ptr<queue_receiver>(new queue_receiver(std::move(attached), options));
}

queue_receiver::~queue_receiver() {
    if (viewing_) attached_->unlock_consumers(); // next never moved: the messages stay
}

std::size_t queue_receiver::max_message() const noexcept {
    return attached_->shape().max_message;
}
const endpoint& queue_receiver::where() const noexcept {
    return attached_->where();
}
const std::string& queue_receiver::recovery() const noexcept {
    return attached_->recovery();
}
std::string queue_receiver::failure_detail(std::error_code ec) const {
    return ec == errc::segment_corrupt ? attached_->problem() : std::string();
}

bool queue_receiver::stream_over() const noexcept {
    const auto& q = attached_->control();
    // Attached first (acquire), then live: a producer counts itself live before attached
    // (attachment::take_slot), so one that has just attached is not taken for gone.
    if (q.producers_attached.load(acquire) - attached_->stream_base < min_producers_) return false;
    // acquire: a producer's detach follows its last commit, so tail below is up to date.
    if (q.producers_live.load(acquire) != 0) return false;
    if (q.claimed.load(relaxed) > q.tail.load(acquire)) return false; // still being committed
    return q.orphans.load(relaxed) == 0 && q.next.load(relaxed) >= q.tail.load(acquire);
}

bool queue_receiver::choose_source(std::error_code& ec) noexcept {
    auto& q = attached_->control();
    detail::consumer_slot* owner = nullptr;
    detail::lease_range* orphan = detail::oldest_orphaned(q, owner);
    if (!orphan && q.orphans.load(relaxed) != 0) {
        // Waiters take the count's word that there is something to take.
        ec = attached_->corrupt("the count of orphaned consumers is " +
                                std::to_string(q.orphans.load(relaxed)) +
                                " but no slot is orphaned");
        return false;
    }
    if (orphan) {
        source_ = {detail::range_begin(*orphan), orphan->end.load(relaxed), orphan, owner};
        // Leases lie between head and next; anything else was written by hand.
        if (source_.begin < q.head.load(relaxed) || source_.limit > q.next.load(relaxed) ||
            source_.begin >= source_.limit) {
            ec = attached_->corrupt("a lease range from " + std::to_string(source_.begin) + " to " +
                                    std::to_string(source_.limit) +
                                    " lies outside the records taken");
            return false;
        }
    } else {
        // acquire: the records' bytes were written before the commit that moved tail.
        source_ = {q.next.load(relaxed), q.tail.load(acquire), nullptr, nullptr};
    }
    if (!acknowledge_) return true;
    // A lease must fit: either it follows this receiver's last range, or a range is free.
    const auto& mine = attached_->own_leases();
    const auto used = mine.ranges_used.load(relaxed);
    if (used < detail::max_lease_ranges) return true;
    if (used > detail::max_lease_ranges) {
        ec = attached_->corrupt("this consumer's slot claims " + std::to_string(used) +
                                " lease ranges of " + std::to_string(detail::max_lease_ranges));
        return false;
    }
    const auto& last = mine.ranges[used - 1];
    if (last.end.load(relaxed) == source_.begin &&
        detail::range_redelivered(last) == (source_.orphan != nullptr))
        return true;
    ec = errc::too_many_leases;
    return false;
}

// Inlined where messages are taken one after another: the next record is nearly always a
// message, and a call per message cost a fifth of a small message's receive.
inline bool queue_receiver::find_record(std::uint64_t position, std::error_code& ec) noexcept {
    auto& a = *attached_;
    const auto record = detail::read_record(a.shape(), a.ring(), position, source_.limit);
    if (record.status != record_status::message) [[unlikely]]
        return find_record_after(position, ec);
    claimed_ = record.payload;
    claimed_next_ = record.next;
    return true;
}

bool queue_receiver::find_record_after(std::uint64_t position, std::error_code& ec) noexcept {
    auto& a = *attached_;
    const std::uint64_t from = position;
    for (;;) {
        // Between two messages lies at most one wrap record: skipping more than a ring's
        // worth means the ring is full of forged ones.
        if (position - from > a.shape().capacity) {
            ec = a.corrupt("wrap records from position " + std::to_string(from) + " to " +
                           std::to_string(position) + " span more than the ring");
            return false;
        }
        const auto record = detail::read_record(a.shape(), a.ring(), position, source_.limit);
        switch (record.status) {
        case record_status::message:
            claimed_ = record.payload;
            claimed_next_ = record.next;
            return true;
        case record_status::wrap:
            position = claimed_next_ = record.next;
            continue;
        case record_status::none:
            return false;
        case record_status::malformed:
            ec =
                a.corrupt(detail::describe_malformed(a.shape(), a.ring(), position, source_.limit));
            return false;
        }
    }
}

void queue_receiver::take_until(std::uint64_t end, std::uint64_t messages, bool hold) noexcept {
    auto& q = attached_->control();
    auto& mine = attached_->own_leases();
    const bool redelivery = source_.orphan != nullptr;
    // Messages are leased; wrap records alone are nobody's. The lease first, then the move:
    // a consumer killed between the two leaves a lease past next, which repair cuts back
    // (docs/architecture.md, "Acknowledged delivery").
    const bool lease = (acknowledge_ || hold) && messages != 0;
    if (lease) detail::add_lease(q, mine, source_.begin, end, redelivery);
    if (redelivery) {
        detail::advance_orphaned(q, *source_.owner, *source_.orphan, end);
        q.redelivered.store(q.redelivered.load(relaxed) + messages, relaxed);
    } else {
        q.next.store(end, relaxed);
    }
    q.received.store(q.received.load(relaxed) + messages, relaxed);
    if (lease) return;
    // Taken for good: the bytes are free once nothing older is still leased.
    const auto head =
        q.lease_ranges.load(relaxed) == 0 ? q.next.load(relaxed) : detail::oldest_needed(q);
    if (head > q.head.load(relaxed)) q.head.store(head, publish_order);
}

bool queue_receiver::copy_outside_lock() const noexcept {
    if (claimed_.size() < off_lock_copy) return false;
    // Without acknowledgement the lease that holds the records is this receiver's only one.
    return acknowledge_ || attached_->own_leases().ranges_used.load(relaxed) == 0;
}

void queue_receiver::let_go_held() noexcept {
    if (acknowledge_) return; // the caller's ack() lets go
    auto& a = *attached_;
    auto& q = a.control();
    std::error_code ec;
    // Past the patience (a forged lock holder) the lease stays, and goes back to the queue
    // when this receiver closes: delivered again, never lost.
    if (!a.lock_consumers(wait_clock::now() + ack_patience, ec)) return;
    detail::drop_leases(q, a.own_leases());
    const auto head = detail::oldest_needed(q);
    if (head > q.head.load(relaxed)) q.head.store(head, publish_order);
    finish_take();
}

void queue_receiver::finish_take() noexcept {
    attached_->unlock_consumers();
    attached_->control().not_full.notify_all();
}

void queue_receiver::sweep_dead_consumers() noexcept {
    auto& a = *attached_;
    if (!a.try_lock_consumers()) return;
    a.reap_dead_consumers();
    a.unlock_consumers();
}

bool queue_receiver::data_visible() const noexcept {
    const auto& q = attached_->control();
    return q.tail.load(acquire) > q.next.load(relaxed) || q.orphans.load(relaxed) != 0 ||
           stream_over();
}

void queue_receiver::sweep_dead_peers() noexcept {
    auto& a = *attached_;
    // Not a blocking lock: a producer holding a reservation keeps it until its commit, and
    // this consumer's timeout must not wait for that. A producer that died holding it is
    // found out by try_lock, so the sweep is only ever put off.
    if (a.try_lock_producers()) {
        a.reap_dead_producers(); // producers that died without a word count as closed
        a.unlock_producers();
    }
    sweep_dead_consumers(); // the leases of consumers that died are delivered again
}

bool queue_receiver::wait_for_data(const deadline& until) {
    return wait_until(
        attached_->control().not_empty, [this] { return data_visible(); }, until, spin_,
        [this] { sweep_dead_peers(); });
}

receive_status queue_receiver::claim(wait_duration wait, std::error_code& ec) {
    auto& a = *attached_;
    auto& q = a.control();
    const deadline until(wait);
    bool swept_at_end = false;
    for (;;) {
        if (!a.lock_consumers(until_of(until), ec)) return receive_status::empty;
        // Leases held elsewhere: now and then, see whether their holders still live, so that a
        // dead one's come back even while this consumer never runs dry.
        if (q.lease_ranges.load(relaxed) != 0 &&
            wait_clock::now() - last_sweep_ >= liveness_interval) {
            a.reap_dead_consumers();
            last_sweep_ = wait_clock::now();
        }
        if (!a.positions_sane(ec) || !choose_source(ec)) {
            a.unlock_consumers();
            return receive_status::empty;
        }
        claimed_next_ = source_.begin;
        if (find_record(source_.begin, ec)) return receive_status::message;
        // Nothing to take; wrap records skipped on the way are freed all the same.
        if (!ec && claimed_next_ != source_.begin) take_until(claimed_next_, 0);
        a.unlock_consumers();
        if (ec) return receive_status::empty;
        if (stream_over()) {
            // Leases out when the stream looks over: a holder that died since the last sweep
            // gives them back to this consumer before it calls the stream over.
            if (q.lease_ranges.load(relaxed) == 0 || swept_at_end) return receive_status::end_of_stream;
            swept_at_end = true;
            last_sweep_ = {};
            continue;
        }
        // The deadline is looked at here too: a condition that says "ready" and a claim that
        // finds nothing (a segment written by hand) must not spin past it.
        if (wait == no_wait || until.passed() || !wait_for_data(until))
            return receive_status::empty;
    }
}

receive_status queue_receiver::do_receive(std::vector<std::byte>& message, wait_duration wait,
                                          std::error_code& ec) {
    ec.clear();
    release();
    const auto status = claim(wait, ec);
    if (status != receive_status::message) return status;
    set_redelivered(source_.orphan != nullptr);
    if (copy_outside_lock()) {
        const auto payload = claimed_;
        take_until(claimed_next_, 1, true);
        attached_->unlock_consumers();
        message.assign(payload.begin(), payload.end());
        let_go_held();
        return status;
    }
    message.assign(claimed_.begin(), claimed_.end());
    take_until(claimed_next_, 1);
    finish_take();
    return status;
}

receive_status queue_receiver::do_receive_batch(message_batch& batch, std::size_t max,
                                                wait_duration wait, std::error_code& ec) {
    release();
    const auto status = claim(wait, ec);
    if (status != receive_status::message) return status;
    const bool redelivery = source_.orphan != nullptr;
    // Large messages are held by a lease and copied after the lock is released, so that
    // other consumers copy theirs meanwhile; small ones are copied under it.
    const bool outside = copy_outside_lock();
    held_.clear();
    std::uint64_t taken = 0;
    std::uint64_t bytes = 0;
    std::uint64_t end = claimed_next_;
    do {
        if (outside) {
            held_.push_back(claimed_);
        } else {
            auto room = batch.append(claimed_.size());
            // An empty message has no bytes to copy (and data() may be null).
            if (!claimed_.empty()) std::memcpy(room.data(), claimed_.data(), claimed_.size());
            if (redelivery) batch.mark_redelivered();
        }
        bytes += claimed_.size();
        ++taken;
        end = claimed_next_;
        if (!redelivery && end >= source_.limit) // past the tail seen: look again
            source_.limit = attached_->control().tail.load(acquire);
    } while (taken < max && bytes < batch_bytes && find_record(end, ec));
    ec.clear(); // a malformed record after the batch is reported by the next call
    // One step takes the whole batch: a consumer that dies before it has taken none.
    take_until(end, taken, outside);
    if (!outside) {
        finish_take();
        return receive_status::message;
    }
    attached_->unlock_consumers();
    for (const auto payload : held_) {
        auto room = batch.append(payload.size());
        std::memcpy(room.data(), payload.data(), payload.size());
        if (redelivery) batch.mark_redelivered();
    }
    let_go_held();
    return receive_status::message;
}

receive_status queue_receiver::receive_view(bytes_view& view, wait_duration wait,
                                            std::error_code& ec) {
    ec.clear();
    release();
    const auto status = claim(wait, ec);
    if (status != receive_status::message) return status;
    viewing_ = 1;
    view = claimed_;
    set_redelivered(source_.orphan != nullptr);
    return status;
}

receive_status queue_receiver::receive_view(bytes_view& view) {
    return or_throw(where(), [&](std::error_code& ec) { return receive_view(view, forever, ec); });
}

receive_status queue_receiver::receive_views(std::vector<bytes_view>& views, std::size_t max,
                                             wait_duration wait, std::error_code& ec) {
    ec.clear();
    views.clear();
    release();
    const auto status = claim(wait, ec);
    if (status != receive_status::message) return status;
    std::uint64_t end = claimed_next_;
    do {
        views.push_back(claimed_);
        end = claimed_next_;
    } while (views.size() < max && find_record(end, ec));
    claimed_next_ = end;
    viewing_ = views.size();
    set_redelivered(source_.orphan != nullptr);
    ec.clear(); // a malformed record after these is reported by the next call
    return status;
}

receive_status queue_receiver::receive_views(std::vector<bytes_view>& views, std::size_t max) {
    return or_throw(where(),
                    [&](std::error_code& ec) { return receive_views(views, max, forever, ec); });
}

void queue_receiver::release() noexcept {
    if (viewing_ == 0) return;
    take_until(claimed_next_, viewing_);
    viewing_ = 0;
    finish_take();
}

void queue_receiver::do_ack(std::error_code& ec) {
    if (!acknowledge_) return;
    release(); // lent views count as taken
    auto& a = *attached_;
    auto& q = a.control();
    auto& mine = a.own_leases();
    if (!a.attached() || mine.ranges_used.load(relaxed) == 0) return;
    if (!a.lock_consumers(wait_clock::now() + ack_patience, ec)) {
        if (!ec) ec = std::make_error_code(std::errc::timed_out);
        return;
    }
    detail::drop_leases(q, mine);
    const auto head = detail::oldest_needed(q);
    if (head > q.head.load(relaxed)) q.head.store(head, publish_order); // the bytes are free
    finish_take();
}

} // namespace conveyor::shm
