// The server skeleton: handlers registered per procedure, then served on tcp://, udp:// and
// shm:// endpoints by a pool of threads running one Boost.Asio io_context, as Asio's own
// servers do (an acceptor, an object per connection kept alive by its operation in flight,
// a strand per connection). Calls it cannot run get RFC 5531's answers: PROG_UNAVAIL,
// PROG_MISMATCH, PROC_UNAVAIL, GARBAGE_ARGS, SYSTEM_ERR, RPC_MISMATCH, AUTH_ERROR. Procedure
// 0 of every program and version served answers at once (the NULL procedure, by RFC 5531's
// convention) unless a handler is registered for it.
#pragma once

#include "conveyor/rpc/message.hpp"
#include "conveyor/rpc/program.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace conveyor::rpc {

struct server_options {
    // Threads calling io_context::run (and reading each shm:// queue) in run().
    std::size_t threads = 1;
    // The largest call accepted over tcp and shm, in bytes; a larger record ends its
    // connection (the sender of a record cannot be told anything else).
    std::size_t max_record = 1 << 20;
    // Connections beyond this many are closed as they come.
    std::size_t max_connections = 1024;
    // udp's duplicate-request cache: a finished call's reply is kept this long (at least as
    // long as the longest deadline of a client that may retransmit it), in at most this many
    // entries and bytes of replies; the oldest go first when it is full.
    std::chrono::seconds reply_cache_lifetime{120};
    std::size_t reply_cache_entries = 1 << 16;
    std::size_t reply_cache_bytes = 64 << 20;
    // tcp and udp: a thread of run() that finds no work keeps looking this long before it
    // sleeps (0, the default: it sleeps at once): the next call is then served without the
    // wake-up of a sleeping core, and the core is kept busy meanwhile (client_options).
    std::chrono::microseconds busy_poll{0};
};

// What a handler may know of the call it serves.
struct call_context {
    std::uint32_t xid = 0;
    call_target target;
    auth_flavor flavor = auth_flavor::none;
    auth_sys credentials; // AUTH_SYS: who the caller says it is (unverified); else empty
};

namespace detail {

// Where an asynchronous handler's reply goes once it is ready: made by the transport that
// received the call.
class deferred_reply {
public:
    explicit deferred_reply(std::uint32_t xid) : xid_(xid) {}
    virtual ~deferred_reply() = default;
    // Sends a success with results (pure XDR), or the error stat; once.
    void succeed(bytes_view results);
    void fail(accept_stat stat);

protected:
    virtual void send(std::vector<std::byte>&& reply) = 0;

private:
    std::uint32_t xid_;
};

class reply_maker {
public:
    virtual std::unique_ptr<deferred_reply> defer(std::uint32_t xid) = 0;

protected:
    ~reply_maker() = default;
};

enum class handler_status { replied, deferred, garbage_args, system_err };

// A handler as the dispatcher sees it: the arguments' bytes in, the results' bytes out.
struct handler_call {
    bytes_view args;
    const call_context& context;
    std::vector<std::byte>& results; // append the results here
    reply_maker& maker;              // or make a deferred reply here
};
using handler_function = std::function<handler_status(handler_call&)>;

} // namespace detail

// Replies once to a call served by an asynchronous handler, from any thread: with a result,
// or with SYSTEM_ERR by fail(). Destroyed without a reply, it answers SYSTEM_ERR.
template <class Result> class responder {
public:
    explicit responder(std::unique_ptr<detail::deferred_reply> slot) : slot_(std::move(slot)) {}
    responder(responder&&) noexcept = default;
    responder& operator=(responder&&) noexcept = default;
    ~responder() {
        if (slot_) slot_->fail(accept_stat::system_err);
    }

    template <class R = Result>
    requires(!std::is_void_v<R>) void reply(const R& result) {
        std::vector<std::byte> results;
        try {
            detail::encode_value(result, results);
        } catch (const std::system_error&) {
            fail();
            return;
        }
        take()->succeed(results);
    }
    template <class R = Result>
    requires std::is_void_v<R>
    void reply() { take()->succeed({}); }
    void fail() { take()->fail(accept_stat::system_err); }
    // Whether this responder still owes its reply.
    explicit operator bool() const noexcept { return slot_ != nullptr; }

private:
    std::unique_ptr<detail::deferred_reply> take() { return std::move(slot_); }
    std::unique_ptr<detail::deferred_reply> slot_;
};

namespace detail {

template <class P, class Handler, class Args>
decltype(auto) invoke_handler(Handler& h, Args& args, const call_context& context) {
    if constexpr (std::is_void_v<typename P::args_type>) {
        if constexpr (std::is_invocable_v<Handler&, const call_context&>)
            return h(context);
        else
            return h();
    } else {
        if constexpr (std::is_invocable_v<Handler&, const Args&, const call_context&>)
            return h(std::as_const(args), context);
        else
            return h(std::as_const(args));
    }
}

template <class P, class Handler, class Args, class Responder>
void invoke_async_handler(Handler& h, Args& args, Responder&& reply, const call_context& context) {
    if constexpr (std::is_void_v<typename P::args_type>) {
        if constexpr (std::is_invocable_v<Handler&, Responder, const call_context&>)
            h(std::move(reply), context);
        else
            h(std::move(reply));
    } else {
        if constexpr (std::is_invocable_v<Handler&, const Args&, Responder, const call_context&>)
            h(std::as_const(args), std::move(reply), context);
        else
            h(std::as_const(args), std::move(reply));
    }
}

template <class Args> bool decode_arguments(bytes_view bytes, Args& args) {
    try {
        decode_value(bytes, args);
        return true;
    } catch (const std::system_error&) {
        return false;
    }
}

// The dispatcher's view of a plain handler of P (see server::on).
template <class P, class Handler> handler_function make_handler(Handler handler) {
    return [h = std::move(handler)](handler_call& call) mutable {
        value_or_nothing<typename P::args_type> args{};
        if (!decode_arguments(call.args, args)) return handler_status::garbage_args;
        try {
            if constexpr (std::is_void_v<typename P::result_type>)
                invoke_handler<P>(h, args, call.context);
            else
                encode_value(invoke_handler<P>(h, args, call.context), call.results);
        } catch (...) {
            return handler_status::system_err;
        }
        return handler_status::replied;
    };
}

// The dispatcher's view of an asynchronous handler of P (see server::on_async).
template <class P, class Handler> handler_function make_async_handler(Handler handler) {
    return [h = std::move(handler)](handler_call& call) mutable {
        value_or_nothing<typename P::args_type> args{};
        if (!decode_arguments(call.args, args)) return handler_status::garbage_args;
        responder<typename P::result_type> reply(call.maker.defer(call.context.xid));
        try {
            invoke_async_handler<P>(h, args, std::move(reply), call.context);
        } catch (...) {
            // The responder, wherever it is now, answers SYSTEM_ERR as it goes.
        }
        return handler_status::deferred;
    };
}

} // namespace detail

class server {
public:
    explicit server(const server_options& options = {});
    ~server(); // stops, and removes the mappings it set in rpcbind
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    // Serves procedure p with handler, before run(): handler(args) or handler(args, context)
    // returns the result (none for void), or handler() / handler(context) without arguments.
    // An exception from it answers SYSTEM_ERR. It runs on a thread of the pool: it should not
    // block for long (see on_async).
    template <class P, class Handler> void on(const P& p, Handler handler) {
        add(target_of(p), detail::make_handler<P>(std::move(handler)));
    }

    // Serves p with an asynchronous handler: handler(args, responder<Result>) (or with the
    // context as a third argument; without args for procedures that take none) returns at
    // once and replies later through the responder, from any thread: a timer, another
    // service's completion. context() is the io_context the pool runs.
    template <class P, class Handler> void on_async(const P& p, Handler handler) {
        add(target_of(p), detail::make_async_handler<P>(std::move(handler)));
    }

    // Starts serving on uri: tcp://HOST:PORT, udp://HOST:PORT (port 0: any free port) or
    // shm://NAME. Returns the URI served, with the port bound and the host as given
    // ("tcp://127.0.0.1:40123"). Throws conveyor::error naming uri and the cause.
    std::string listen(std::string_view uri);
    std::string listen(std::string_view uri, std::error_code& ec, std::string* why = nullptr);

    // Maps every program and version served, on every tcp and udp endpoint, in this
    // machine's rpcbind. A mapping that rpcbind holds for a server that no longer answers
    // (one killed before it could remove it) is removed first; one of a live server is left
    // alone, and this fails with errc::already_registered. The mappings are removed by
    // stop() and the destructor.
    void register_with_rpcbind();
    void register_with_rpcbind(std::error_code& ec, std::string* why = nullptr);

    // Serves on options.threads threads (this one among them) until stop().
    void run();
    // Makes run() return: calls in progress are abandoned, connections closed. Any thread,
    // a signal handler on context() included.
    void stop();

    boost::asio::io_context& context() noexcept;

private:
    void add(const call_target& target, detail::handler_function handler);

    struct state;
    std::shared_ptr<state> state_;
};

} // namespace conveyor::rpc
