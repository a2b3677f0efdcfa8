// Taking messages from a durable pull consumer with JetStream's pull requests: one request
// in force at a time, held by the server until it has its batch or expires, so that
// messages stream in as they are published; between requests a waiting receiver looks
// whether the stream has ended. docs/nats.md, "Receiving".
#include "nats/receiver.hpp"

#include "conveyor/error.hpp"
#include "nats/failure.hpp"
#include "nats/setup.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>
#include <utility>

namespace conveyor::nats::detail {
namespace {

// A request that does not wait is still answered within this long, or counts as expired
// (the server holds one while the durable is at its max ack pending).
constexpr std::chrono::milliseconds answer_timeout{1'000};
// Closing, a receiver waits this long for what the server sent before it stopped asking.
constexpr std::chrono::milliseconds drain_wait{200};
// The client waits this much past a request's expiry for the server's word that it expired.
constexpr std::chrono::milliseconds expiry_margin{20};
// JetStream's answers to an acknowledgement's reply subject.
constexpr std::string_view ack_payload = "+ACK";
constexpr std::string_view nak_payload = "-NAK";
// The status of a heartbeat, the only status that does not end a pull request.
constexpr std::string_view heartbeat_status = "100";

// A field of msg's reply subject: $JS.ACK.STREAM.CONSUMER.DELIVERED.SSEQ.CSEQ.TIME.PENDING
// (9 tokens), or with a domain and an account hash after ACK (11 or 12 tokens); index
// counts from DELIVERED. fallback when msg did not come from JetStream.
std::uint64_t ack_field(natsMsg* msg, std::size_t index, std::uint64_t fallback) {
    const char* reply = natsMsg_GetReply(msg);
    if (reply == nullptr) return fallback;
    std::string_view rest(reply);
    std::string_view tokens[12];
    std::size_t n = 0;
    while (n < 12) {
        const auto dot = std::min(rest.find('.'), rest.size());
        tokens[n++] = rest.substr(0, dot);
        if (dot == rest.size()) break;
        rest.remove_prefix(dot + 1);
    }
    if (n < 9 || tokens[0] != "$JS" || tokens[1] != "ACK") return fallback;
    const auto field = tokens[(n == 9 ? 4 : 6) + index];
    std::uint64_t value = fallback;
    std::from_chars(field.data(), field.data() + field.size(), value);
    return value;
}

// How many times JetStream delivered msg.
std::uint64_t deliveries(natsMsg* msg) {
    return ack_field(msg, 0, 1);
}

// msg's sequence number in the stream.
std::uint64_t stream_sequence(natsMsg* msg) {
    return ack_field(msg, 1, 0);
}

bytes_view data_of(natsMsg* msg) {
    return {reinterpret_cast<const std::byte*>(natsMsg_GetData(msg)),
            static_cast<std::size_t>(natsMsg_GetDataLength(msg))};
}

// The request number a status answers: the last token of its subject (our inbox).
std::uint64_t request_of(natsMsg* msg) {
    const std::string_view subject(natsMsg_GetSubject(msg));
    const auto dot = subject.rfind('.');
    std::uint64_t number = 0;
    if (dot != std::string_view::npos)
        std::from_chars(subject.data() + dot + 1, subject.data() + subject.size(), number);
    return number;
}

// A status from the server (no payload, a Status header) rather than a message.
bool status_of(natsMsg* msg, const char*& status) {
    status = nullptr;
    return natsMsg_GetDataLength(msg) == 0 &&
           natsMsgHeader_Get(msg, "Status", &status) == NATS_OK && status != nullptr;
}

natsStatus answer(natsConnection* nc, natsMsg* msg, std::string_view payload) {
    const char* reply = natsMsg_GetReply(msg);
    if (reply == nullptr) return NATS_OK; // not JetStream's: nothing to acknowledge
    return natsConnection_Publish(nc, reply, payload.data(), static_cast<int>(payload.size()));
}

} // namespace

stream_receiver::stream_receiver(const endpoint& where, address parsed,
                                 const channel_options& options)
    : where_(where), address_(std::move(parsed)), acknowledge_(options.acknowledge),
      min_producers_(std::max<std::size_t>(options.min_producers, 1)) {}

std::unique_ptr<stream_receiver> stream_receiver::open(const endpoint& where,
                                                       const channel_options& options,
                                                       std::error_code& ec, std::string* why) {
    address parsed;
    if (!parse_endpoint(where, parsed, ec, why)) return nullptr;
    std::string reason;
    std::unique_ptr<stream_receiver> r(new stream_receiver(where, std::move(parsed), options));
    connection::settings how;
    how.timeout = options.connect_timeout;
    const auto give_up = setup_clock::now() + options.connect_timeout;
    auto& a = r->address_;
    r->connection_ = connection::open(a, how, ec, reason);
    if (r->connection_ && ensure_stream(*r->connection_, a, give_up, ec, reason) &&
        ensure_durable(*r->connection_, a, give_up, r->max_ack_pending_, ec, reason))
        r->producers_ = producer_watch::open(*r->connection_, a, give_up, ec, reason);
    if (!ec) {
        natsInbox* inbox = nullptr;
        natsStatus s = natsInbox_Create(&inbox);
        if (s == NATS_OK) {
            r->inbox_ = inbox;
            natsInbox_Destroy(inbox);
            s = natsConnection_SubscribeSync(&r->subscription_, r->connection_->get(),
                                             (r->inbox_ + ".*").c_str());
        }
        // A batch is as large as the caller asks; nats.c must not drop part of it.
        if (s == NATS_OK) s = natsSubscription_SetPendingLimits(r->subscription_, -1, -1);
        if (s != NATS_OK) {
            ec = failure::refused;
            reason = "durable " + a.durable + " of stream " + a.stream + " on " +
                     r->connection_->server() + ": subscribing: " + last_error_text(s);
        }
        r->next_subject_ = "$JS.API.CONSUMER.MSG.NEXT." + a.stream + "." + a.durable;
    }
    if (!ec) {
        // A stream that is over when the receiver starts (every producer it had closed or
        // died, and nothing left) is not this receiver's: it waits for the next one, as on
        // shm://.
        std::uint64_t pending = 0;
        std::int64_t unacknowledged = 0;
        if (r->producers_->complete() && r->producers_->attached() >= r->min_producers_ &&
            r->producers_->all_finished(clock::now()) &&
            durable_backlog(*r->connection_, a, pending, unacknowledged, ec, reason) &&
            pending == 0 && unacknowledged == 0)
            r->producers_->begin_next_stream();
    }
    if (ec) {
        if (why) *why = without_passwords(where.uri()) + ": " + reason;
        return nullptr;
    }
    r->max_message_ = static_cast<std::size_t>(r->connection_->max_payload());
    r->last_look_ = clock::now();
    return r;
}

stream_receiver::~stream_receiver() {
    give_back();
    natsSubscription_Destroy(subscription_);
}

void stream_receiver::give_back() noexcept {
    if (!connection_ || subscription_ == nullptr) return;
    // Our requests in force end first (they expire within a slice): the server would
    // otherwise deliver what we give back to one of them, and nats-server 2.9 then loses
    // track of it until ack_wait. What they bring meanwhile is given back too.
    const auto until = clock::now() + answer_timeout;
    for (auto now = clock::now(); !pulls_.empty() && now < until; now = clock::now()) {
        forget_expired(now);
        if (!pulls_.empty() && wait_for_answer(std::min(until, pulls_.front().expires)))
            take_arrived();
    }
    // Whatever was delivered and not acknowledged goes back at once (a nak), rather than
    // after ack_wait: what the caller holds and what it was not handed yet.
    natsConnection* nc = connection_->get();
    for (std::size_t i = next_; i < fetched_.size(); ++i) {
        answer(nc, fetched_[i], nak_payload);
        natsMsg_Destroy(fetched_[i]);
    }
    for (natsMsg* m : held_) {
        answer(nc, m, nak_payload);
        natsMsg_Destroy(m);
    }
    fetched_.clear();
    held_.clear();
    next_ = 0;
    natsSubscription_Unsubscribe(subscription_);
    natsConnection_FlushTimeout(nc, answer_timeout.count());
}

std::string stream_receiver::describe() const {
    return detail_.empty() ? without_passwords(where_.uri())
                           : without_passwords(where_.uri()) + " (" + detail_ + ")";
}

bool stream_receiver::request(std::size_t n, bool no_wait, std::error_code& ec) {
    char body[96];
    const int length =
        no_wait ? std::snprintf(body, sizeof body, "{\"batch\":%zu,\"no_wait\":true}", n)
                : std::snprintf(body, sizeof body, "{\"batch\":%zu,\"expires\":%lld}", n,
                                static_cast<long long>(std::chrono::nanoseconds(slice_).count()));
    const std::uint64_t number = ++last_pull_;
    const std::string reply = inbox_ + "." + std::to_string(number);
    const natsStatus s = natsConnection_PublishRequest(connection_->get(), next_subject_.c_str(),
                                                       reply.c_str(), body, length);
    if (s != NATS_OK && s != NATS_INSUFFICIENT_BUFFER && s != NATS_CONNECTION_DISCONNECTED) {
        ec = failure::refused;
        detail_ = "durable " + address_.durable + " of stream " + address_.stream + " on " +
                  connection_->server() + ": asking for messages: " + last_error_text(s);
        return false;
    }
    // A request that could not go out (a reconnect under way) expires like any other.
    unflushed_ = true;
    pulls_.push_back(
        {number, n, clock::now() + (no_wait ? answer_timeout : slice_ + expiry_margin)});
    asked_ += n;
    return true;
}

void stream_receiver::forget_expired(clock::time_point now) {
    for (auto p = pulls_.begin(); p != pulls_.end();) {
        if (p->expires > now) {
            ++p;
            continue;
        }
        asked_ -= p->left;
        p = pulls_.erase(p);
    }
}

bool stream_receiver::top_up(std::error_code& ec) {
    forget_expired(clock::now());
    if (asked_ >= max_fetch / 2) return true;
    // Delivered and unacknowledged counts against the durable's max ack pending: a request
    // for more than is left would wait until it expires.
    const auto taken = static_cast<std::int64_t>(held_.size() + in_hand() + asked_);
    const auto room = std::min<std::int64_t>(max_ack_pending_ - taken,
                                             static_cast<std::int64_t>(max_fetch - asked_));
    return room <= 0 || request(static_cast<std::size_t>(room), false, ec);
}

void stream_receiver::take(natsMsg* msg) {
    const char* status = nullptr;
    if (status_of(msg, status)) {
        // 404 nothing there, 408 expired, 409 refused (too many requests waiting, the
        // durable deleted or its leader changed): that request is over.
        const auto number = request_of(msg);
        const auto p = std::find_if(pulls_.begin(), pulls_.end(),
                                    [&](const pull& q) { return q.number == number; });
        if (p != pulls_.end() && std::string_view(status) != heartbeat_status) {
            asked_ -= p->left;
            pulls_.erase(p);
        }
        natsMsg_Destroy(msg);
        return;
    }
    // Deliveries carry the stream's subject, not the request's: each counts against the
    // oldest request, which the server serves first.
    fetched_.push_back(msg);
    if (pulls_.empty()) return;
    --asked_;
    if (--pulls_.front().left == 0) pulls_.pop_front();
}

void stream_receiver::take_arrived() {
    int queued = 0;
    while (natsSubscription_GetPending(subscription_, &queued, nullptr) == NATS_OK && queued > 0) {
        for (; queued > 0; --queued) {
            natsMsg* msg = nullptr;
            if (natsSubscription_NextMsg(&msg, subscription_, 0) != NATS_OK) return;
            take(msg);
        }
    }
}

bool stream_receiver::wait_for_answer(clock::time_point until) {
    if (std::exchange(unflushed_, false)) {
        // nats.c holds what we write for up to a millisecond, to gather more: a request we
        // are about to wait for goes out now (the flush's round trip is part of the wait).
        natsConnection_FlushTimeout(connection_->get(), answer_timeout.count());
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(until - clock::now()).count();
    natsMsg* msg = nullptr;
    if (left <= 0 || natsSubscription_NextMsg(&msg, subscription_, left) != NATS_OK) return false;
    take(msg);
    return true;
}

bool stream_receiver::stream_over(std::error_code& ec) {
    last_look_ = clock::now();
    producers_->refresh();
    if (producers_->attached() < min_producers_ || !producers_->all_finished(last_look_))
        return false;
    // Our own acknowledgements go out before the question, so that they are counted.
    natsConnection_FlushTimeout(connection_->get(), answer_timeout.count());
    std::uint64_t pending = 0;
    std::int64_t unacknowledged = 0;
    std::string why;
    if (!durable_backlog(*connection_, address_, pending, unacknowledged, ec, why)) {
        detail_ = why;
        return false;
    }
    // What this receiver holds unacknowledged is its own to ack or give back.
    return pending == 0 && unacknowledged <= held_messages();
}

receive_status stream_receiver::fill(clock::time_point until, std::error_code& ec) {
    if (next_ < fetched_.size()) return receive_status::message;
    fetched_.clear();
    next_ = 0;
    if (static_cast<std::int64_t>(held_.size()) >= max_ack_pending_) {
        ec = errc::invalid_argument;
        detail_ = "holding " + std::to_string(held_.size()) +
                  " messages not acknowledged, the durable's max ack pending: ack() first";
        return receive_status::empty;
    }
    take_arrived();
    if (!fetched_.empty()) {
        slice_ = first_slice;
        return receive_status::message;
    }
    if (until <= clock::now()) {
        // Not waiting: with no request in force, ask what is there now (one round trip);
        // with one, what is there is on its way already.
        if (pulls_.empty() &&
            request(std::min<std::size_t>(max_fetch, max_ack_pending_ - held_.size()), true, ec))
            while (!pulls_.empty() && fetched_.empty() && wait_for_answer(pulls_.back().expires))
                take_arrived();
        if (!fetched_.empty()) {
            slice_ = first_slice;
            return receive_status::message;
        }
        if (!ec && clock::now() - last_look_ >= slice_ && stream_over(ec))
            return receive_status::end_of_stream;
        return receive_status::empty;
    }
    for (;;) {
        if (!top_up(ec)) return receive_status::empty;
        const auto next_expiry = pulls_.empty() ? clock::now() + slice_ : pulls_.front().expires;
        if (wait_for_answer(std::min(until, next_expiry))) {
            take_arrived();
            if (!fetched_.empty()) {
                slice_ = first_slice;
                return receive_status::message;
            }
        }
        const auto now = clock::now();
        if (now - last_look_ >= slice_) {
            if (stream_over(ec)) return receive_status::end_of_stream;
            // Nothing came for a whole slice: the next one is longer.
            slice_ = std::min<std::chrono::milliseconds>(2 * slice_, idle_slice);
        }
        if (ec || now >= until) return receive_status::empty;
    }
}

std::int64_t stream_receiver::held_messages() const {
    std::set<std::uint64_t> sequences;
    for (natsMsg* m : held_)
        sequences.insert(stream_sequence(m));
    return static_cast<std::int64_t>(sequences.size());
}

natsMsg* stream_receiver::take_next() {
    natsMsg* msg = fetched_[next_++];
    if (acknowledge_) held_.push_back(msg);
    return msg;
}

receive_status stream_receiver::do_receive(std::vector<std::byte>& message, wait_duration wait,
                                           std::error_code& ec) {
    const auto until = wait == forever
                           ? clock::time_point::max()
                           : clock::now() + std::chrono::duration_cast<clock::duration>(wait);
    const auto status = fill(until, ec);
    if (status != receive_status::message) return status;
    natsMsg* msg = take_next();
    const auto data = data_of(msg);
    message.assign(data.begin(), data.end());
    set_redelivered(deliveries(msg) > 1);
    if (!acknowledge_) {
        answer(connection_->get(), msg, ack_payload);
        natsMsg_Destroy(msg);
    }
    return status;
}

receive_status stream_receiver::do_receive_batch(message_batch& batch, std::size_t max,
                                                 wait_duration wait, std::error_code& ec) {
    const auto until = wait == forever
                           ? clock::time_point::max()
                           : clock::now() + std::chrono::duration_cast<clock::duration>(wait);
    const auto status = fill(until, ec);
    if (status != receive_status::message) return status;
    while (batch.size() < max && next_ < fetched_.size()) {
        natsMsg* msg = take_next();
        const auto data = data_of(msg);
        auto room = batch.append(data.size());
        if (!data.empty()) std::memcpy(room.data(), data.data(), data.size());
        if (deliveries(msg) > 1) batch.mark_redelivered();
        if (!acknowledge_) {
            answer(connection_->get(), msg, ack_payload);
            natsMsg_Destroy(msg);
        }
    }
    return status;
}

void stream_receiver::do_ack(std::error_code& ec) {
    natsStatus first = NATS_OK;
    for (natsMsg* m : held_) {
        const natsStatus s = answer(connection_->get(), m, ack_payload);
        if (first == NATS_OK) first = s;
        natsMsg_Destroy(m);
    }
    held_.clear();
    if (first != NATS_OK) {
        // Not lost: what the server did not hear acknowledged comes again after ack_wait.
        ec = failure::refused;
        detail_ = "acknowledging: " + last_error_text(first);
    }
}

} // namespace conveyor::nats::detail
