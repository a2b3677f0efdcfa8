// The client stub: typed calls to a program's procedures over tcp://, udp://, shm:// or
// rpc:// (rpcbind finds the port), each with a deadline it never waits past, whatever the
// server does. One client is one connection, shared by every thread that calls through it;
// calls in flight are matched to their replies by xid. Asynchronous calls, with Asio's
// completion tokens, are in rpc/async_call.hpp.
#pragma once

#include "conveyor/rpc/address.hpp"
#include "conveyor/rpc/error.hpp"
#include "conveyor/rpc/message.hpp"
#include "conveyor/rpc/program.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

namespace conveyor::rpc {

struct client_options {
    // The credentials every call carries: AUTH_NONE, or this process's AUTH_SYS.
    auth_flavor credentials = auth_flavor::none;
    // The largest reply accepted over tcp and shm, in bytes; a larger one ends the
    // connection (errc::record_too_large).
    std::size_t max_record = 1 << 20;
    // udp: the first retransmission comes after the round trips measured so far suggest,
    // never sooner than retransmit_min; each next one waits twice as long, up to
    // retransmit_max, until the call's deadline.
    std::chrono::microseconds retransmit_min{2'000};
    std::chrono::microseconds retransmit_max{1'000'000};
    // tcp and udp: a reply thread with nothing to read keeps looking this long before it
    // sleeps (0, the default: it sleeps at once). Where idle cores sleep, waking one costs
    // each round trip tens of microseconds; a reply that comes while the thread looks costs
    // none, and the core is kept busy meanwhile. docs/rpc.md, "Speed", has the figures.
    std::chrono::microseconds busy_poll{0};
};

namespace detail {
class engine;

// A reply: the whole message, the results from results_at on.
struct reply_message {
    std::vector<std::byte> bytes;
    std::size_t results_at = 0;
    bytes_view results() const noexcept { return bytes_view(bytes).subspan(results_at); }
};

// What an asynchronous call does when it ends: a move-only callable, called once.
class raw_completion {
public:
    template <class F>
    explicit raw_completion(F f) : target_(std::make_unique<holder<F>>(std::move(f))) {}
    void operator()(std::error_code ec, reply_message&& reply) {
        const auto target = std::move(target_);
        target->complete(ec, std::move(reply));
    }

private:
    struct base {
        virtual ~base() = default;
        virtual void complete(std::error_code ec, reply_message&& reply) = 0;
    };
    template <class F> struct holder final : base {
        explicit holder(F&& g) : f(std::move(g)) {}
        void complete(std::error_code ec, reply_message&& reply) override {
            f(ec, std::move(reply));
        }
        F f;
    };
    std::unique_ptr<base> target_;
};
} // namespace detail

class client {
public:
    // Parses uri; connects at the first call (and again after the connection failed), so a
    // server may start after its client. Throws conveyor::error for a malformed uri.
    explicit client(std::string_view uri, const client_options& options = {});
    explicit client(const address& where, const client_options& options = {});
    ~client(); // calls in flight fail with operation_canceled
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    // Calls procedure p with args and returns its result, waiting at most timeout. Throws
    // conveyor::error naming the server, the procedure and the cause: std::errc::timed_out,
    // a refusal of the server (rpc::errc), a failed connection.
    template <class P>
    requires(!std::is_void_v<typename P::args_type>) typename P::result_type
        call(const P& p, const typename P::args_type& args, wait_duration timeout) {
        std::error_code ec;
        std::string why;
        return call_checked(p, args, timeout, ec, &why, true);
    }
    template <class P>
    requires(!std::is_void_v<typename P::args_type>) typename P::result_type
        call(const P& p, const typename P::args_type& args, wait_duration timeout,
             std::error_code& ec) {
        return call_checked(p, args, timeout, ec, nullptr, false);
    }
    // Procedures without arguments.
    template <class P>
    requires std::is_void_v<typename P::args_type>
    typename P::result_type call(const P& p, wait_duration timeout) {
        std::error_code ec;
        std::string why;
        return call_checked(p, detail::nothing{}, timeout, ec, &why, true);
    }
    template <class P>
    requires std::is_void_v<typename P::args_type>
    typename P::result_type call(const P& p, wait_duration timeout, std::error_code& ec) {
        return call_checked(p, detail::nothing{}, timeout, ec, nullptr, false);
    }

    // Untyped: args is the XDR of the arguments; on success reply holds the results. On
    // failure sets ec and, when why is given, a sentence naming the server and the cause.
    void call_raw(const call_target& target, bytes_view args, wait_duration timeout,
                  detail::reply_message& reply, std::error_code& ec, std::string* why = nullptr);
    // As above; throws conveyor::error with that sentence.
    void call_raw(const call_target& target, bytes_view args, wait_duration timeout,
                  detail::reply_message& reply);

    const address& where() const noexcept;

    // For rpc/async_call.hpp: starts a call whose completion runs on this client's reply
    // thread, never before this returns.
    void start_call(const call_target& target, std::vector<std::byte>&& args, wait_duration timeout,
                    detail::raw_completion&& completion);

private:
    template <class P, class Args>
    typename P::result_type call_checked(const P& p, const Args& args, wait_duration timeout,
                                         std::error_code& ec, std::string* why, bool throws) {
        using result_type = detail::value_or_nothing<typename P::result_type>;
        std::vector<std::byte> encoded;
        detail::reply_message reply;
        result_type result{};
        try {
            detail::encode_value(args, encoded);
            call_raw(target_of(p), encoded, timeout, reply, ec, why);
            if (!ec) decode_result(p, reply, result, ec, why);
        } catch (const std::system_error& e) { // arguments that XDR cannot carry
            ec = e.code();
            if (why) *why = e.what();
        }
        if (ec && throws) fail(ec, *why);
        if constexpr (!std::is_void_v<typename P::result_type>) return result;
    }

    template <class P, class Result>
    void decode_result(const P& p, const detail::reply_message& reply, Result& result,
                       std::error_code& ec, std::string* why) {
        try {
            detail::decode_value(reply.results(), result);
        } catch (const std::system_error& e) {
            ec = make_error_code(errc::bad_reply);
            if (why) *why = describe_bad_results(target_of(p), e.what());
        }
    }

    std::string describe_bad_results(const call_target& target, const char* cause) const;
    [[noreturn]] static void fail(std::error_code ec, const std::string& why);

    std::shared_ptr<detail::engine> engine_;
};

// "ADD (procedure 1 of program 0x2c0ffee0 version 1)", for messages.
std::string describe(const call_target& target);

} // namespace conveyor::rpc
