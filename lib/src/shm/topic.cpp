// Publishing to and reading from a topic's ring (docs/architecture.md, "Topics").
#include "conveyor/shm/topic.hpp"

#include "conveyor/error.hpp"
#include "shm/records.hpp"
#include "shm/topic_attachment.hpp"
#include "shm/wait.hpp"
#include "shm/wait_hooks.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace conveyor::shm {
namespace {

using detail::record_header;
using detail::record_size;
using detail::record_status;
using detail::topic_attachment;

// Positions are read with acquire when another process wrote them to publish bytes (tail
// by publishers, cursors by subscribers) and relaxed when the reader owns them.
constexpr auto relaxed = std::memory_order_relaxed;
constexpr auto acquire = std::memory_order_acquire;
constexpr auto publish_order = std::memory_order_release;

// A batch stops growing past this many bytes, so one read never copies without bound.
constexpr std::size_t batch_bytes = 1u << 20;

std::unique_ptr<topic_attachment> attach(const endpoint& where, detail::role as,
                                         const channel_options& options, std::error_code& ec,
                                         std::string* why) {
    ec.clear();
    std::string reason;
    std::unique_ptr<topic_attachment> attached;
    if (where.kind() != scheme::topic) {
        ec = errc::invalid_endpoint;
        reason = where.uri() + ": not a topic:// endpoint";
    } else {
        detail::attach_request request{{options.capacity, options.max_message, options.mode, 0,
                                        options.slow == slow_subscriber::drop},
                                       std::max<std::uint64_t>(1, options.min_producers),
                                       as == detail::role::producer ? options.producer_name
                                                                    : std::string()};
        attached = topic_attachment::open(where, as, request, ec, reason);
    }
    if (ec && why) *why = reason;
    return attached;
}

std::unique_ptr<topic_attachment> attach_or_throw(const endpoint& where, detail::role as,
                                                  const channel_options& options) {
    std::error_code ec;
    std::string why;
    auto attached = attach(where, as, options, ec, &why);
    if (ec) throw error(ec, why);
    return attached;
}

topic_attachment::time_point until_of(const deadline& d) {
    return d.unbounded ? topic_attachment::time_point::max() : d.at;
}

// A record's header: a topic's carries its message's sequence number (topic_layout.hpp).
void write_header(std::byte* at, std::uint32_t size, std::uint32_t kind, std::uint64_t sequence) {
    const record_header header{size, kind, static_cast<std::uint32_t>(sequence),
                               static_cast<std::uint32_t>(sequence >> 32)};
    std::memcpy(at, &header, sizeof header);
}

} // namespace

// ---- publisher ----

topic_sender::topic_sender(std::unique_ptr<detail::topic_attachment> attached)
    : attached_(std::move(attached)), drop_(attached_->shape().drop) {}

topic_sender::topic_sender(const endpoint& where, const channel_options& options)
    : topic_sender(attach_or_throw(where, detail::role::producer, options)) {}

std::unique_ptr<topic_sender> topic_sender::open(const endpoint& where,
                                                 const channel_options& options,
                                                 std::error_code& ec, std::string* why) {
    auto attached = attach(where, detail::role::producer, options, ec, why);
    if (!attached) return nullptr;
    return std::unique_ptr<topic_sender>(new topic_sender(std::move(attached)));
}

topic_sender::~topic_sender() = default; // the attachment detaches: the stream ends

slow_subscriber topic_sender::slow() const noexcept {
    return drop_ ? slow_subscriber::drop : slow_subscriber::block;
}
std::size_t topic_sender::max_message() const noexcept {
    return attached_->shape().max_message;
}
const endpoint& topic_sender::where() const noexcept {
    return attached_->where();
}
std::string topic_sender::failure_detail(std::error_code ec) const {
    return ec == errc::segment_corrupt ? attached_->problem() : std::string();
}

bool topic_sender::may_send(std::size_t size, std::error_code& ec) const noexcept {
    if (!attached_->attached())
        ec = errc::closed;
    else if (size > max_message())
        ec = errc::message_too_large;
    return !ec;
}

std::uint64_t topic_sender::slowest_cursor(std::uint64_t head, std::uint64_t tail) const noexcept {
    const auto& t = attached_->control();
    head = std::min(head, tail);
    std::uint64_t slowest = tail;
    for (auto mask = t.subscriber_mask.load(relaxed); mask != 0; mask &= mask - 1) {
        // acquire: the subscriber had finished with the bytes before its cursor moved.
        const auto cursor = t.subscribers[std::countr_zero(mask)].cursor.load(acquire);
        // A live subscriber's cursor lies between head and tail; one outside was forged.
        slowest = std::min(slowest, std::clamp(cursor, head, tail));
    }
    return slowest;
}

bool topic_sender::make_room(std::uint64_t required, std::error_code& ec) noexcept {
    auto& a = *attached_;
    auto& t = a.control();
    const std::uint64_t capacity = a.shape().capacity;
    // The bytes from pending_tail_ on overwrite the positions a ring below: those must all
    // lie below the first position still needed.
    auto fits = [&](std::uint64_t first_needed) {
        return pending_tail_ + required <= first_needed + capacity;
    };
    if (fits(cached_head_)) return true;
    std::uint64_t head = t.head.load(relaxed); // the lock's: publishers move it
    if (drop_) {
        // The oldest records go, whole, until the new ones fit; never those this lock placed
        // and has not committed (a batch commits them, then places again).
        while (!fits(head) && head < committed_tail_) {
            const auto record = detail::read_record(a.shape(), a.ring(), head, committed_tail_);
            if (record.status == record_status::malformed) {
                ec = a.corrupt(
                    detail::describe_malformed(a.shape(), a.ring(), head, committed_tail_));
                return false;
            }
            head = record.next;
        }
    } else {
        head = slowest_cursor(head, committed_tail_);
    }
    if (!fits(head)) {
        room_needed_ = required;
        return false;
    }
    // A reader that copied a record below the new head sees it moved and throws the copy
    // away: the store, then a release fence, then the first byte overwritten.
    t.head.store(head, relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    cached_head_ = head;
    return true;
}

std::byte* topic_sender::place(std::size_t size, std::error_code& ec) noexcept {
    auto& a = *attached_;
    const std::uint64_t capacity = a.shape().capacity;
    const std::uint64_t need = record_size(size);
    std::uint64_t offset = pending_tail_ % capacity;
    const std::uint64_t contiguous = capacity - offset;
    const std::uint64_t required = need <= contiguous ? need : contiguous + need;
    if (!make_room(required, ec)) return nullptr;
    std::byte* ring = a.ring();
    if (need > contiguous) { // invisible until the commit moves tail past it
        write_header(ring + offset, 0, detail::wrap_record, next_sequence_);
        pending_tail_ += contiguous;
        offset = 0;
    }
    write_header(ring + offset, static_cast<std::uint32_t>(size), detail::message_record,
                 next_sequence_++);
    pending_tail_ += need;
    return ring + offset + sizeof(record_header);
}

std::byte* topic_sender::claim(std::size_t size, wait_duration wait, std::error_code& ec) {
    auto& a = *attached_;
    auto& t = a.control();
    const deadline until(wait);
    for (;;) {
        if (!a.lock(until_of(until), ec)) return nullptr;
        committed_tail_ = pending_tail_ = t.tail.load(relaxed);
        next_sequence_ = t.sent.load(relaxed);
        if (!a.positions_sane(t.head.load(relaxed), committed_tail_, ec)) {
            a.unlock();
            return nullptr;
        }
        if (std::byte* payload = place(size, ec)) return payload;
        a.unlock();
        if (ec || wait == no_wait || !wait_for_room(until)) return nullptr;
    }
}

bool topic_sender::wait_for_room(const deadline& until) {
    auto& a = *attached_;
    auto& t = a.control();
    const std::uint64_t capacity = a.shape().capacity;
    auto room = [&] {
        // Another publisher's commit also calls for a fresh look under the lock.
        const auto tail = t.tail.load(relaxed);
        return tail != committed_tail_ ||
               committed_tail_ + room_needed_ <=
                   slowest_cursor(t.head.load(relaxed), committed_tail_) + capacity;
    };
    // Between sleeps: subscribers that died no longer hold the ring.
    return wait_until(t.consumed, room, until, spin_, [&a] { a.sweep_dead(); });
}

void topic_sender::publish() noexcept {
    auto& t = attached_->control();
    t.tail.store(pending_tail_, publish_order); // the commit: visible, whole, from here on
    t.sent.store(next_sequence_, relaxed);
    attached_->unlock();
    t.published.notify_all(); // every subscriber wants every message
}

bool topic_sender::do_send(bytes_view message, wait_duration wait, std::error_code& ec) {
    ec.clear();
    if (!may_send(message.size(), ec)) return false;
    std::byte* payload = claim(message.size(), wait, ec);
    if (!payload) return false;
    if (!message.empty()) std::memcpy(payload, message.data(), message.size());
    publish();
    return true;
}

std::size_t topic_sender::do_send_batch(std::span<const bytes_view> messages, wait_duration wait,
                                        std::error_code& ec) {
    std::size_t sent = 0;
    while (sent < messages.size()) {
        if (!may_send(messages[sent].size(), ec)) return sent;
        std::byte* payload = claim(messages[sent].size(), wait, ec);
        if (!payload) return sent;
        // As many as fit behind the first, under the one lock, then one commit.
        do {
            const auto& m = messages[sent];
            if (!m.empty()) std::memcpy(payload, m.data(), m.size());
            ++sent;
        } while (sent < messages.size() && messages[sent].size() <= max_message() &&
                 (payload = place(messages[sent].size(), ec)) != nullptr);
        publish();
        if (ec) return sent;
    }
    return sent;
}

void topic_sender::do_close(std::error_code& ec) {
    ec.clear();
    attached_->detach();
}

detail::wait_hooks topic_sender::hooks_for_async() noexcept {
    auto& t = attached_->control();
    // A send that found nothing but a busy lock tries again soon; a full ring waits for a
    // subscriber to move (block mode).
    return {&t.consumed, [&t] { return t.publisher_lock.holder.load(relaxed) != 0; },
            [this] { attached_->sweep_dead(); }};
}

// ---- subscriber ----

topic_receiver::topic_receiver(std::unique_ptr<detail::topic_attachment> attached,
                               const channel_options& options)
    : attached_(std::move(attached)),
      min_producers_(std::max<std::size_t>(1, options.min_producers)),
      drop_(attached_->shape().drop), cursor_(attached_->first_position),
      sequence_(attached_->first_sequence) {}

topic_receiver::topic_receiver(const endpoint& where, const channel_options& options)
    : topic_receiver(attach_or_throw(where, detail::role::consumer, options), options) {}

std::unique_ptr<topic_receiver> topic_receiver::open(const endpoint& where,
                                                     const channel_options& options,
                                                     std::error_code& ec, std::string* why) {
    auto attached = attach(where, detail::role::consumer, options, ec, why);
    if (!attached) return nullptr;
    return std::unique_ptr<topic_receiver>(new topic_receiver(std::move(attached), options));
}

topic_receiver::~topic_receiver() = default; // the attachment frees the slot

slow_subscriber topic_receiver::slow() const noexcept {
    return drop_ ? slow_subscriber::drop : slow_subscriber::block;
}
std::size_t topic_receiver::max_message() const noexcept {
    return attached_->shape().max_message;
}
const endpoint& topic_receiver::where() const noexcept {
    return attached_->where();
}
std::string topic_receiver::failure_detail(std::error_code ec) const {
    return ec == errc::segment_corrupt ? attached_->problem() : std::string();
}

void topic_receiver::publish_progress(std::uint64_t messages) noexcept {
    auto& slot = attached_->subscription();
    slot.sequence.store(sequence_, relaxed);
    slot.received.store(received_, relaxed);
    slot.dropped.store(dropped_, relaxed);
    // release: this subscriber is done with the bytes before its cursor.
    slot.cursor.store(cursor_, publish_order);
    // A publisher may wait for this subscriber: a fence and a load while none does.
    if (!drop_ && messages != 0) attached_->control().consumed.notify_all();
}

template <class Add, class Drop>
std::size_t topic_receiver::read_some(std::size_t max, Add&& add, Drop&& drop,
                                      std::error_code& ec) {
    auto& a = *attached_;
    auto& t = a.control();
    const std::uint64_t before = cursor_;
    for (;;) {
        const std::uint64_t start = cursor_;
        // acquire: the records' bytes were written before the commit that moved tail.
        const std::uint64_t tail = t.tail.load(acquire);
        if (tail <= start) {
            if (tail < start)
                ec = a.corrupt("tail " + std::to_string(tail) +
                               " went back behind this subscriber's cursor " +
                               std::to_string(start));
            if (cursor_ != before) publish_progress(0);
            return 0;
        }
        const std::uint64_t head = t.head.load(acquire);
        if (head > start) { // lapped: the oldest record still there is next
            cursor_ = head;
            continue;
        }
        std::size_t taken = 0;
        std::size_t bytes = 0;
        std::uint64_t at = start;
        std::uint64_t first = 0;
        std::uint64_t expected = 0;
        bool bad = false; // a record no publisher wrote, unless it was overwritten
        while (taken < max && bytes < batch_bytes) {
            const auto record = detail::read_record(a.shape(), a.ring(), at, tail);
            if (record.status == record_status::none) break;
            if (record.status == record_status::malformed ||
                (record.status == record_status::message && taken != 0 &&
                 record.sequence != expected)) {
                bad = true;
                break;
            }
            if (record.status == record_status::message) {
                if (taken == 0) first = record.sequence;
                expected = record.sequence + 1;
                add(record.payload);
                ++taken;
                bytes += record.payload.size();
            }
            at = record.next;
        }
        // acquire: if a byte copied above was a publisher's overwrite, the head it moved
        // before writing is seen here (docs/architecture.md, "Topics": reading).
        std::atomic_thread_fence(std::memory_order_acquire);
        const std::uint64_t now_head = t.head.load(relaxed);
        if (now_head > start) { // overwritten while copied: throw the copies away
            drop();
            cursor_ = now_head;
            continue;
        }
        if (taken == 0 && bad) {
            ec = a.corrupt(detail::describe_malformed(a.shape(), a.ring(), at, tail));
            return 0;
        }
        if (taken != 0 && first < sequence_) {
            drop();
            ec = a.corrupt("the record at position " + std::to_string(start) +
                           " carries sequence number " + std::to_string(first) +
                           ", older than the " + std::to_string(sequence_) +
                           " this subscriber expects");
            return 0;
        }
        if (taken != 0) {
            dropped_ += first - sequence_; // lost a ring behind: their numbers were skipped
            sequence_ = expected;
        }
        cursor_ = at; // a bad record after good ones is reported by the next call
        received_ += taken;
        publish_progress(taken);
        return taken;
    }
}

bool topic_receiver::stream_over() const noexcept {
    const auto& t = attached_->control();
    // Attached first, then live: the order that sees a publisher that has just attached.
    if (t.producers_attached.load(acquire) - attached_->stream_base < min_producers_) return false;
    // acquire: a publisher's detach follows its last commit, so tail below is up to date.
    if (t.producers_live.load(acquire) != 0) return false;
    return cursor_ >= t.tail.load(acquire);
}

bool topic_receiver::wait_for_data(const deadline& until) {
    auto& a = *attached_;
    auto& t = a.control();
    auto ready = [&] { return t.tail.load(acquire) > cursor_ || stream_over(); };
    // Between sleeps: publishers that died count as closed; dead subscribers are freed.
    return wait_until(t.published, ready, until, spin_, [&a] { a.sweep_dead(); });
}

template <class Read>
receive_status topic_receiver::take(wait_duration wait, std::error_code& ec, Read&& read) {
    ec.clear();
    const deadline until(wait);
    for (;;) {
        if (read(ec) != 0) return receive_status::message;
        if (ec) return receive_status::empty;
        if (stream_over()) return receive_status::end_of_stream;
        if (wait == no_wait || !wait_for_data(until)) return receive_status::empty;
    }
}

receive_status topic_receiver::do_receive(std::vector<std::byte>& message, wait_duration wait,
                                          std::error_code& ec) {
    return take(wait, ec, [&](std::error_code& failed) {
        return read_some(
            1, [&](bytes_view payload) { message.assign(payload.begin(), payload.end()); }, [] {},
            failed);
    });
}

receive_status topic_receiver::do_receive_batch(message_batch& batch, std::size_t max,
                                                wait_duration wait, std::error_code& ec) {
    return take(wait, ec, [&](std::error_code& failed) {
        return read_some(
            max,
            [&](bytes_view payload) {
                auto room = batch.append(payload.size());
                if (!payload.empty()) std::memcpy(room.data(), payload.data(), payload.size());
            },
            [&] { batch.clear(); }, failed);
    });
}

detail::wait_hooks topic_receiver::hooks_for_async() noexcept {
    auto& t = attached_->control();
    return {&t.published, [this, &t] { return t.tail.load(acquire) > cursor_ || stream_over(); },
            [this] { attached_->sweep_dead(); }};
}

} // namespace conveyor::shm
