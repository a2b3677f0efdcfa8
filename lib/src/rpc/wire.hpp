// A client's connection to one server, as the client engine drives it: messages out from any
// thread, replies in for one thread at a time (the leader, engine.hpp), with plain blocking
// system calls so that a synchronous call costs one write and one read. One class per
// transport: stream (tcp, and unix sockets for rpcbind), datagram (udp), shm.
#pragma once

#include "conveyor/rpc/address.hpp"
#include "conveyor/rpc/client.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

namespace conveyor::rpc::detail {

using clock = std::chrono::steady_clock;
using time_point = clock::time_point;

class wire {
public:
    virtual ~wire() = default;

    // Sends one RPC message. With wait, returns once it is out, or false when the deadline
    // passed first; without, what cannot go at once is kept for flush() and receive(), and a
    // datagram that cannot go at once is dropped (the engine retransmits it). Between cork()
    // and flush() messages only gather. Any thread.
    virtual bool send(bytes_view message, time_point deadline, bool wait, std::error_code& ec) = 0;
    // Messages sent from now on gather until flush(): the reply thread's batch. Any thread.
    virtual void cork() noexcept {}
    // Sends what gathered, without waiting for room.
    virtual void flush(std::error_code&) {}

    // The next message from the server, waiting until deadline; false when the deadline
    // passed or wake() was called. Sends what was kept meanwhile. One thread at a time.
    virtual bool receive(std::vector<std::byte>& message, time_point deadline,
                         std::error_code& ec) = 0;
    // Makes a receive() in progress return soon.
    virtual void wake() noexcept = 0;

    // The largest message this connection sends: a larger call fails alone, before it goes.
    virtual std::size_t max_message() const noexcept = 0;

    // Datagrams may be lost: the engine retransmits calls until their deadline.
    virtual bool lossy() const noexcept { return false; }
    // Whether the server is known to have closed the connection (a stream that reached its
    // end while idle): then a call would fail on it, and a new connection is made instead.
    virtual bool closed_by_peer() const noexcept { return false; }
};

// Connects to where (tcp, udp, shm; rpc:// addresses are resolved by the engine first),
// giving up at deadline. On failure sets ec and why, a sentence naming where and the cause.
std::unique_ptr<wire> open_stream_wire(const address& where, const client_options& options,
                                       time_point deadline, std::error_code& ec, std::string& why);
std::unique_ptr<wire> open_unix_wire(const std::string& path, const client_options& options,
                                     time_point deadline, std::error_code& ec, std::string& why);
std::unique_ptr<wire> open_datagram_wire(const address& where, const client_options& options,
                                         std::error_code& ec, std::string& why);
std::unique_ptr<wire> open_shm_wire(const address& where, const client_options& options,
                                    std::error_code& ec, std::string& why);

} // namespace conveyor::rpc::detail
