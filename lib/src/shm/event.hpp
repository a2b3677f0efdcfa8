// A condition for processes, on a futex: waiters sleep on a sequence number that every
// notify bumps. Unlike a process-shared pthread_cond_t, a waiter killed while asleep can't
// swallow a wake-up meant for the living: the sequence number changes for everyone.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace conveyor::shm::detail {

struct event {
    std::atomic<std::uint32_t> sequence{0};
    // Processes inside wait(); a notify without sleepers skips the system call. A waiter
    // that dies leaves it one too high: that costs a needless wake-up, never a missed one.
    std::atomic<std::uint32_t> sleepers{0};

    // Read under the lock that guards the condition, before releasing it to sleep.
    std::uint32_t prepare_wait() const noexcept { return sequence.load(std::memory_order_acquire); }
    // Sleeps until notified after prepare_wait returned ticket, or timeout passes. Call
    // without the lock. Spurious returns happen: callers re-check their condition.
    void wait(std::uint32_t ticket, std::chrono::nanoseconds timeout) noexcept;
    // Wakes up to count sleepers; call after changing the condition (lock held or not).
    void notify(int count) noexcept;
    void notify_all() noexcept;
};

} // namespace conveyor::shm::detail
