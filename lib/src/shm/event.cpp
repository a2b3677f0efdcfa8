// Futex-based event for processes sharing a mapping (no FUTEX_PRIVATE_FLAG).
#include "shm/event.hpp"

#include <climits>
#include <ctime>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace conveyor::shm::detail {
namespace {

long futex(std::atomic<std::uint32_t>* word, int op, std::uint32_t value,
           const timespec* timeout) noexcept {
    return ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), op, value, timeout, nullptr,
                     0);
}

} // namespace

void event::sleep(std::uint32_t ticket, std::chrono::nanoseconds timeout) noexcept {
    timespec relative{};
    relative.tv_sec = static_cast<time_t>(timeout.count() / 1'000'000'000);
    relative.tv_nsec = static_cast<long>(timeout.count() % 1'000'000'000);
    // The kernel compares sequence with ticket atomically: a notify after arm makes this
    // return at once.
    futex(&sequence, FUTEX_WAIT, ticket, &relative);
}

void event::wake(int count) noexcept {
    sequence.fetch_add(1, std::memory_order_release); // the sleepers' tickets go stale
    futex(&sequence, FUTEX_WAKE, static_cast<std::uint32_t>(count), nullptr);
}

void event::notify_all() noexcept {
    notify(INT_MAX);
}

} // namespace conveyor::shm::detail
