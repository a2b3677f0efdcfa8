// futex(2) for words that several processes map.
#include "shm/futex.hpp"

#include <cerrno>
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

int futex_wait_any(std::span<const futex_watch> words, std::chrono::steady_clock::time_point until,
                   int& error) noexcept {
#if defined(SYS_futex_waitv) && defined(FUTEX_WAITV_MAX)
    static_assert(max_watched == FUTEX_WAITV_MAX);
    futex_waitv waiters[max_watched] = {};
    const std::size_t n = words.size() < max_watched ? words.size() : max_watched;
    for (std::size_t i = 0; i < n; ++i) {
        waiters[i].val = words[i].expected;
        waiters[i].uaddr = reinterpret_cast<std::uintptr_t>(words[i].address);
        waiters[i].flags = FUTEX_32; // shared: the words are in mappings of other processes
    }
    const auto since_epoch = until.time_since_epoch();
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    timespec absolute{};
    absolute.tv_sec = static_cast<time_t>(seconds.count());
    absolute.tv_nsec = static_cast<long>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - seconds).count());
    const long woken = ::syscall(SYS_futex_waitv, waiters, static_cast<unsigned>(n), 0u, &absolute,
                                 CLOCK_MONOTONIC);
    if (woken >= 0) return static_cast<int>(woken);
    error = errno;
    return -1;
#else
    (void)words;
    (void)until;
    error = ENOSYS; // built against headers older than Linux 5.16
    return -1;
#endif
}

} // namespace conveyor::shm::detail
