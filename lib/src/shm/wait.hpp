// How the queue waits: spin briefly (a peer on another core often answers within
// microseconds, far sooner than a futex round trip), then sleep on an event in slices short
// enough to notice processes that died without a word.
#pragma once

#include "conveyor/channel.hpp"
#include "conveyor/shm/queue.hpp"
#include "shm/event.hpp"

#include <algorithm>
#include <chrono>

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

    bool passed() const { return !unbounded && wait_clock::now() >= at; }

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

// How long one waiter polls before it sleeps, learnt from how polling went: when the
// peer runs on the same core, polling only delays it (each way of a ping-pong cost the
// whole window), so failed polls shrink the window to nothing; polls that catch the peer
// grow it back. Every 256th wait polls the full window, in case the peer moved.
class spin_budget {
public:
    explicit spin_budget(detail::spin_state& state) noexcept : s_(state) {
        if (s_.window < wait_duration::zero()) s_.window = spin_window;
    }
    wait_duration next() noexcept {
        return ++s_.waits % 256 == 0 ? wait_duration(spin_window) : s_.window;
    }
    void caught(bool in_time) noexcept {
        if (in_time)
            s_.window = std::clamp<wait_duration>(s_.window * 2, floor, spin_window);
        else
            s_.window = s_.window / 2 < floor ? wait_duration::zero() : s_.window / 2;
    }

private:
    static constexpr wait_duration floor = std::chrono::microseconds(1);
    detail::spin_state& s_;
};

// Polls ready() for up to window (or until the deadline), backing off between polls: each
// poll reads a line the peer writes, so polling less often lets the peer work without
// losing that line to us, and lets a batch form. It never yields: on a busy machine
// sched_yield puts the caller behind other work for a whole slice (ping-pong went from
// 1.3 to 18.5 µs).
template <class Ready> bool spin_until(Ready&& ready, wait_duration window, const deadline& until) {
    if (window == wait_duration::zero()) return ready();
    const auto stop = std::min(wait_clock::now() + window, until.at);
    unsigned pauses = 1;
    for (unsigned polls = 1;; ++polls) {
        if (ready()) return true;
        if (polls % 16 == 0 && wait_clock::now() >= stop) return false;
        for (unsigned i = 0; i < pauses; ++i)
            cpu_relax();
        pauses = std::min(pauses * 2, max_pauses);
    }
}

// Spins (as budget allows), then sleeps on ev until ready() or the deadline; between
// sleeps calls every_interval() at most once per liveness_interval. Returns ready().
template <class Ready, class Periodic>
bool wait_until(detail::event& ev, Ready&& ready, const deadline& until, detail::spin_state& spin,
                Periodic&& every_interval) {
    spin_budget budget(spin);
    const bool in_time = spin_until(ready, budget.next(), until);
    budget.caught(in_time);
    if (in_time) return true;
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
