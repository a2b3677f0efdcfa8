// The machine's rpcbind (the portmapper, program 100000): where a program listens, what it
// maps, and registering a server's endpoints. Lookups go to HOST:111 over tcp; SET and UNSET
// go to this machine's rpcbind through its unix socket, which tells it who asks (a mapping
// belongs to the user who set it), or to 127.0.0.1:111 when there is no socket.
#pragma once

#include "conveyor/channel.hpp"
#include "conveyor/rpc/address.hpp"

#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

namespace conveyor::rpc::rpcbind {

inline constexpr std::uint32_t program_number = 100000;
inline constexpr const char* local_socket = "/run/rpcbind.sock";

// One mapping, as rpcbind versions 3 and 4 hold it.
struct mapping {
    std::uint32_t program = 0;
    std::uint32_t version = 0;
    std::string netid;   // "tcp", "udp", "tcp6", "local" ...
    std::string address; // universal address: "127.0.0.1.156.64" is 127.0.0.1 port 40000
    std::string owner;   // "superuser", a uid, or "unknown"
};

// The port where program, version listens over protocol (tcp or udp), asked of rpcbind on
// host (PMAPPROC_GETPORT); errc::not_registered when it has none.
std::uint16_t getport(const std::string& host, std::uint32_t program, std::uint32_t version,
                      transport protocol, wait_duration timeout);
std::uint16_t getport(const std::string& host, std::uint32_t program, std::uint32_t version,
                      transport protocol, wait_duration timeout, std::error_code& ec,
                      std::string* why = nullptr);

// Every mapping rpcbind on host holds (RPCBPROC_DUMP, version 3), as `rpcinfo HOST` lists.
std::vector<mapping> dump(const std::string& host, wait_duration timeout);
std::vector<mapping> dump(const std::string& host, wait_duration timeout, std::error_code& ec,
                          std::string* why = nullptr);

// Maps program, version over netid to address on this machine's rpcbind (RPCBPROC_SET,
// version 4); rpcbind refuses a mapping that exists (errc::already_registered).
void set(const mapping& m, wait_duration timeout);
void set(const mapping& m, wait_duration timeout, std::error_code& ec, std::string* why = nullptr);
// Removes the mapping of program, version over netid (RPCBPROC_UNSET); rpcbind removes only
// its owner's, or any for root.
void unset(std::uint32_t program, std::uint32_t version, const std::string& netid,
           wait_duration timeout);
void unset(std::uint32_t program, std::uint32_t version, const std::string& netid,
           wait_duration timeout, std::error_code& ec, std::string* why = nullptr);
// The universal address mapped for program, version over netid on this machine's rpcbind
// (from its list of mappings); empty when none.
std::string getaddr(std::uint32_t program, std::uint32_t version, const std::string& netid,
                    wait_duration timeout);
std::string getaddr(std::uint32_t program, std::uint32_t version, const std::string& netid,
                    wait_duration timeout, std::error_code& ec, std::string* why = nullptr);

// "127.0.0.1.156.64" for 127.0.0.1 port 40000 (IPv4 dotted quads only), and back: false
// when text is not such an address.
std::string universal_address(const std::string& ipv4, std::uint16_t port);
bool split_universal_address(const std::string& text, std::string& ipv4, std::uint16_t& port);

} // namespace conveyor::rpc::rpcbind
