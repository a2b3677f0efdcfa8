// What a server endpoint is to the server: made by listen() (bound, so that its port is
// known), started by run(), stopped by stop(). One implementation per transport.
#pragma once

#include "dispatcher.hpp"

#include "conveyor/rpc/address.hpp"

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <system_error>

namespace conveyor::rpc::detail {

class listener {
public:
    virtual ~listener() = default;
    // Begins serving; handlers run on the io_context's threads (and shm's own readers).
    virtual void start() = 0;
    // Stops serving; no handler of this listener runs after it returns (when the io_context
    // is not running) or after the io_context stops.
    virtual void stop() = 0;

    // The URI served, with the port bound ("tcp://127.0.0.1:40123").
    virtual std::string uri() const = 0;
    // tcp and udp: the netid ("tcp", "udp6"...) and universal address rpcbind maps; empty
    // for transports rpcbind does not know.
    virtual std::string netid() const { return {}; }
    virtual std::string universal_address() const { return {}; }
};

struct listener_context {
    boost::asio::io_context& io;
    const dispatcher& calls;
    const server_options& options;
    // False once the server stops: a late reply from an asynchronous handler is dropped
    // rather than posted to an io_context that no longer runs.
    const std::atomic<bool>& serving;
};

std::unique_ptr<listener> make_tcp_listener(const listener_context& context, const address& at,
                                            std::error_code& ec, std::string& why);
std::unique_ptr<listener> make_udp_listener(const listener_context& context, const address& at,
                                            std::error_code& ec, std::string& why);
std::unique_ptr<listener> make_shm_listener(const listener_context& context, const address& at,
                                            std::error_code& ec, std::string& why);

} // namespace conveyor::rpc::detail
