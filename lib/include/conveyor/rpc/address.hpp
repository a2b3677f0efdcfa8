// Where an RPC server is: "tcp://HOST:PORT", "udp://HOST:PORT", "shm://NAME", or
// "rpc://HOST/PROGRAM/VERSION[?proto=tcp|udp]", which asks rpcbind on HOST for the port; a
// client may also reach a server on a unix stream socket, "unix:///PATH" (rpcbind's own).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace conveyor::rpc {

enum class transport { tcp, udp, shm, rpcbind, local };

struct address {
    // The longest shm NAME: the queue's name with room for each client's reply queue
    // (NAME.r<pid>.<n>) under conveyor's longest segment name.
    static constexpr std::size_t max_shm_name = 160;
    static constexpr std::uint16_t rpcbind_port = 111;

    transport kind = transport::tcp;
    std::string host;                    // tcp, udp, rpcbind: a name, an IPv4 address or [IPv6]
    std::uint16_t port = 0;              // tcp, udp: 0 for a server means any free port
    std::string name;                    // shm: the queue's name; local: the socket's path
    std::uint32_t program = 0;           // rpcbind
    std::uint32_t version = 0;           // rpcbind
    transport protocol = transport::tcp; // rpcbind: the transport asked for
    std::string uri;                     // as given, for messages

    // Parses uri; throws conveyor::error (conveyor::errc::invalid_endpoint) naming the URI
    // and what is wrong with it.
    static address parse(std::string_view uri);
    // As above; on failure sets ec and, when why is given, the sentence.
    static address parse(std::string_view uri, std::error_code& ec, std::string* why = nullptr);

    // The URI of this address with another port ("tcp://127.0.0.1:40123").
    std::string with_port(std::uint16_t bound) const;
};

} // namespace conveyor::rpc
