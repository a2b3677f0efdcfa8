// What the message-queue peers (POSIX, Boost) share: the depths tried, and how a stream
// ends on a queue that has no notion of one.
#pragma once

#include "transport.hpp"

namespace conveyor::bench {

// Depths 16, 256, 4096 (and 4 for large messages), none holding more than 256 MiB.
std::vector<config> depths(std::size_t size);

// Each writer, when it closes, sends one empty message per reader of its lane; a reader
// stops after one empty message per writer. The queue is FIFO, so the last empty message a
// reader takes comes after every message of every writer.
struct end_markers {
    std::size_t writers = 1; // of the lane
    std::size_t seen = 0;    // empty messages this reader took

    // Accounts an empty message; true once it was this reader's last.
    bool reader_done() noexcept { return ++seen == writers; }
};

} // namespace conveyor::bench
