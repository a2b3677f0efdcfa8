// One measurement: a transport in one setting, producers and consumers as separate
// processes, timed from a common start to the last consumer's end, every message verified.
#pragma once

#include "transport.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace conveyor::bench {

struct workload {
    pattern kind = pattern::one_to_one;
    std::size_t size = 64;   // bytes per message
    std::uint64_t count = 0; // messages in all (divided among producers), or round trips
};

struct measurement {
    std::optional<double> msgs_per_s; // throughput patterns; fan-out: messages published
    std::optional<double> mb_per_s;   // 10^6 bytes of messages per second (published)
    std::optional<double> rtt_p50_us; // ping-pong
    std::optional<double> rtt_p99_us;
    bool verified = false;
    std::string failure; // why verified is false
};

// Runs workload once. Throws when the transport cannot open the setting; a run that fails
// (a child that dies, a message lost, corrupt or out of order, a hang) comes back with
// verified false.
measurement run(transport& t, const config& setting, const workload& work);

} // namespace conveyor::bench
