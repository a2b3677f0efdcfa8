// The futex operations conveyor's waits are built on, on words in shared mappings (no
// FUTEX_PRIVATE_FLAG: the waiters are in other processes).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>

namespace conveyor::shm::detail {

// Sleeps while the 32-bit word at address holds expected, for at most timeout; returns at
// once if it does not. Spurious returns happen: callers look again.
void futex_wait(const void* address, std::uint32_t expected,
                std::chrono::nanoseconds timeout) noexcept;
// Wakes up to count sleepers on the word at address.
void futex_wake(const void* address, int count) noexcept;

// A word for futex_wait_any, waited on as futex_wait does (a shared futex).
struct futex_watch {
    const void* address;
    std::uint32_t expected;
};
// The kernel's limit on the words of one futex_waitv call (FUTEX_WAITV_MAX).
inline constexpr std::size_t max_watched = 128;
// Sleeps until one of the words no longer holds its expected value or is woken, or until
// deadline (a steady_clock time, which is CLOCK_MONOTONIC); futex_waitv(2), Linux 5.16.
// Returns the index of a word woken, or -1 with error set: ETIMEDOUT, EAGAIN (a word had
// changed already), EINTR, EFAULT (a word's page is gone), or ENOSYS or EPERM where the
// kernel or a seccomp filter refuses the call.
int futex_wait_any(std::span<const futex_watch> words, std::chrono::steady_clock::time_point until,
                   int& error) noexcept;

} // namespace conveyor::shm::detail
