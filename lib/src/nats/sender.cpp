// Publishing to a JetStream stream within a window of unconfirmed messages, reading the
// confirmations from an inbox of our own, resending in order what a reconnect or a lost
// confirmation left unconfirmed. docs/nats.md, "Sending".
#include "nats/sender.hpp"

#include "conveyor/error.hpp"
#include "nats/failure.hpp"
#include "nats/setup.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <random>
#include <unistd.h>
#include <utility>

namespace conveyor::nats::detail {
namespace {

using clock = std::chrono::steady_clock;

constexpr const char* message_id_header = "Nats-Msg-Id";
// The decimal digits of a 64-bit sequence number, at most.
constexpr std::size_t max_digits = 20;
// While the connection is away, a waiting send looks for its return this often.
constexpr std::chrono::milliseconds reconnect_poll{50};

std::string random_instance() {
    std::random_device seed;
    std::mt19937_64 bits((std::uint64_t(seed()) << 32) ^ seed() ^ std::uint64_t(::getpid()));
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(bits()));
    return text;
}

clock::time_point deadline(wait_duration wait) {
    return wait == forever ? clock::time_point::max()
                           : clock::now() + std::chrono::duration_cast<clock::duration>(wait);
}

// Publishes that failed because the connection is away: the message is sent again later.
bool connection_away(natsStatus s) {
    return s == NATS_INSUFFICIENT_BUFFER || s == NATS_CONNECTION_DISCONNECTED ||
           s == NATS_NOT_YET_CONNECTED;
}

// What JetStream answered a publish: {"stream":"S","seq":N[,"duplicate":true]}, or
// {"error":{"code":C,"err_code":E,"description":"D"}}, or a 503 status with no payload when
// no stream took the subject (a stream's leader being elected).
struct answer {
    bool confirmed = false;
    bool worth_resending = false;
    int code = 0; // JetStream's err_code
    std::string text;
};

answer read_answer(natsMsg* reply) {
    answer a;
    const std::string_view payload(natsMsg_GetData(reply),
                                   static_cast<std::size_t>(natsMsg_GetDataLength(reply)));
    const char* status = nullptr;
    if (payload.empty() && natsMsgHeader_Get(reply, "Status", &status) == NATS_OK) {
        a.worth_resending = true; // 503: no responders
        a.text = std::string("status ") + (status != nullptr ? status : "?");
        return a;
    }
    if (payload.find("\"error\"") == std::string_view::npos) {
        a.confirmed = true;
        return a;
    }
    if (const auto at = payload.find("\"err_code\":"); at != std::string_view::npos) {
        const auto digits = payload.substr(at + 11);
        std::from_chars(digits.data(), digits.data() + digits.size(), a.code);
    }
    if (const auto at = payload.find("\"description\":\""); at != std::string_view::npos) {
        const auto rest = payload.substr(at + 15);
        a.text = std::string(rest.substr(0, rest.find('"')));
    }
    a.worth_resending = a.code == JSClusterNotAvailErr || a.code == JSClusterNotLeaderErr ||
                        a.code == JSStreamOfflineErr;
    return a;
}

std::error_code refusal_code(const answer& a) {
    if (a.code == JSStreamMessageExceedsMaximumErr) return errc::message_too_large;
    if (a.text.find("maximum messages exceeded") != std::string::npos ||
        a.text.find("maximum bytes exceeded") != std::string::npos)
        return failure::stream_full;
    return failure::refused;
}

} // namespace

stream_sender::stream_sender(const endpoint& where, address parsed, const channel_options& options)
    : where_(where), address_(std::move(parsed)), timeout_(options.connect_timeout),
      sync_(options.sync), instance_(random_instance()), last_progress_(clock::now()) {}

std::unique_ptr<stream_sender> stream_sender::open(const endpoint& where,
                                                   const channel_options& options,
                                                   std::error_code& ec, std::string* why) {
    address parsed;
    if (!parse_endpoint(where, parsed, ec, why)) return nullptr;
    std::string reason;
    std::unique_ptr<stream_sender> s(new stream_sender(where, std::move(parsed), options));
    s->closed_ = true; // until it is open: nothing to close
    connection::settings how;
    how.timeout = options.connect_timeout;
    // A publish while the connection is away fails at once, rather than waiting in nats.c
    // to go out after the reconnect ahead of the resent messages it follows.
    how.buffer_while_reconnecting = false;
    const auto give_up = setup_clock::now() + options.connect_timeout;
    s->connection_ = connection::open(s->address_, how, ec, reason);
    if (s->connection_ && s->subscribe(reason) &&
        ensure_stream(*s->connection_, s->address_, give_up, ec, reason))
        s->record_ = producer_record::attach(*s->connection_, s->address_, options.producer_name,
                                             give_up, ec, reason);
    if (!ec && !s->record_) ec = failure::refused; // subscribe() failed
    if (ec) {
        if (why) *why = without_passwords(where.uri()) + ": " + reason;
        return nullptr;
    }
    const auto payload = static_cast<std::size_t>(s->connection_->max_payload());
    s->max_message_ = payload > header_allowance ? payload - header_allowance : 0;
    s->closed_ = false;
    return s;
}

bool stream_sender::subscribe(std::string& why) {
    natsInbox* inbox = nullptr;
    natsStatus s = natsInbox_Create(&inbox);
    if (s == NATS_OK) {
        inbox_ = inbox;
        natsInbox_Destroy(inbox);
        reply_.assign(inbox_.size() + 1 + max_digits + 1, '\0');
        std::copy(inbox_.begin(), inbox_.end(), reply_.begin());
        reply_[inbox_.size()] = '.';
        id_.assign(instance_.size() + 1 + max_digits + 1, '\0');
        std::copy(instance_.begin(), instance_.end(), id_.begin());
        id_[instance_.size()] = '-';
        s = natsConnection_SubscribeSync(&confirmations_, connection_->get(),
                                         (inbox_ + ".*").c_str());
    }
    // Up to a window of confirmations may wait: nats.c must drop none.
    if (s == NATS_OK) s = natsSubscription_SetPendingLimits(confirmations_, -1, -1);
    if (s == NATS_OK) s = natsStatistics_Create(&statistics_);
    if (s != NATS_OK) why = connection_->server() + ": subscribing: " + last_error_text(s);
    return s == NATS_OK;
}

stream_sender::~stream_sender() {
    std::error_code ignored;
    if (!closed_) do_close(ignored);
    // Confirmations still on their way (after a failure) are no longer wanted.
    if (confirmations_ != nullptr) natsSubscription_Unsubscribe(confirmations_);
    natsSubscription_Destroy(confirmations_);
    for (auto& e : window_)
        natsMsg_Destroy(e.msg);
    record_.reset(); // its heartbeat uses the connection
    connection_.reset();
    natsStatistics_Destroy(statistics_);
}

std::string stream_sender::describe() const {
    return detail_.empty() ? without_passwords(where_.uri())
                           : without_passwords(where_.uri()) + " (" + detail_ + ")";
}

void stream_sender::fail(std::error_code ec, std::string text) {
    if (failure_) return;
    failure_ = ec;
    detail_ = std::move(text) + " on " + connection_->server();
}

void stream_sender::take(natsMsg* reply) {
    const std::string_view subject(natsMsg_GetSubject(reply));
    std::uint64_t sequence = 0;
    const auto dot = subject.rfind('.');
    std::from_chars(subject.data() + dot + 1, subject.data() + subject.size(), sequence);
    // Another answer to a message resent, or to one already confirmed: nothing to do.
    if (sequence < base_ || sequence - base_ >= window_.size() ||
        window_[sequence - base_].msg == nullptr) {
        natsMsg_Destroy(reply);
        return;
    }
    const answer a = read_answer(reply);
    natsMsg_Destroy(reply);
    if (!a.confirmed && a.worth_resending) {
        disrupted_ = true;
        return;
    }
    auto& e = window_[sequence - base_];
    if (!a.confirmed) fail(refusal_code(a), "stream " + address_.stream + ": " + a.text);
    natsMsg_Destroy(std::exchange(e.msg, nullptr));
    --unconfirmed_;
    unconfirmed_bytes_ -= e.bytes;
    last_progress_ = clock::now();
    while (!window_.empty() && window_.front().msg == nullptr) {
        window_.pop_front();
        ++base_;
    }
}

bool stream_sender::take_confirmations(clock::time_point until) {
    bool took = false;
    for (;;) {
        int queued = 0;
        while (natsSubscription_GetPending(confirmations_, &queued, nullptr) == NATS_OK &&
               queued > 0) {
            for (; queued > 0; --queued) {
                natsMsg* reply = nullptr;
                if (natsSubscription_NextMsg(&reply, confirmations_, 0) != NATS_OK) break;
                take(reply);
                took = true;
            }
        }
        const auto now = clock::now();
        if (took || now >= until) return took;
        // Whole milliseconds: nats.c's unit; a wait shorter than one is rounded up.
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(
            std::min<clock::duration>(until - now, reconnect_poll));
        natsMsg* reply = nullptr;
        if (natsSubscription_NextMsg(&reply, confirmations_, left.count()) != NATS_OK) return false;
        take(reply);
        took = true;
    }
}

bool stream_sender::reconnected() {
    std::uint64_t reconnects = 0;
    if (natsConnection_GetStats(connection_->get(), statistics_) != NATS_OK ||
        natsStatistics_GetCounts(statistics_, nullptr, nullptr, nullptr, nullptr, &reconnects) !=
            NATS_OK)
        return false;
    return std::exchange(reconnects_, reconnects) != reconnects;
}

void stream_sender::resend_if_disrupted() {
    const auto now = clock::now();
    if (reconnected()) disrupted_ = true;
    if (unconfirmed_ > 0 && now - std::max(last_progress_, last_resend_) > confirmation_timeout)
        disrupted_ = true;
    if (!disrupted_ || !connection_->connected()) return;
    disrupted_ = false;
    last_resend_ = now;
    for (auto& e : window_) {
        if (e.msg == nullptr) continue;
        if (natsConnection_PublishMsg(connection_->get(), e.msg) != NATS_OK) {
            disrupted_ = true; // away again: the rest waits for the next reconnect
            return;
        }
    }
}

bool stream_sender::publish(bytes_view message, clock::time_point until, std::error_code& ec) {
    if (message.size() > max_message_) {
        detail_ = std::to_string(message.size()) + " bytes, more than the " +
                  std::to_string(max_message_) + " that " + connection_->server() +
                  " takes (its max_payload, less room for headers)";
        ec = errc::message_too_large;
        return false;
    }
    const auto room = [&] {
        return unconfirmed_ < max_unconfirmed &&
               (unconfirmed_ == 0 || unconfirmed_bytes_ + message.size() <= max_unconfirmed_bytes);
    };
    resend_if_disrupted();
    take_confirmations(clock::time_point::min());
    if (!room()) {
        // Full: wait until half the window is confirmed, so that the sender wakes once per
        // half window, not once per confirmation (each wake-up is a thread switch).
        while (clock::now() < until && !failure_ &&
               (unconfirmed_ > max_unconfirmed / 2 ||
                unconfirmed_bytes_ > max_unconfirmed_bytes / 2)) {
            take_confirmations(until);
            resend_if_disrupted();
        }
    }
    if (failure_) {
        ec = failure_;
        return false;
    }
    if (!room()) return false; // the wait passed
    const std::uint64_t sequence = base_ + window_.size();
    const auto end_reply = std::to_chars(reply_.data() + inbox_.size() + 1,
                                         reply_.data() + reply_.size() - 1, sequence)
                               .ptr;
    *end_reply = '\0';
    const auto end_id =
        std::to_chars(id_.data() + instance_.size() + 1, id_.data() + id_.size() - 1, sequence).ptr;
    *end_id = '\0';
    natsMsg* msg = nullptr;
    natsStatus s = natsMsg_Create(&msg, address_.subject.c_str(), reply_.data(),
                                  reinterpret_cast<const char*>(message.data()),
                                  static_cast<int>(message.size()));
    if (s == NATS_OK) s = natsMsgHeader_Set(msg, message_id_header, id_.data());
    if (s == NATS_OK && !disrupted_) s = natsConnection_PublishMsg(connection_->get(), msg);
    if (s != NATS_OK && !connection_away(s)) {
        natsMsg_Destroy(msg);
        fail(s == NATS_MAX_PAYLOAD ? std::error_code(errc::message_too_large)
                                   : std::error_code(failure::refused),
             "stream " + address_.stream + ": publishing: " + last_error_text(s));
        ec = failure_;
        return false;
    }
    // Away, or behind messages that wait to be resent: it goes with them, in order.
    if (s != NATS_OK) disrupted_ = true;
    if (unconfirmed_ == 0) last_progress_ = clock::now();
    window_.push_back({msg, message.size()});
    ++unconfirmed_;
    unconfirmed_bytes_ += message.size();
    return true;
}

bool stream_sender::confirm(std::error_code& ec) {
    // nats.c holds what we write for up to a millisecond, to gather more: what we are about
    // to wait for goes out now (the flush's round trip is part of the wait).
    if (unconfirmed_ > 0 && connection_->connected())
        natsConnection_FlushTimeout(connection_->get(), timeout_.count());
    // As long as the server makes progress (or comes back within the timeout), this waits:
    // what was sent is not taken back.
    while (unconfirmed_ > 0 && !failure_) {
        resend_if_disrupted();
        take_confirmations(clock::now() + reconnect_poll);
        if (unconfirmed_ > 0 && clock::now() - last_progress_ > timeout_)
            fail(failure::unconfirmed, std::to_string(unconfirmed_) +
                                           " messages not confirmed by stream " + address_.stream +
                                           " within " + std::to_string(timeout_.count()) + " ms");
    }
    if (failure_) ec = failure_;
    return !failure_;
}

bool stream_sender::do_send(bytes_view message, wait_duration wait, std::error_code& ec) {
    ec.clear();
    if (closed_) {
        ec = errc::closed;
        return false;
    }
    if (!publish(message, deadline(wait), ec)) return false;
    return sync_ == sync_policy::none || confirm(ec);
}

std::size_t stream_sender::do_send_batch(std::span<const bytes_view> messages, wait_duration wait,
                                         std::error_code& ec) {
    if (closed_) {
        ec = errc::closed;
        return 0;
    }
    const auto until = deadline(wait);
    std::size_t sent = 0;
    while (sent < messages.size() && publish(messages[sent], until, ec)) {
        ++sent;
        if (sync_ == sync_policy::always && !confirm(ec)) return sent;
    }
    if (sent > 0 && sync_ == sync_policy::batch) confirm(ec);
    return sent;
}

void stream_sender::do_close(std::error_code& ec) {
    ec.clear();
    if (closed_) return;
    closed_ = true;
    // The record stays open if the server did not confirm everything: an anonymous
    // producer's expires, a named one's stream waits for the next process under its name.
    if (!confirm(ec)) return;
    std::string why;
    if (!record_->close(clock::now() + timeout_, ec, why)) detail_ = why;
}

} // namespace conveyor::nats::detail
