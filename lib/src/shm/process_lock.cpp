// The process lock: a compare-and-swap to take it, polls while a holder is likely to leave
// soon, then futex sleeps in slices, each ending with a look at whether the holder lives.
#include "shm/process_lock.hpp"

#include "detail/process_liveness.hpp"
#include "shm/futex.hpp"

#include <algorithm>
#include <bit>

namespace conveyor::shm::detail {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the futex word is the low half of the holder word");

// A holder usually leaves within a microsecond or two unless it is descheduled: polling that
// long is cheaper than a futex sleep and wake-up.
constexpr int lock_polls = 32;
constexpr int max_poll_pauses = 64;
// How long a sleeper sleeps before it looks again, and how long one holder must keep the
// lock before a waiter asks /proc whether it still lives (a read of /proc costs ~20 µs).
constexpr std::chrono::milliseconds sleep_slice{10};
constexpr std::chrono::milliseconds holder_check_after{10};

inline void pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

const void* futex_word(const std::atomic<std::uint64_t>& holder) noexcept {
    return &holder; // the low half on a little-endian machine
}

} // namespace

bool process_lock::try_lock(acquired& how) noexcept {
    const std::uint64_t me = conveyor::detail::packed_self();
    std::uint64_t seen = 0;
    how = acquired::clean;
    // acquire: the state the lock guards is read after the last holder's writes to it.
    if (holder.compare_exchange_strong(seen, me, std::memory_order_acquire)) return true;
    if (conveyor::detail::is_alive_packed(seen)) return false;
    how = acquired::owner_died;
    return holder.compare_exchange_strong(seen, me, std::memory_order_acquire);
}

process_lock::acquired process_lock::lock(clock::time_point until) noexcept {
    const std::uint64_t me = conveyor::detail::packed_self();
    for (int poll = 0, pauses = 1; poll < lock_polls; ++poll) {
        // Looks before it swaps: a compare-and-swap takes the line from the holder even when
        // it fails, and the holder needs it back to unlock.
        std::uint64_t seen = 0;
        if (holder.load(std::memory_order_relaxed) == 0 &&
            holder.compare_exchange_weak(seen, me, std::memory_order_acquire))
            return acquired::clean;
        for (int i = 0; i < pauses; ++i)
            pause();
        pauses = std::min(pauses * 2, max_poll_pauses);
    }
    std::uint64_t watched = holder.load(std::memory_order_relaxed);
    auto watched_since = clock::now();
    for (;;) {
        std::uint64_t seen = 0;
        if (holder.compare_exchange_strong(seen, me, std::memory_order_acquire))
            return acquired::clean;
        const auto now = clock::now();
        if (seen != watched) {
            watched = seen;
            watched_since = now;
        } else if (now - watched_since >= holder_check_after) {
            if (!conveyor::detail::is_alive_packed(seen) &&
                holder.compare_exchange_strong(seen, me, std::memory_order_acquire))
                return acquired::owner_died;
            watched_since = now;
        }
        if (now >= until) return acquired::timed_out;
        const auto slice = std::min<clock::duration>(until - now, sleep_slice);
        // seq_cst: ordered against unlock's fence, so that either unlock sees this sleeper or
        // the futex finds the word changed.
        sleepers.fetch_add(1, std::memory_order_seq_cst);
        futex_wait(futex_word(holder), static_cast<std::uint32_t>(seen), slice);
        sleepers.fetch_sub(1, std::memory_order_relaxed);
    }
}

void process_lock::unlock() noexcept {
    holder.store(0, std::memory_order_release); // the guarded writes happen before the next take
    std::atomic_thread_fence(std::memory_order_seq_cst); // pairs with the sleeper's increment
    if (sleepers.load(std::memory_order_relaxed) != 0) futex_wake(futex_word(holder), 1);
}

} // namespace conveyor::shm::detail
