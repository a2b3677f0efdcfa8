// The client engine: see engine.hpp for the leader/followers discipline.
#include "engine.hpp"

#include "conveyor/rpc/error.hpp"
#include "conveyor/rpc/rpcbind.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <random>

namespace conveyor::rpc::detail {
namespace {

// At most this many replies are read in one turn of the reply thread before it runs their
// completions: a batch, but never a starved completion.
constexpr int reply_batch = 64;
// A connection idle for this long is checked before a call goes out on it: a server that
// restarted meanwhile closed it, and the call goes to a new connection instead of failing.
// (Checking every time would cost each call a system call.)
constexpr auto idle_check = std::chrono::milliseconds(100);

// xids start at a random value per process (so that a restarted client does not repeat the
// xids a server's duplicate-request cache holds for its predecessor) and count up.
std::uint32_t next_xid() noexcept {
    static std::atomic<std::uint32_t> counter{std::random_device{}()};
    return counter.fetch_add(1, std::memory_order_relaxed);
}

const char* auth_stat_name(auth_stat s) noexcept {
    switch (s) {
    case auth_stat::ok:
        return "AUTH_OK";
    case auth_stat::badcred:
        return "AUTH_BADCRED";
    case auth_stat::rejectedcred:
        return "AUTH_REJECTEDCRED";
    case auth_stat::badverf:
        return "AUTH_BADVERF";
    case auth_stat::rejectedverf:
        return "AUTH_REJECTEDVERF";
    case auth_stat::tooweak:
        return "AUTH_TOOWEAK";
    case auth_stat::invalidresp:
        return "AUTH_INVALIDRESP";
    case auth_stat::failed:
        return "AUTH_FAILED";
    }
    return "an unknown auth_stat";
}

// Decodes the reply's header: results_at on success, else ec and the details in why.
void read_reply(reply_message& reply, std::error_code& ec, std::string& why) {
    reply_header header;
    reply.results_at = decode_reply(reply.bytes, header, ec);
    if (ec) {
        why = "the reply could not be decoded";
        return;
    }
    ec = reply_error(header);
    if (!ec) return;
    why = ec.message();
    if (header.stat == reply_stat::accepted && header.accepted == accept_stat::prog_mismatch)
        why += "; it serves versions " + std::to_string(header.low) + " to " +
               std::to_string(header.high);
    else if (header.stat == reply_stat::denied && header.rejected == reject_stat::rpc_mismatch)
        why += "; it speaks RPC versions " + std::to_string(header.low) + " to " +
               std::to_string(header.high);
    else if (header.stat == reply_stat::denied)
        why += ": " + std::string(auth_stat_name(header.auth));
}

// "no reply within 0.25 s": the timeout the call was given.
template <class Pending> std::string no_reply(const Pending& p) {
    char text[64];
    std::snprintf(text, sizeof text, "no reply within %.3g s",
                  std::chrono::duration<double>(p.timeout).count());
    return text;
}

// now + timeout, saturating: forever (or any timeout past the clock's range) never expires.
time_point deadline_after(wait_duration timeout) {
    const auto now = clock::now();
    if (timeout <= wait_duration::zero()) return now;
    const auto room = std::chrono::duration_cast<wait_duration>(time_point::max() - now);
    if (timeout >= room) return time_point::max();
    return now + std::chrono::duration_cast<clock::duration>(timeout);
}

} // namespace

void round_trip_estimator::sample(clock::duration measured) noexcept {
    if (!sampled_) {
        smoothed_ = measured;
        deviation_ = measured / 2;
        sampled_ = true;
        return;
    }
    const auto error = measured > smoothed_ ? measured - smoothed_ : smoothed_ - measured;
    deviation_ = (3 * deviation_ + error) / 4;
    smoothed_ = (7 * smoothed_ + measured) / 8;
}

clock::duration round_trip_estimator::timeout() const noexcept {
    if (!sampled_) return std::max(least_, std::min(most_, 4 * least_));
    return std::clamp(smoothed_ + 4 * deviation_, least_, most_);
}

engine::engine(address where, client_options options)
    : where_(std::move(where)), options_(options),
      round_trip_(options.retransmit_min, options.retransmit_max) {
    if (options_.credentials == auth_flavor::sys) credentials_ = auth_sys::current();
}

engine::~engine() {
    // Still joinable only when the reply thread itself dropped the last reference, as it
    // returns (its client was destroyed by a completion): it is ending, let it go.
    if (reply_thread_.joinable()) reply_thread_.detach();
}

engine::pending_ptr engine::make_call(const call_target& target, bytes_view args,
                                      wait_duration timeout, time_point deadline) {
    auto p = std::make_shared<pending>();
    p->xid = next_xid();
    p->timeout = timeout;
    p->deadline = deadline;
    call_header header;
    header.xid = p->xid;
    header.program = target.program;
    header.version = target.version;
    header.procedure = target.procedure;
    header.flavor = options_.credentials;
    if (options_.credentials == auth_flavor::sys) header.sys = credentials_;
    p->request.reserve(64 + args.size());
    encode_call(header, p->request);
    p->request.insert(p->request.end(), args.begin(), args.end());
    return p;
}

std::shared_ptr<wire> engine::connection(time_point deadline, std::error_code& ec,
                                         std::string& why) {
    {
        const std::lock_guard lock(mutex_);
        if (stopping_) {
            ec = std::make_error_code(std::errc::operation_canceled);
            why = "the client is closing";
            return nullptr;
        }
        const auto now = clock::now();
        if (wire_ && calls_.empty() && now - last_used_ >= idle_check && wire_->closed_by_peer())
            wire_.reset();
        last_used_ = now;
        if (wire_) return wire_;
    }
    const std::lock_guard connecting(connect_mutex_);
    {
        const std::lock_guard lock(mutex_);
        if (wire_) return wire_;
    }
    std::shared_ptr<wire> made = connect(deadline, ec, why);
    const std::lock_guard lock(mutex_);
    if (made) wire_ = made;
    return made;
}

std::shared_ptr<wire> engine::connect(time_point deadline, std::error_code& ec, std::string& why) {
    address to = where_;
    if (to.kind == transport::rpcbind) {
        const auto left = std::max(deadline - clock::now(), clock::duration::zero());
        const auto port =
            rpcbind::getport(to.host, to.program, to.version, to.protocol,
                             std::chrono::duration_cast<wait_duration>(left), ec, &why);
        if (ec) return nullptr;
        to.kind = to.protocol;
        to.port = port;
    }
    switch (to.kind) {
    case transport::tcp:
        return open_stream_wire(to, options_, deadline, ec, why);
    case transport::udp:
        return open_datagram_wire(to, options_, ec, why);
    case transport::shm:
        return open_shm_wire(to, options_, ec, why);
    case transport::local:
        return open_unix_wire(to.name, options_, deadline, ec, why);
    case transport::rpcbind:
        break;
    }
    ec = std::make_error_code(std::errc::invalid_argument);
    why = "rpcbind answered with another rpc:// address";
    return nullptr;
}

void engine::call(const call_target& target, bytes_view args, wait_duration timeout,
                  reply_message& reply, std::error_code& ec, std::string* why) {
    ec.clear();
    const auto deadline = deadline_after(timeout);
    std::string cause;
    const auto w = connection(deadline, ec, cause);
    if (!w) {
        if (why) *why = where_.uri + ": " + describe(target) + ": " + cause;
        return;
    }
    const auto p = make_call(target, args, timeout, deadline);
    std::unique_lock lock(mutex_);
    send_call(lock, p, w, true);
    wait_for(lock, p);
    lock.unlock();
    ec = p->ec;
    cause = std::move(p->why);
    if (!ec) {
        reply = std::move(p->reply);
        read_reply(reply, ec, cause);
    }
    if (ec && why) *why = where_.uri + ": " + describe(target) + ": " + cause;
}

void engine::send_call(std::unique_lock<std::mutex>& lock, const pending_ptr& p,
                       const std::shared_ptr<wire>& w, bool wait) {
    if (p->request.size() > w->max_message()) {
        finish(p, make_error_code(errc::record_too_large),
               "the call's " + std::to_string(p->request.size()) + " bytes are beyond the " +
                   std::to_string(w->max_message()) + " this connection carries");
        return;
    }
    p->on = w;
    calls_.emplace(p->xid, p);
    const auto now = clock::now();
    p->sent_at = now;
    if (w->lossy()) {
        p->backoff = round_trip_.timeout();
        p->resend_at = std::min(now + p->backoff, p->deadline);
    }
    lock.unlock();
    std::error_code ec;
    const bool sent = w->send(p->request, p->deadline, wait, ec);
    lock.lock();
    if (ec)
        drop_connection(w, ec, "cannot send the call: " + ec.message());
    else if (!sent)
        finish(p, std::make_error_code(std::errc::timed_out),
               "the call could not be sent before the deadline");
}

void engine::wait_for(std::unique_lock<std::mutex>& lock, const pending_ptr& p) {
    while (!p->done) {
        auto now = clock::now();
        if (now >= p->deadline) {
            finish(p, std::make_error_code(std::errc::timed_out), no_reply(*p));
            break;
        }
        retransmit_if_due(lock, p, now);
        if (p->done) break;
        if (!leading_) {
            leading_ = true;
            while (!p->done && (now = clock::now()) < p->deadline) {
                read_one(lock, p->on, std::min(p->deadline, p->resend_at));
                if (!p->done) retransmit_if_due(lock, p, clock::now());
            }
            leading_ = false;
            hand_over();
            continue;
        }
        followers_.push_back(p.get());
        p->wakeup.wait_until(lock, std::min(p->deadline, p->resend_at));
        std::erase(followers_, p.get());
    }
}

void engine::hand_over() {
    if (!followers_.empty()) followers_.front()->wakeup.notify_one();
    if (async_calls_ > 0) reply_wakeup_.notify_one();
}

bool engine::read_one(std::unique_lock<std::mutex>& lock, const std::shared_ptr<wire>& w,
                      time_point until) {
    lock.unlock();
    std::error_code ec;
    const bool got = w->receive(inbox_, until, ec);
    lock.lock();
    if (ec) {
        drop_connection(w, ec,
                        ec == errc::server_gone ? "the server went away before it replied"
                        : ec == errc::record_too_large
                            ? "the server sent a record beyond the client's max_record"
                            : "the connection failed: " + ec.message());
        return false;
    }
    if (got) deliver(inbox_);
    return got;
}

void engine::deliver(std::vector<std::byte>& message) {
    std::uint32_t xid = 0;
    if (!peek_xid(message, xid)) return;
    const auto found = calls_.find(xid);
    // No call waits for it: a duplicate of a reply over udp, or a call that timed out.
    if (found == calls_.end()) return;
    const pending_ptr p = found->second;
    if (!p->resent && p->on && p->on->lossy()) round_trip_.sample(clock::now() - p->sent_at);
    p->reply.bytes.swap(message);
    finish(p, {});
}

void engine::finish(const pending_ptr& p, std::error_code ec, std::string why) {
    if (p->done) return;
    p->done = true;
    p->ec = ec;
    p->why = std::move(why);
    calls_.erase(p->xid);
    if (p->completion) {
        finished_.push_back(p);
        reply_wakeup_.notify_one();
    } else {
        p->wakeup.notify_one();
    }
}

void engine::drop_connection(const std::shared_ptr<wire>& w, std::error_code ec,
                             const std::string& why) {
    if (wire_ == w) wire_.reset();
    std::vector<pending_ptr> affected;
    for (const auto& [xid, p] : calls_)
        if (p->on == w) affected.push_back(p);
    for (const auto& p : affected)
        finish(p, ec, why);
    w->wake();
}

void engine::retransmit_if_due(std::unique_lock<std::mutex>& lock, const pending_ptr& p,
                               time_point now) {
    if (p->done || now < p->resend_at) return;
    p->resent = true;
    p->backoff = std::min(2 * p->backoff, round_trip_.most());
    p->resend_at = std::min(now + p->backoff, p->deadline);
    const auto w = p->on;
    lock.unlock();
    std::error_code ec;
    w->send(p->request, p->deadline, false, ec);
    lock.lock();
    if (ec) drop_connection(w, ec, "cannot send the call: " + ec.message());
}

// ---- asynchronous calls ----

void engine::start(const call_target& target, bytes_view args, wait_duration timeout,
                   raw_completion&& completion) {
    const auto p = make_call(target, args, timeout, deadline_after(timeout));
    p->completion.emplace(std::move(completion));
    std::unique_lock lock(mutex_);
    if (!reply_thread_.joinable() && !stopping_)
        reply_thread_ = std::thread([self = shared_from_this()] { self->run_reply_thread(); });
    ++async_calls_;
    if (stopping_) {
        finish(p, std::make_error_code(std::errc::operation_canceled), "the client is closing");
    } else if (wire_) {
        send_call(lock, p, wire_, false);
    } else {
        unsent_.push_back(p);
    }
    reply_wakeup_.notify_one();
}

void engine::run_reply_thread() {
    std::unique_lock lock(mutex_);
    for (;;) {
        run_completions(lock);
        if (stopping_ && async_calls_ == 0) break;
        if (!unsent_.empty()) {
            connect_unsent(lock);
            continue;
        }
        const auto now = clock::now();
        std::vector<pending_ptr> due;
        for (const auto& [xid, p] : calls_)
            if (p->completion && (now >= p->deadline || now >= p->resend_at)) due.push_back(p);
        for (const auto& p : due) {
            if (now >= p->deadline)
                finish(p, std::make_error_code(std::errc::timed_out), no_reply(*p));
            else
                retransmit_if_due(lock, p, now);
        }
        if (!finished_.empty()) continue;
        const auto until = next_async_event();
        if (in_flight_async() && !leading_ && wire_) {
            leading_ = true;
            const auto w = wire_;
            // What arrived with the first reply is taken too, without waiting.
            bool got = read_one(lock, w, until);
            for (int i = 1; got && i < reply_batch && wire_ == w; ++i)
                got = read_one(lock, w, time_point{});
            leading_ = false;
            if (!followers_.empty()) followers_.front()->wakeup.notify_one();
            continue;
        }
        reply_wakeup_.wait_until(lock, until);
    }
}

bool engine::in_flight_async() const noexcept {
    return std::any_of(calls_.begin(), calls_.end(),
                       [](const auto& entry) { return entry.second->completion.has_value(); });
}

time_point engine::next_async_event() const {
    auto next = time_point::max();
    for (const auto& [xid, p] : calls_)
        if (p->completion) next = std::min({next, p->deadline, p->resend_at});
    return next;
}

void engine::run_completions(std::unique_lock<std::mutex>& lock) {
    if (finished_.empty()) return;
    auto batch = std::move(finished_);
    finished_.clear();
    async_calls_ -= batch.size();
    const auto w = wire_;
    lock.unlock();
    // The calls these completions make go out together, after the last of them.
    if (w) w->cork();
    for (const auto& p : batch) {
        std::error_code ec = p->ec;
        std::string why = std::move(p->why);
        if (!ec) read_reply(p->reply, ec, why);
        (*p->completion)(ec, std::move(p->reply));
    }
    std::error_code ec;
    if (w) w->flush(ec);
    lock.lock();
    if (ec) drop_connection(w, ec, "cannot send the call: " + ec.message());
}

void engine::connect_unsent(std::unique_lock<std::mutex>& lock) {
    auto earliest = time_point::max();
    for (const auto& p : unsent_)
        earliest = std::min(earliest, p->deadline);
    lock.unlock();
    std::error_code ec;
    std::string why;
    const auto w = connection(earliest, ec, why);
    lock.lock();
    auto waiting = std::move(unsent_);
    unsent_.clear();
    for (const auto& p : waiting) {
        if (!w)
            finish(p, ec, why);
        else
            send_call(lock, p, w, false);
    }
}

void engine::shut_down() {
    std::unique_lock lock(mutex_);
    stopping_ = true;
    std::vector<pending_ptr> all;
    for (const auto& [xid, p] : calls_)
        all.push_back(p);
    all.insert(all.end(), unsent_.begin(), unsent_.end());
    unsent_.clear();
    for (const auto& p : all)
        finish(p, std::make_error_code(std::errc::operation_canceled), "the client is closing");
    if (wire_) wire_->wake();
    reply_wakeup_.notify_all();
    lock.unlock();
    if (reply_thread_.joinable() && reply_thread_.get_id() != std::this_thread::get_id())
        reply_thread_.join();
}

} // namespace conveyor::rpc::detail
