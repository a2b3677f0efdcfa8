// How the queue waits: spin briefly (a peer on another core often answers within
// microseconds, far sooner than a futex round trip), then sleep on an event in slices short
// enough to notice processes that died without a word.
#pragma once

#include "conveyor/channel.hpp"
#include "shm/event.hpp"

#include <algorithm>
#include <chrono>
#include <sched.h>

namespace conveyor::shm {

using wait_clock = std::chrono::steady_clock;

// Sleepers wake at least this often to look for dead processes.
inline constexpr std::chrono::milliseconds liveness_interval{100};
// How long a waiter polls before it sleeps: long enough to catch a busy peer's answer,
// short enough that an idle waiter costs nothing measurable.
inline constexpr std::chrono::microseconds spin_window{50};
// The longest back-off between two polls while spinning, in pause instructions (~1 µs).
inline constexpr unsigned max_pauses = 64;

// When a blocking call must give up; wait == forever never does.
struct deadline {
    explicit deadline(wait_duration wait)
        : unbounded(wait == forever),
          at(unbounded ? wait_clock::time_point::max() : wait_clock::now() + wait) {}
    bool unbounded;
    wait_clock::time_point at;

    // How long to sleep next; zero once the deadline has passed.
    wait_duration next_sleep() const {
        if (unbounded) return liveness_interval;
        const auto left = at - wait_clock::now();
        if (left <= wait_duration::zero()) return wait_duration::zero();
        return std::min<wait_duration>(left, liveness_interval);
    }
};

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

// Polls ready() for up to spin_window (or until the deadline), backing off between polls:
// each poll reads a line the peer writes, so polling less often lets the peer work without
// losing that line to us, and lets a batch form. Yields now and then so that on a crowded
// machine the peer it waits for gets the core.
template <class Ready> bool spin_until(Ready&& ready, const deadline& until) {
    const auto stop = std::min(wait_clock::now() + spin_window, until.at);
    unsigned pauses = 1;
    for (unsigned polls = 1;; ++polls) {
        if (ready()) return true;
        if (polls % 16 == 0) {
            if (wait_clock::now() >= stop) return false;
            ::sched_yield();
        }
        for (unsigned i = 0; i < pauses; ++i) cpu_relax();
        pauses = std::min(pauses * 2, max_pauses);
    }
}

// Spins, then sleeps on ev until ready() or the deadline; between sleeps calls
// every_interval() at most once per liveness_interval. Returns ready().
template <class Ready, class Periodic>
bool wait_until(detail::event& ev, Ready&& ready, const deadline& until,
                Periodic&& every_interval) {
    if (spin_until(ready, until)) return true;
    auto last = wait_clock::now();
    for (;;) {
        const auto sleep = until.next_sleep();
        if (sleep == wait_duration::zero()) return ready();
        const auto ticket = ev.arm();
        if (ready()) {
            ev.disarm();
            return true;
        }
        ev.sleep(ticket, sleep);
        ev.disarm();
        if (ready()) return true;
        if (wait_clock::now() - last >= liveness_interval) {
            every_interval();
            last = wait_clock::now();
        }
    }
}

} // namespace conveyor::shm
