// The two futex operations conveyor's waits are built on, on words in shared mappings (no
// FUTEX_PRIVATE_FLAG: the waiters are in other processes).
#pragma once

#include <chrono>
#include <cstdint>

namespace conveyor::shm::detail {

// Sleeps while the 32-bit word at address holds expected, for at most timeout; returns at
// once if it does not. Spurious returns happen: callers look again.
void futex_wait(const void* address, std::uint32_t expected,
                std::chrono::nanoseconds timeout) noexcept;
// Wakes up to count sleepers on the word at address.
void futex_wake(const void* address, int count) noexcept;

} // namespace conveyor::shm::detail
