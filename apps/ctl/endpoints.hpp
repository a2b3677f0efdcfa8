// What conveyor-ctl shows of each endpoint on this machine: the segments (queues and topics)
// in /dev/shm and the FIFOs this user's conveyor processes made, in one shape for list,
// list --json and top.
#pragma once

#include <conveyor/shm/segment.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace conveyor::cli {

struct endpoint_row {
    std::string endpoint; // "shm://orders", "topic://news", "fifo:///tmp/f"
    // "queue", "topic", "fifo", or "other-layout" (a segment of another layout version,
    // whose figures this build cannot read).
    std::string kind;
    std::uint32_t layout_version = 0;
    // Figures a kind does not have (a FIFO's sent count) are empty.
    std::optional<std::uint64_t> capacity;
    std::optional<std::uint64_t> max_message;
    std::optional<std::uint64_t> depth;
    std::optional<std::uint64_t> depth_bytes;
    std::optional<std::uint64_t> producers;
    std::optional<std::uint64_t> consumers; // a topic's subscribers; a FIFO's reader (0 or 1)
    std::optional<std::uint64_t> sent;
    std::optional<std::uint64_t> received; // a topic: deliveries to all subscribers
    unsigned mode = 0;                     // the file's permission bits
    std::string owner;                     // the file's owner and group, "root:nogroup"
    int creator_pid = 0;
    std::string slow; // a topic's: "block" or "drop"
    std::vector<shm::subscriber_info> subscribers;
};

// Every endpoint now, segments by name, then FIFOs in the order made.
std::vector<endpoint_row> take_snapshot();

} // namespace conveyor::cli
