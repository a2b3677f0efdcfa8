// What a nats:// URI names: the servers to try, the subject, and the stream, durable and
// limits behind it, with every default filled in. docs/nats.md has the URI and the defaults.
#pragma once

#include "conveyor/endpoint.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace conveyor::nats::detail {

// A server given without a port listens on NATS's own.
inline constexpr unsigned default_port = 4222;
// How long a message taken and not acknowledged stays with its receiver before JetStream
// delivers it again.
inline constexpr std::chrono::milliseconds default_ack_wait{10'000};
// JetStream keeps at most 5 copies of a stream (raft groups of up to 5 peers).
inline constexpr int max_replicas = 5;
// Longer waits are typing mistakes (a day, in seconds).
inline constexpr double max_ack_wait_s = 86'400;
// Stream and durable names: JetStream's own limit leaves room for the registry bucket's
// prefix (registry.hpp) within a file name's 255 bytes.
inline constexpr std::size_t max_name = 200;
// The prefix of a durable named after its stream.
inline constexpr std::string_view durable_prefix = "conveyor-";

struct address {
    std::vector<std::string> servers; // "nats://[USER[:PASSWORD]@]HOST:PORT", in the order given
    std::string subject;
    std::string stream;  // ?stream=, else the subject in upper case with '.' as '_'
    std::string durable; // ?durable=, else "conveyor-" and the stream
    int replicas = 1;
    std::chrono::milliseconds ack_wait = default_ack_wait;
    std::string creds; // a credentials file (JWT and NKey seed), empty for none
    // Limits of a stream this channel creates; 0: none beyond the server's own.
    std::int64_t max_bytes = 0;
    std::int64_t max_msgs = 0;
    std::chrono::seconds max_age{0};

    // "nats://HOST:PORT,HOST:PORT" without credentials, for messages.
    std::string servers_text() const;
};

// Parses what follows "nats://" in a URI. On failure returns false and sets why to the
// reason, naming the part of the URI that is wrong.
bool parse_address(std::string_view rest, address& out, std::string& why);

// parse_address for where's name, as a sender or receiver opens it: on failure sets ec to
// errc::invalid_endpoint and why (when given) to the URI, passwords hidden, and the reason.
bool parse_endpoint(const endpoint& where, address& out, std::error_code& ec, std::string* why);

// uri with the passwords of its servers as "***", for messages.
std::string without_passwords(std::string_view uri);

// The reason text rest is not a valid nats address, or empty when it is.
std::string check_address(std::string_view rest);

} // namespace conveyor::nats::detail
