// What the async calls (conveyor/shm/async.hpp) need of a channel on shared memory: the
// event its waiters sleep on, and the two things its blocking wait does besides sleeping.
#pragma once

#include "shm/event.hpp"

#include <functional>

namespace conveyor::shm::detail {

struct wait_hooks {
    event* ev = nullptr;
    // Cheap, without a lock: whether what the caller waits for looks there (a message, the
    // end of the stream, room). When it does and a try found nothing, a peer holds the lock
    // for a moment: the caller tries again soon rather than sleeping.
    std::function<bool()> looks_ready;
    // What a waiter does at most every liveness_interval: sweeps of peers that died.
    std::function<void()> between_sleeps;
};

} // namespace conveyor::shm::detail
