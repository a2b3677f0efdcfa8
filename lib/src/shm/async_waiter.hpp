// The one helper thread of a process that uses the async calls (conveyor/shm/async.hpp): it
// sleeps on the events of every channel with an operation waiting, all at once, and hands
// each operation back when its event moves or its deadline passes. docs/architecture.md,
// "Async calls", has the protocol.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace conveyor::shm::detail {

// An operation the waiter watches for.
class parked_operation {
public:
    virtual ~parked_operation() = default;
    // Called by the waiter thread, with the waiter's mutex held, once the word it parked on
    // moved (timed_out false) or its deadline passed (true). It is no longer parked.
    virtual void wake(bool timed_out) noexcept = 0;
};

class async_waiter {
public:
    using clock = std::chrono::steady_clock;

    // The process's waiter (a fresh one in a child after fork). Its thread starts with the
    // first park and lives as long as the process.
    static async_waiter& instance();

    // Guards what the waiter holds and, by the async calls' convention, the state of every
    // operation it may hold.
    std::mutex& mutex() noexcept { return mutex_; }

    // mutex() held: watches word until it no longer holds ticket, or until deadline; then
    // wakes op (once). word must stay mapped until then or until unpark.
    void park(std::shared_ptr<parked_operation> op, const std::atomic<std::uint32_t>* word,
              std::uint32_t ticket, clock::time_point deadline);
    // mutex() held: stops watching for op, if it is parked.
    void unpark(const parked_operation* op) noexcept;

    // How many operations are parked now; for tests.
    std::size_t parked() const noexcept { return parked_count_.load(std::memory_order_relaxed); }

private:
    struct entry {
        std::shared_ptr<parked_operation> op;
        const std::atomic<std::uint32_t>* word;
        std::uint32_t ticket;
        clock::time_point deadline;
    };

    async_waiter() = default;
    void start();
    void run();
    // mutex() held: wakes every entry whose word moved or whose deadline passed.
    void wake_due(clock::time_point now);
    // Sleeps (mutex() released) until something may be due, a park, or until.
    void sleep(std::unique_lock<std::mutex>& lock, clock::time_point until);

    std::mutex mutex_;
    std::vector<entry> entries_;
    std::atomic<std::size_t> parked_count_{0};
    // This process's futex word: parks bump it to wake the thread, which must add a word.
    std::atomic<std::uint32_t> changes_{0};
    bool sleeping_ = false;
    bool started_ = false;
    bool waitv_ = true; // false once the kernel refused futex_waitv: then it polls
};

} // namespace conveyor::shm::detail
