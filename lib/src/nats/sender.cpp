// Publishing to a JetStream stream asynchronously, within a window, resending in order what
// a reconnect or a lost confirmation left unconfirmed. docs/nats.md, "Sending".
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

constexpr const char* message_id_header = "Nats-Msg-Id";
// While the connection is away, a waiting send looks for its return this often.
constexpr std::chrono::milliseconds reconnect_poll{50};

std::string random_instance() {
    std::random_device seed;
    std::mt19937_64 bits((std::uint64_t(seed()) << 32) ^ seed() ^ std::uint64_t(::getpid()));
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(bits()));
    return text;
}

// The sequence number in a message id "INSTANCE-SEQUENCE".
std::uint64_t sequence_of(natsMsg* msg) {
    const char* id = nullptr;
    std::uint64_t sequence = 0;
    if (natsMsgHeader_Get(msg, message_id_header, &id) != NATS_OK || id == nullptr) return 0;
    const char* dash = std::strrchr(id, '-');
    if (dash != nullptr) std::from_chars(dash + 1, id + std::strlen(id), sequence);
    return sequence;
}

// Refusals worth sending again: nobody answered for the stream (its leader is being
// elected) or the cluster could not take it now.
bool worth_resending(const jsPubAckErr& e) {
    return e.Err == NATS_NO_RESPONDERS || e.Err == NATS_TIMEOUT ||
           e.ErrCode == JSClusterNotAvailErr || e.ErrCode == JSClusterNotLeaderErr ||
           e.ErrCode == JSStreamOfflineErr;
}

// Publishes that failed because the connection is away: the message stays ours.
bool connection_away(natsStatus s) {
    return s == NATS_INSUFFICIENT_BUFFER || s == NATS_CONNECTION_DISCONNECTED ||
           s == NATS_NOT_YET_CONNECTED;
}

} // namespace

stream_sender::stream_sender(const endpoint& where, address parsed, const channel_options& options)
    : where_(where), address_(std::move(parsed)), timeout_(options.connect_timeout),
      instance_(random_instance()), last_progress_(clock::now()) {}

std::unique_ptr<stream_sender> stream_sender::open(const endpoint& where,
                                                   const channel_options& options,
                                                   std::error_code& ec, std::string* why) {
    std::string reason;
    address parsed;
    if (!parse_address(where.name(), parsed, reason)) {
        ec = errc::invalid_endpoint;
        if (why) *why = where.uri() + ": " + reason;
        return nullptr;
    }
    std::unique_ptr<stream_sender> s(new stream_sender(where, std::move(parsed), options));
    connection::settings how;
    how.timeout = options.connect_timeout;
    how.buffer_while_reconnecting = false; // resend() keeps the order instead
    how.ack_handler = &stream_sender::on_ack;
    how.ack_closure = s.get();
    how.disconnected = &stream_sender::on_disconnected;
    how.disconnected_closure = s.get();
    const auto give_up = setup_clock::now() + options.connect_timeout;
    s->connection_ = connection::open(s->address_, how, ec, reason);
    if (s->connection_ && ensure_stream(*s->connection_, s->address_, give_up, ec, reason))
        s->record_ = producer_record::attach(*s->connection_, s->address_, options.producer_name,
                                             give_up, ec, reason);
    if (ec) {
        if (why) *why = where.uri() + ": " + reason;
        s->closed_ = true; // nothing to close: no record was written
        return nullptr;
    }
    const auto payload = static_cast<std::size_t>(s->connection_->max_payload());
    s->max_message_ = payload > header_allowance ? payload - header_allowance : 0;
    return s;
}

stream_sender::~stream_sender() {
    std::error_code ignored;
    if (!closed_) do_close(ignored);
    // The connection goes first (after the record's heartbeat): nats.c's threads call back
    // into this object until then.
    record_.reset();
    connection_.reset();
    for (natsMsg* m : to_resend_)
        natsMsg_Destroy(m);
}

std::string stream_sender::describe() const {
    std::lock_guard lock(mutex_);
    return detail_.empty() ? where_.uri() : where_.uri() + " (" + detail_ + ")";
}

void stream_sender::on_ack(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* error, void* closure) {
    auto* self = static_cast<stream_sender*>(closure);
    {
        std::lock_guard lock(self->mutex_);
        if (ack == nullptr && error != nullptr && worth_resending(*error)) {
            self->to_resend_.push_back(msg); // still unconfirmed, still ours
            self->disrupted_ = true;
            msg = nullptr;
        } else {
            if (ack == nullptr && error != nullptr) {
                const std::string text = error->ErrText != nullptr ? error->ErrText : "";
                const bool full = text.find("maximum messages exceeded") != std::string::npos ||
                                  text.find("maximum bytes exceeded") != std::string::npos;
                std::error_code ec = failure::refused;
                if (full) ec = failure::stream_full;
                if (error->ErrCode == JSStreamMessageExceedsMaximumErr)
                    ec = errc::message_too_large;
                self->fail(ec, "stream " + self->address_.stream + ": " + text);
            }
            --self->unconfirmed_;
            self->unconfirmed_bytes_ -= static_cast<std::size_t>(natsMsg_GetDataLength(msg));
            self->last_progress_ = clock::now();
        }
    }
    self->changed_.notify_all();
    natsMsg_Destroy(msg);
}

void stream_sender::on_disconnected(natsConnection*, void* closure) {
    auto* self = static_cast<stream_sender*>(closure);
    {
        std::lock_guard lock(self->mutex_);
        self->disrupted_ = true;
    }
    self->changed_.notify_all();
}

void stream_sender::fail(std::error_code ec, std::string text) {
    if (failure_) return;
    failure_ = ec;
    detail_ = std::move(text) + " on " + connection_->server();
}

bool stream_sender::report(std::error_code& ec) {
    std::lock_guard lock(mutex_);
    if (!failure_) return false;
    ec = failure_;
    return true;
}

void stream_sender::check_progress(clock::time_point now) {
    if (unconfirmed_ > 0 && now - last_progress_ > confirmation_timeout) {
        disrupted_ = true;
        last_progress_ = now; // one resend per timeout
    }
}

void stream_sender::resend(std::unique_lock<std::mutex>& lock) {
    if (!disrupted_ || !connection_->connected()) return;
    disrupted_ = false;
    std::vector<natsMsg*> batch;
    batch.swap(to_resend_);
    lock.unlock();
    // What nats.c still waits a confirmation for is resent too: its confirmation may never
    // come, and one that still comes is dropped once the message is taken back.
    natsMsgList pending{};
    if (js_PublishAsyncGetPendingList(&pending, connection_->js()) == NATS_OK) {
        for (int i = 0; i < pending.Count; ++i)
            batch.push_back(std::exchange(pending.Msgs[i], nullptr));
        natsMsgList_Destroy(&pending);
    }
    std::sort(batch.begin(), batch.end(),
              [](natsMsg* a, natsMsg* b) { return sequence_of(a) < sequence_of(b); });
    std::size_t sent = 0;
    for (; sent < batch.size(); ++sent) {
        const natsStatus s = js_PublishMsgAsync(connection_->js(), &batch[sent], nullptr);
        if (s != NATS_OK) break; // the connection went away again: the rest waits
    }
    lock.lock();
    if (sent < batch.size()) {
        to_resend_.insert(to_resend_.begin(), batch.begin() + std::ptrdiff_t(sent), batch.end());
        disrupted_ = true;
    }
    last_progress_ = clock::now();
}

bool stream_sender::wait_for_room(std::unique_lock<std::mutex>& lock, std::size_t size,
                                  clock::time_point until) {
    for (;;) {
        resend(lock);
        if (failure_) return false;
        const bool room = unconfirmed_ < max_unconfirmed &&
                          (unconfirmed_ == 0 || unconfirmed_bytes_ + size <= max_unconfirmed_bytes);
        if (room) return true;
        const auto now = clock::now();
        check_progress(now);
        if (now >= until) return false;
        // Woken by a confirmation or a disconnection; the poll notices the reconnect.
        changed_.wait_until(lock, std::min(until, now + reconnect_poll));
    }
}

natsMsg* stream_sender::make_message(bytes_view message, std::error_code& ec) {
    natsMsg* msg = nullptr;
    char id[40];
    std::snprintf(id, sizeof id, "%s-%llu", instance_.c_str(),
                  static_cast<unsigned long long>(next_sequence_));
    natsStatus s = natsMsg_Create(&msg, address_.subject.c_str(), nullptr,
                                  reinterpret_cast<const char*>(message.data()),
                                  static_cast<int>(message.size()));
    if (s == NATS_OK) s = natsMsgHeader_Set(msg, message_id_header, id);
    if (s != NATS_OK) {
        natsMsg_Destroy(msg);
        std::lock_guard lock(mutex_);
        fail(failure::refused, "making a message: " + last_error_text(s));
        ec = failure_;
        return nullptr;
    }
    ++next_sequence_;
    return msg;
}

bool stream_sender::do_send(bytes_view message, wait_duration wait, std::error_code& ec) {
    ec.clear();
    if (closed_) {
        ec = errc::closed;
        return false;
    }
    if (message.size() > max_message_) {
        std::lock_guard lock(mutex_);
        detail_ = std::to_string(message.size()) + " bytes, more than the " +
                  std::to_string(max_message_) + " that " + connection_->server() +
                  " takes (its max_payload, less room for headers)";
        ec = errc::message_too_large;
        return false;
    }
    const auto until = wait == forever
                           ? clock::time_point::max()
                           : clock::now() + std::chrono::duration_cast<clock::duration>(wait);
    std::unique_lock lock(mutex_);
    if (!wait_for_room(lock, message.size(), until)) {
        if (failure_) ec = failure_;
        return false;
    }
    if (unconfirmed_ == 0) last_progress_ = clock::now();
    ++unconfirmed_;
    unconfirmed_bytes_ += message.size();
    const bool hold = disrupted_; // behind what awaits resending, to keep the order
    lock.unlock();
    natsMsg* msg = make_message(message, ec);
    if (msg == nullptr) return false;
    natsStatus s = NATS_OK;
    if (!hold) s = js_PublishMsgAsync(connection_->js(), &msg, nullptr);
    if (msg == nullptr) return true; // nats.c has it now
    if (hold || connection_away(s)) {
        lock.lock();
        to_resend_.push_back(msg);
        disrupted_ = true;
        return true;
    }
    const std::string cause = last_error_text(s);
    natsMsg_Destroy(msg);
    lock.lock();
    --unconfirmed_;
    unconfirmed_bytes_ -= message.size();
    fail(s == NATS_MAX_PAYLOAD ? std::error_code(errc::message_too_large)
                               : std::error_code(failure::refused),
         "stream " + address_.stream + ": publishing: " + cause);
    ec = failure_;
    return false;
}

void stream_sender::do_close(std::error_code& ec) {
    ec.clear();
    if (closed_) return;
    closed_ = true;
    std::unique_lock lock(mutex_);
    // Closing waits for the server to confirm every message, as long as it makes progress.
    while (unconfirmed_ > 0 && !failure_) {
        resend(lock);
        const auto now = clock::now();
        check_progress(now);
        if (now - last_progress_ > timeout_ && !disrupted_) break;
        changed_.wait_for(lock, reconnect_poll);
    }
    if (!failure_ && unconfirmed_ > 0) {
        fail(failure::unconfirmed,
             std::to_string(unconfirmed_) + " messages not confirmed by stream " + address_.stream);
    }
    if (failure_) {
        // The record stays open: an anonymous producer's expires, a named one's stream
        // waits for the next process under its name.
        ec = failure_;
        return;
    }
    lock.unlock();
    std::string why;
    if (!record_->close(clock::now() + timeout_, ec, why)) {
        lock.lock();
        detail_ = why;
    }
}

} // namespace conveyor::nats::detail
