// Futex-based event for processes sharing a mapping.
#include "shm/event.hpp"

#include "shm/futex.hpp"

#include <climits>

namespace conveyor::shm::detail {

void event::sleep(std::uint32_t ticket, std::chrono::nanoseconds timeout) noexcept {
    // A notify after arm changed sequence: the sleep returns at once.
    futex_wait(&sequence, ticket, timeout);
}

void event::wake(int count) noexcept {
    sequence.fetch_add(1, std::memory_order_release); // the sleepers' tickets go stale
    futex_wake(&sequence, count);
}

void event::notify_all() noexcept {
    notify(INT_MAX);
}

} // namespace conveyor::shm::detail
