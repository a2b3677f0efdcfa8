// Sending and receiving through the shared-memory ring (docs/architecture.md, "The queue").
#include "conveyor/shm/queue.hpp"

#include "conveyor/error.hpp"
#include "shm/attachment.hpp"

#include <algorithm>
#include <cstring>

namespace conveyor::shm {
namespace {

using detail::attachment;
using detail::record_header;
using detail::record_size;
using clock = std::chrono::steady_clock;
constexpr auto relaxed = std::memory_order_relaxed; // queue fields change under the lock

// Sleepers wake at least this often to notice processes that died without a word.
constexpr std::chrono::milliseconds liveness_interval{100};

// When a blocking call must give up; wait == forever never does.
struct deadline {
    explicit deadline(wait_duration wait)
        : unbounded(wait == forever),
          at(unbounded ? clock::time_point::max() : clock::now() + wait) {}
    bool unbounded;
    clock::time_point at;

    // How long to sleep next; zero once the deadline has passed.
    wait_duration next_sleep() const {
        if (unbounded) return liveness_interval;
        const auto left = at - clock::now();
        if (left <= wait_duration::zero()) return wait_duration::zero();
        return std::min<wait_duration>(left, liveness_interval);
    }
};

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
        attached = attachment::open(
            where, as, {options.capacity, options.max_message, options.mode}, ec, reason);
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

queue_sender::~queue_sender() = default;

std::size_t queue_sender::max_message() const noexcept {
    return attached_->header().max_message;
}
const endpoint& queue_sender::where() const noexcept {
    return attached_->where();
}

bool queue_sender::do_send(bytes_view message, wait_duration wait, std::error_code& ec) {
    ec.clear();
    auto& a = *attached_;
    if (!a.attached()) {
        ec = errc::closed;
        return false;
    }
    const auto& h = a.header();
    if (message.size() > h.max_message) {
        ec = errc::message_too_large;
        return false;
    }
    auto& q = a.control();
    const std::uint64_t capacity = h.capacity;
    const std::uint64_t need = record_size(message.size());
    const deadline until(wait);
    if (!a.lock(ec)) return false;
    std::uint64_t tail;
    for (;;) {
        std::uint64_t head = q.head.load(relaxed);
        tail = q.tail.load(relaxed);
        if (head == tail && tail % capacity != 0) {
            // Empty: restart at the ring's beginning so any record up to capacity fits.
            // head first, so that a crash in between leaves head > tail (see repair).
            tail += capacity - tail % capacity;
            q.head.store(tail, relaxed);
            q.tail.store(tail, relaxed);
            head = tail;
        }
        const std::uint64_t contiguous = capacity - tail % capacity;
        const std::uint64_t required = need <= contiguous ? need : contiguous + need;
        if (capacity - (tail - head) >= required) break;
        const auto sleep = wait == no_wait ? wait_duration::zero() : until.next_sleep();
        if (sleep == wait_duration::zero()) {
            a.unlock();
            return false;
        }
        const auto ticket = q.not_full.prepare_wait();
        a.unlock();
        q.not_full.wait(ticket, sleep);
        if (!a.lock(ec)) return false;
    }
    std::byte* ring = a.ring();
    std::uint64_t offset = tail % capacity;
    if (need > capacity - offset) {
        const record_header wrap{0, detail::wrap_record};
        std::memcpy(ring + offset, &wrap, sizeof wrap);
        tail += capacity - offset;
        offset = 0;
    }
    const record_header record{static_cast<std::uint32_t>(message.size()), detail::message_record};
    std::memcpy(ring + offset, &record, sizeof record);
    if (!message.empty())
        std::memcpy(ring + offset + sizeof record, message.data(), message.size());
    q.tail.store(tail + need, relaxed); // the commit: the record is visible from here on
    q.messages.fetch_add(1, relaxed);
    q.sent.fetch_add(1, relaxed);
    a.unlock();
    q.not_empty.notify(1);
    return true;
}

void queue_sender::do_close(std::error_code& ec) {
    ec.clear();
    auto& a = *attached_;
    if (!a.attached()) return;
    if (!a.lock(ec)) return;
    a.detach();
    a.unlock();
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

queue_receiver::~queue_receiver() = default;

std::size_t queue_receiver::max_message() const noexcept {
    return attached_->header().max_message;
}
const endpoint& queue_receiver::where() const noexcept {
    return attached_->where();
}

receive_status queue_receiver::do_receive(std::vector<std::byte>& message, wait_duration wait,
                                          std::error_code& ec) {
    ec.clear();
    auto& a = *attached_;
    auto& q = a.control();
    const std::uint64_t capacity = a.header().capacity;
    const deadline until(wait);
    auto last_sweep = clock::now();
    if (!a.lock(ec)) return receive_status::empty;
    for (;;) {
        std::uint64_t head = q.head.load(relaxed);
        const std::uint64_t tail = q.tail.load(relaxed);
        if (head != tail) {
            const std::uint64_t offset = head % capacity;
            record_header record;
            std::memcpy(&record, a.ring() + offset, sizeof record);
            if (record.kind == detail::wrap_record) {
                q.head.store(head + (capacity - offset), relaxed);
                continue;
            }
            message.resize(record.size);
            if (record.size != 0)
                std::memcpy(message.data(), a.ring() + offset + sizeof record, record.size);
            q.head.store(head + record_size(record.size), relaxed); // taken
            q.messages.fetch_sub(1, relaxed);
            q.received.fetch_add(1, relaxed);
            a.unlock();
            q.not_full.notify_all();
            return receive_status::message;
        }
        const bool stream_over =
            q.producers_live.load(relaxed) == 0 &&
            q.producers_attached.load(relaxed) - a.stream_base >= min_producers_;
        if (stream_over) {
            a.unlock();
            return receive_status::end_of_stream;
        }
        const auto sleep = wait == no_wait ? wait_duration::zero() : until.next_sleep();
        if (sleep == wait_duration::zero()) {
            a.unlock();
            return receive_status::empty;
        }
        const auto ticket = q.not_empty.prepare_wait();
        a.unlock();
        q.not_empty.wait(ticket, sleep);
        if (!a.lock(ec)) return receive_status::empty;
        // Producers may have died without a word: look at most once per interval.
        if (clock::now() - last_sweep >= liveness_interval) {
            a.reap_dead();
            last_sweep = clock::now();
        }
    }
}

} // namespace conveyor::shm
