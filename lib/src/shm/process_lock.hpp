// A lock for processes sharing a mapping, whose every state is a plain word: free, or held by
// a process named by its pid and start time. A holder that dies is found out by the next
// process that waits for it, which takes the lock over and repairs what it guards.
//
// Not a robust pthread mutex: glibc keeps a robust mutex on a list threaded through the
// mutex's own bytes, and unlocking one follows those pointers and writes through them, so a
// process that can write the segment could make another write anywhere in its memory. Here
// any value is only a claim about who holds the lock, checked against /proc before it is
// believed dead; a forged holder that is alive costs waiters their timeout, nothing more.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace conveyor::shm::detail {

struct process_lock {
    // 0 when free, else the holder's packed identity (detail/process_liveness.hpp). Its low
    // half, the pid, is the futex word that waiters sleep on.
    std::atomic<std::uint64_t> holder{0};
    // Processes asleep on the lock. One that dies leaves it too high: needless wake-ups only.
    std::atomic<std::uint32_t> sleepers{0};

    using clock = std::chrono::steady_clock;
    enum class acquired {
        clean,      // locked; the guarded state is as its last holder left it
        owner_died, // locked, taken over from a holder that died: repair before relying on it
        timed_out,  // not locked: a live process held it until the deadline
    };
    // Takes the lock, waiting until the deadline at most (clock::time_point::max(): no limit).
    acquired lock(clock::time_point until) noexcept;
    // Takes the lock if it is free, or held by a process that died (the liveness check reads
    // /proc: for periodic sweeps, not hot paths); false at once otherwise.
    bool try_lock(acquired& how) noexcept;
    void unlock() noexcept;
};

} // namespace conveyor::shm::detail
