// A condition for processes, on a futex: sleepers wait on a sequence number that a notify
// bumps. Notifying costs a fence and one load while nobody sleeps: the sequence number is
// bumped, and the system call made, only for registered sleepers. Unlike a process-shared
// pthread_cond_t, a sleeper killed while asleep cannot swallow a wake-up meant for the
// living: the sequence number changes for everyone.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace conveyor::shm::detail {

struct event {
    std::atomic<std::uint32_t> sequence{0};
    // Processes between arm() and disarm(). One that dies leaves it too high: that costs
    // needless wake-ups, never a missed one.
    std::atomic<std::uint32_t> sleepers{0};

    // The waiter's protocol: ticket = arm(); check the condition again (it may have become
    // true before arm); if still unmet, sleep(ticket, timeout); then disarm().
    std::uint32_t arm() noexcept {
        const auto ticket = sequence.load(std::memory_order_acquire);
        // seq_cst: ordered against the notifier's fence, so that either the notifier sees
        // this sleeper or the re-check after arm sees the notifier's change.
        sleepers.fetch_add(1, std::memory_order_seq_cst);
        return ticket;
    }
    // Returns when notified after arm, when timeout passes, or spuriously.
    void sleep(std::uint32_t ticket, std::chrono::nanoseconds timeout) noexcept;
    void disarm() noexcept { sleepers.fetch_sub(1, std::memory_order_relaxed); }

    // Call after publishing the change that sleepers wait for.
    void notify(int count) noexcept {
        std::atomic_thread_fence(std::memory_order_seq_cst); // pairs with arm's increment
        if (sleepers.load(std::memory_order_relaxed) != 0) wake(count);
    }
    void notify_all() noexcept;

private:
    void wake(int count) noexcept;
};

} // namespace conveyor::shm::detail
