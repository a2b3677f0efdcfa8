// Asynchronous calls with Asio's completion tokens: a callback, use_future, use_awaitable
// (any token async_initiate accepts). Many may be in flight on one client; each is matched
// to its reply by xid and ends by its deadline at the latest.
//
//   rpc::async_call(c, calc::add, {2, 3}, 1s, [](boost::system::error_code ec, int sum) {...});
//   int sum = co_await rpc::async_call(c, calc::add, {2, 3}, 1s, asio::use_awaitable);
//
// The completion signature is void(boost::system::error_code, Result), or
// void(boost::system::error_code) for procedures without a result; the error_code carries
// the std::error_code of the synchronous call (std::errc::timed_out, rpc::errc...). The
// handler runs on its associated executor (the coroutine's, a bind_executor's); a handler
// without one runs on the client's reply thread, where it should not block. The handler's
// executor is kept busy until then, so io_context::run() waits for the reply.
#pragma once

#include "conveyor/rpc/client.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/system/error_code.hpp>

#include <type_traits>
#include <utility>
#include <vector>

namespace conveyor::rpc {
namespace detail {

template <class Result> struct async_signature_of {
    using type = void(boost::system::error_code, Result);
};
template <> struct async_signature_of<void> { using type = void(boost::system::error_code); };
template <class Result> using async_signature = typename async_signature_of<Result>::type;

template <class P> struct async_initiation {
    client* c;
    call_target target;
    wait_duration timeout;

    template <class Handler> void operator()(Handler&& handler, std::vector<std::byte> args) const {
        using result_type = typename P::result_type;
        auto executor = boost::asio::get_associated_executor(handler);
        auto work = boost::asio::make_work_guard(executor);
        c->start_call(
            target, std::move(args), timeout,
            raw_completion([h = std::forward<Handler>(handler), work = std::move(work),
                            target = target](std::error_code ec, reply_message&& reply) mutable {
                value_or_nothing<result_type> result{};
                if (!ec) {
                    try {
                        decode_value(reply.results(), result);
                    } catch (const std::system_error&) {
                        ec = make_error_code(errc::bad_reply);
                    }
                }
                auto ex = work.get_executor();
                boost::asio::dispatch(
                    ex, [h = std::move(h), ec, result = std::move(result)]() mutable {
                        if constexpr (std::is_void_v<result_type>)
                            std::move(h)(boost::system::error_code(ec));
                        else
                            std::move(h)(boost::system::error_code(ec), std::move(result));
                    });
                work.reset();
            }));
    }
};

template <class P, class Args, class Token>
auto start_async(client& c, const P& p, const Args& args, wait_duration timeout, Token&& token) {
    std::vector<std::byte> encoded;
    encode_value(args, encoded);
    return boost::asio::async_initiate<Token, async_signature<typename P::result_type>>(
        async_initiation<P>{&c, target_of(p), timeout}, token, std::move(encoded));
}

} // namespace detail

template <class P, class Token>
requires(!std::is_void_v<typename P::args_type>) auto async_call(client& c, const P& p,
                                                                 const typename P::args_type& args,
                                                                 wait_duration timeout,
                                                                 Token&& token) {
    return detail::start_async(c, p, args, timeout, std::forward<Token>(token));
}

template <class P, class Token>
requires std::is_void_v<typename P::args_type>
auto async_call(client& c, const P& p, wait_duration timeout, Token&& token) {
    return detail::start_async(c, p, detail::nothing{}, timeout, std::forward<Token>(token));
}

} // namespace conveyor::rpc
