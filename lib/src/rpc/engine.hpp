// The client's machinery behind rpc::client: calls in flight by xid, one connection (a
// wire), and the leader/followers discipline that lets any number of threads wait on it
// with plain blocking reads.
//
// A synchronous call sends its message, then waits for its reply. One waiting thread at a
// time, the leader, reads from the wire and hands each reply to the call with its xid; the
// others (followers) sleep on a condition variable until their call is done, the leader
// leaves (one of them leads next) or their deadline or retransmission is due. A call with
// nobody else waiting is its own leader: one write, one blocking read, no other thread.
// Asynchronous calls are waited for by the reply thread, started at the first one, which
// leads like any caller, runs the completions and sends the calls they make in one batch.
#pragma once

#include "wire.hpp"

#include "conveyor/rpc/client.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

namespace conveyor::rpc::detail {

// The round trip of a lossy transport, estimated as TCP does (RFC 6298): the retransmission
// timeout is the smoothed round trip plus four deviations, from calls answered at the first
// transmission only (Karn), within the client's bounds.
class round_trip_estimator {
public:
    round_trip_estimator(clock::duration least, clock::duration most)
        : least_(least), most_(most) {}
    void sample(clock::duration measured) noexcept;
    clock::duration timeout() const noexcept;
    clock::duration most() const noexcept { return most_; }

private:
    clock::duration least_;
    clock::duration most_;
    clock::duration smoothed_{0};
    clock::duration deviation_{0};
    bool sampled_ = false;
};

class engine : public std::enable_shared_from_this<engine> {
public:
    engine(address where, client_options options);
    ~engine();

    // Each call ends by now + timeout at the latest (a timeout of 0 or less: at once).
    void call(const call_target& target, bytes_view args, wait_duration timeout,
              reply_message& reply, std::error_code& ec, std::string* why);
    void start(const call_target& target, bytes_view args, wait_duration timeout,
               raw_completion&& completion);
    // Fails every call in flight with operation_canceled and ends the reply thread.
    void shut_down();

    const address& where() const noexcept { return where_; }

private:
    struct pending {
        std::uint32_t xid = 0;
        wait_duration timeout; // as the caller gave it, for messages
        time_point deadline;
        std::shared_ptr<wire> on;       // the connection it went out on; null while unsent
        std::vector<std::byte> request; // the whole message, for retransmission
        time_point sent_at;
        time_point resend_at = time_point::max(); // lossy transports only
        clock::duration backoff{0};
        bool resent = false;
        bool done = false;
        std::error_code ec;
        std::string why;
        reply_message reply;
        std::condition_variable wakeup;           // a synchronous caller sleeps on it
        std::optional<raw_completion> completion; // asynchronous calls
    };
    using pending_ptr = std::shared_ptr<pending>;

    pending_ptr make_call(const call_target& target, bytes_view args, wait_duration timeout,
                          time_point deadline);
    // The connection, made if there is none; mutex_ not held.
    std::shared_ptr<wire> connection(time_point deadline, std::error_code& ec, std::string& why);
    std::shared_ptr<wire> connect(time_point deadline, std::error_code& ec, std::string& why);

    // The functions below are called with mutex_ held (through lock), and may release it
    // while they send or read.
    // Sends p on w (waiting until it is out with wait); a failure finishes p.
    void send_call(std::unique_lock<std::mutex>& lock, const pending_ptr& p,
                   const std::shared_ptr<wire>& w, bool wait);
    void wait_for(std::unique_lock<std::mutex>& lock, const pending_ptr& p);
    // As the leader: reads one message until `until` and delivers it; true if one came.
    bool read_one(std::unique_lock<std::mutex>& lock, const std::shared_ptr<wire>& w,
                  time_point until);
    void deliver(std::vector<std::byte>& message);
    // The leader left: one follower, and the reply thread if it has calls, may lead next.
    void hand_over();
    // p is over, with ec if it failed; its caller or the reply thread is told.
    void finish(const pending_ptr& p, std::error_code ec, std::string why = {});
    // The connection w failed: every call on it fails with ec.
    void drop_connection(const std::shared_ptr<wire>& w, std::error_code ec,
                         const std::string& why);
    void retransmit_if_due(std::unique_lock<std::mutex>& lock, const pending_ptr& p,
                           time_point now);

    void run_reply_thread();
    void run_completions(std::unique_lock<std::mutex>& lock);
    void connect_unsent(std::unique_lock<std::mutex>& lock);
    bool in_flight_async() const noexcept;
    // The earliest deadline or retransmission of the asynchronous calls in flight.
    time_point next_async_event() const;

    const address where_;
    const client_options options_;
    auth_sys credentials_; // AUTH_SYS, read once

    std::mutex connect_mutex_; // one connection attempt at a time
    std::mutex mutex_;         // guards everything below
    std::shared_ptr<wire> wire_;
    time_point last_used_; // when a call last asked for the connection
    std::unordered_map<std::uint32_t, pending_ptr> calls_; // in flight, by xid
    bool leading_ = false;
    std::vector<pending*> followers_; // synchronous callers waiting, oldest first
    round_trip_estimator round_trip_;
    std::vector<std::byte> inbox_; // the leader's

    std::size_t async_calls_ = 0;          // asynchronous calls not yet completed
    std::vector<pending_ptr> unsent_;      // asynchronous calls waiting for a connection
    std::vector<pending_ptr> finished_;    // asynchronous calls to complete
    std::condition_variable reply_wakeup_; // the reply thread sleeps on it
    bool stopping_ = false;
    std::thread reply_thread_;
};

} // namespace conveyor::rpc::detail
