// futex(2) for words that several processes map.
#include "shm/futex.hpp"

#include <ctime>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace conveyor::shm::detail {

void futex_wait(const void* address, std::uint32_t expected,
                std::chrono::nanoseconds timeout) noexcept {
    timespec relative{};
    relative.tv_sec = static_cast<time_t>(timeout.count() / 1'000'000'000);
    relative.tv_nsec = static_cast<long>(timeout.count() % 1'000'000'000);
    // The kernel compares the word with expected atomically with going to sleep: a change
    // and wake after the caller's last look makes this return at once.
    ::syscall(SYS_futex, address, FUTEX_WAIT, expected, &relative, nullptr, 0);
}

void futex_wake(const void* address, int count) noexcept {
    ::syscall(SYS_futex, address, FUTEX_WAKE, count, nullptr, nullptr, 0);
}

} // namespace conveyor::shm::detail
