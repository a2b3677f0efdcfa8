// The JetStream objects behind a nats:// channel: its stream, its durable pull consumer and
// its producer registry, each found or created as docs/nats.md says.
#pragma once

#include "nats/address.hpp"
#include "nats/connection.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <system_error>

namespace conveyor::nats::detail {

using setup_clock = std::chrono::steady_clock;

// The durable's bound on messages delivered and not yet acknowledged, when conveyor creates
// it: a receiver's fetch asks for no more than it leaves (a larger one stalls until it
// expires), and a killed receiver gives back at most this many.
inline constexpr std::int64_t max_ack_pending = 4096;
// JetStream drops a message whose id it has stored within this window: a retransmission
// after a reconnect (JetStream's own default).
inline constexpr std::chrono::minutes duplicate_window{2};

// Finds the stream of where, checking that it takes the subject, or creates it: file
// storage, limits retention, discard new, direct gets allowed, the URI's replicas and limits.
// Retries what a cluster answers while it elects leaders until give_up. A stream another
// opener is making is waited for (wait_until_serving).
bool ensure_stream(const connection& c, const address& where, setup_clock::time_point give_up,
                   std::error_code& ec, std::string& why);

// Waits until stream, which another opener may be creating at this moment, is made in full,
// or fails at give_up. nats-server before 2.9.15 lists a stream while it is still being made,
// before it can send: a consumer made on it then (a durable, a key-value watch) delivers
// nothing, ever, and says nothing. A stream that answers a direct get is made in full; one
// whose config does not allow direct gets (made elsewhere) is taken as it is.
bool wait_until_serving(const connection& c, const std::string& stream,
                        setup_clock::time_point give_up, std::error_code& ec, std::string& why);

// Finds the durable of where, checking that it is a pull consumer, or creates it (explicit
// acknowledgement, the URI's ack_wait, max_ack_pending); its max ack pending in limit.
bool ensure_durable(const connection& c, const address& where, setup_clock::time_point give_up,
                    std::int64_t& limit, std::error_code& ec, std::string& why);

// What the durable of where has left: messages not yet delivered, and delivered but not
// yet acknowledged. False (ec set) when the server did not answer.
bool durable_backlog(const connection& c, const address& where, std::uint64_t& pending,
                     std::int64_t& unacknowledged, std::error_code& ec, std::string& why);

// Whether subject is one that pattern (with '*' and '>' wildcards) takes.
bool subject_matches(std::string_view pattern, std::string_view subject);

} // namespace conveyor::nats::detail
