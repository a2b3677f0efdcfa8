// Sending and receiving through the shared-memory ring (docs/architecture.md, "The queue").
#include "conveyor/shm/queue.hpp"

#include "conveyor/error.hpp"
#include "detail/or_throw.hpp"
#include "shm/attachment.hpp"
#include "shm/wait.hpp"

#include <algorithm>
#include <cstring>

namespace conveyor::shm {
namespace {

using conveyor::detail::or_throw;
using detail::attachment;
using detail::record_header;
using detail::record_size;

// Positions are read with acquire when the other side wrote them (they publish the bytes
// before them) and relaxed when this side owns them (it holds that side's lock).
constexpr auto relaxed = std::memory_order_relaxed;
constexpr auto acquire = std::memory_order_acquire;
constexpr auto publish_order = std::memory_order_release;

// A batch stops growing past this many bytes, so one visit never copies without bound.
constexpr std::size_t batch_bytes = 1u << 20;

std::unique_ptr<attachment> attach(const endpoint& where, detail::role as,
                                   const channel_options& options, std::error_code& ec,
                                   std::string* why) {
    ec.clear();
    std::string reason;
    if (where.kind() != scheme::shm) {
        ec = errc::invalid_endpoint;
        reason = where.uri() + ": not a shm:// endpoint";
    }
    std::unique_ptr<attachment> attached;
    if (!ec)
        attached =
            attachment::open(where, as, {options.capacity, options.max_message, options.mode}, ec,
                             reason, std::max<std::size_t>(1, options.min_producers));
    if (ec && why) *why = reason;
    return attached;
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
    return attached_->header().max_message;
}
const endpoint& queue_sender::where() const noexcept {
    return attached_->where();
}

bool queue_sender::wait_for_room(std::uint64_t required, std::uint64_t tail_seen,
                                 const deadline& until) {
    auto& a = *attached_;
    auto& q = a.control();
    const std::uint64_t capacity = a.header().capacity;
    auto room = [&] {
        // Another producer moving tail also calls for a fresh look under the lock.
        return capacity - (tail_seen - q.head.load(acquire)) >= required ||
               q.tail.load(relaxed) != tail_seen;
    };
    return wait_until(q.not_full, room, until, spin_, [] {});
}

std::byte* queue_sender::place(std::size_t size) noexcept {
    auto& a = *attached_;
    const std::uint64_t capacity = a.header().capacity;
    const std::uint64_t need = record_size(size);
    std::uint64_t tail = pending_tail_;
    std::uint64_t offset = tail % capacity;
    const std::uint64_t contiguous = capacity - offset;
    const std::uint64_t required = need <= contiguous ? need : contiguous + need;
    auto fits = [&] {
        return tail - cached_head_ <= capacity && capacity - (tail - cached_head_) >= required;
    };
    // acquire: the consumer had finished reading the bytes before it moved head.
    if (!fits()) cached_head_ = a.control().head.load(acquire);
    if (!fits()) {
        room_needed_ = required;
        return nullptr;
    }
    std::byte* ring = a.ring();
    if (need > contiguous) { // invisible until the commit moves tail past it
        const record_header wrap{0, detail::wrap_record};
        std::memcpy(ring + offset, &wrap, sizeof wrap);
        tail += contiguous;
        offset = 0;
    }
    const record_header record{static_cast<std::uint32_t>(size), detail::message_record};
    std::memcpy(ring + offset, &record, sizeof record);
    pending_tail_ = tail + need;
    return ring + offset + sizeof record;
}

std::byte* queue_sender::claim(std::size_t size, wait_duration wait, std::error_code& ec) {
    auto& a = *attached_;
    auto& q = a.control();
    const deadline until(wait);
    for (;;) {
        if (!a.lock_producers(ec)) return nullptr;
        pending_tail_ = q.tail.load(relaxed); // producers' lock held: ours alone
        if (std::byte* payload = place(size)) return payload;
        a.unlock_producers();
        if (wait == no_wait || !wait_for_room(room_needed_, pending_tail_, until)) return nullptr;
    }
}

void queue_sender::publish(std::uint64_t records) noexcept {
    auto& a = *attached_;
    auto& q = a.control();
    q.tail.store(pending_tail_, publish_order); // the commit: visible, whole, from here on
    q.sent.store(q.sent.load(relaxed) + records, relaxed);
    a.unlock_producers();
    q.not_empty.notify(static_cast<int>(std::min<std::uint64_t>(records, 1u << 20)));
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
    std::byte* place = claim(message.size(), wait, ec);
    if (!place) return false;
    if (!message.empty()) std::memcpy(place, message.data(), message.size());
    publish(1);
    return true;
}

std::size_t queue_sender::do_send_batch(std::span<const bytes_view> messages, wait_duration wait,
                                        std::error_code& ec) {
    std::size_t sent = 0;
    while (sent < messages.size()) {
        if (!may_send(messages[sent].size(), ec)) return sent;
        std::byte* payload = claim(messages[sent].size(), wait, ec);
        if (!payload) return sent;
        std::uint64_t records = 0;
        // As many as fit behind the first, under the one lock, then one commit.
        do {
            const auto& m = messages[sent];
            if (!m.empty()) std::memcpy(payload, m.data(), m.size());
            ++records;
            ++sent;
        } while (sent < messages.size() && messages[sent].size() <= max_message() &&
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
    std::byte* payload = claim(size, wait, ec);
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

queue_receiver::queue_receiver(std::unique_ptr<detail::attachment> attached)
    : attached_(std::move(attached)) {}

queue_receiver::queue_receiver(const endpoint& where, const channel_options& options) {
    std::error_code ec;
    std::string why;
    attached_ = attach(where, detail::role::consumer, options, ec, &why);
    if (ec) throw error(ec, why);
    min_producers_ = std::max<std::size_t>(1, options.min_producers);
}

std::unique_ptr<queue_receiver> queue_receiver::open(const endpoint& where,
                                                     const channel_options& options,
                                                     std::error_code& ec, std::string* why) {
    auto attached = attach(where, detail::role::consumer, options, ec, why);
    if (!attached) return nullptr;
    auto result = std::unique_ptr<queue_receiver>(new queue_receiver(std::move(attached)));
    result->min_producers_ = std::max<std::size_t>(1, options.min_producers);
    return result;
}

queue_receiver::~queue_receiver() {
    if (viewing_) attached_->unlock_consumers(); // head never moved: the message stays
}

std::size_t queue_receiver::max_message() const noexcept {
    return attached_->header().max_message;
}
const endpoint& queue_receiver::where() const noexcept {
    return attached_->where();
}

bool queue_receiver::stream_over() const noexcept {
    const auto& q = attached_->control();
    // acquire: a producer's detach follows its last commit, so tail below is up to date.
    if (q.producers_live.load(acquire) != 0) return false;
    if (q.producers_attached.load(relaxed) - attached_->stream_base < min_producers_) return false;
    return q.head.load(acquire) >= q.tail.load(acquire);
}

bool queue_receiver::find_record(std::uint64_t& head, std::error_code& ec) noexcept {
    auto& a = *attached_;
    const auto& h = a.header();
    for (;;) {
        // acquire: the record's bytes were written before the commit that moved tail.
        if (head >= cached_tail_) cached_tail_ = a.control().tail.load(acquire);
        if (head >= cached_tail_) return false;
        const std::uint64_t offset = head % h.capacity;
        record_header record;
        std::memcpy(&record, a.ring() + offset, sizeof record);
        if (record.kind == detail::wrap_record && head + (h.capacity - offset) <= cached_tail_) {
            head += h.capacity - offset;
            continue;
        }
        const std::uint64_t size = record_size(record.size);
        if (record.kind != detail::message_record || record.size > h.max_message ||
            offset + size > h.capacity || head + size > cached_tail_) {
            ec = errc::corrupt_data; // only a process writing the segment by hand does this
            return false;
        }
        claimed_ = {a.ring() + offset + sizeof record, record.size};
        claimed_head_ = head + size;
        return true;
    }
}

void queue_receiver::take_until(std::uint64_t head, std::uint64_t messages) noexcept {
    auto& q = attached_->control();
    q.head.store(head, publish_order); // taken: producers may now reuse the bytes
    q.received.store(q.received.load(relaxed) + messages, relaxed);
}

bool queue_receiver::wait_for_data(const deadline& until) {
    auto& a = *attached_;
    auto& q = a.control();
    auto ready = [&] { return q.tail.load(acquire) > q.head.load(relaxed) || stream_over(); };
    return wait_until(q.not_empty, ready, until, spin_, [&a] {
        // Not a blocking lock: a producer holding a reservation keeps it until its commit,
        // and this consumer's timeout must not wait for that. A producer that died holding
        // it leaves it free to take (owner died), so the sweep is only ever put off.
        if (!a.try_lock_producers()) return;
        a.reap_dead_producers(); // producers that died without a word count as closed
        a.unlock_producers();
    });
}

receive_status queue_receiver::claim(wait_duration wait, std::error_code& ec) {
    auto& a = *attached_;
    auto& q = a.control();
    const deadline until(wait);
    for (;;) {
        if (!a.lock_consumers(ec)) return receive_status::empty;
        std::uint64_t head = q.head.load(relaxed); // consumers' lock held: ours alone
        const std::uint64_t before = head;
        if (find_record(head, ec)) return receive_status::message;
        if (head != before) q.head.store(head, publish_order); // skipped a wrap: free its bytes
        a.unlock_consumers();
        if (ec) return receive_status::empty;
        if (stream_over()) return receive_status::end_of_stream;
        if (wait == no_wait || !wait_for_data(until)) return receive_status::empty;
    }
}

receive_status queue_receiver::do_receive(std::vector<std::byte>& message, wait_duration wait,
                                          std::error_code& ec) {
    ec.clear();
    release();
    const auto status = claim(wait, ec);
    if (status != receive_status::message) return status;
    message.assign(claimed_.begin(), claimed_.end());
    take_until(claimed_head_, 1);
    attached_->unlock_consumers();
    attached_->control().not_full.notify_all();
    return status;
}

receive_status queue_receiver::do_receive_batch(message_batch& batch, std::size_t max,
                                                wait_duration wait, std::error_code& ec) {
    release();
    const auto status = claim(wait, ec);
    if (status != receive_status::message) return status;
    std::uint64_t taken = 0;
    std::uint64_t head = claimed_head_;
    do {
        auto room = batch.append(claimed_.size());
        std::memcpy(room.data(), claimed_.data(), claimed_.size());
        ++taken;
        head = claimed_head_;
    } while (taken < max && batch.bytes() < batch_bytes && find_record(head, ec));
    // One store takes the whole batch: a consumer that dies before it has taken none.
    take_until(claimed_head_, taken);
    attached_->unlock_consumers();
    attached_->control().not_full.notify_all();
    ec.clear(); // a malformed record after the batch is reported by the next call
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
    std::uint64_t head = claimed_head_;
    do {
        views.push_back(claimed_);
        head = claimed_head_;
    } while (views.size() < max && find_record(head, ec));
    viewing_ = views.size(); // claimed_head_ is past the last one lent
    ec.clear();              // a malformed record after these is reported by the next call
    return status;
}

receive_status queue_receiver::receive_views(std::vector<bytes_view>& views, std::size_t max) {
    return or_throw(where(),
                    [&](std::error_code& ec) { return receive_views(views, max, forever, ec); });
}

void queue_receiver::release() noexcept {
    if (viewing_ == 0) return;
    take_until(claimed_head_, viewing_);
    viewing_ = 0;
    attached_->unlock_consumers();
    attached_->control().not_full.notify_all();
}

} // namespace conveyor::shm
