// The async calls' helper thread (see async_waiter.hpp).
#include "shm/async_waiter.hpp"

#include "shm/futex.hpp"

#include <algorithm>
#include <cerrno>
#include <pthread.h>
#include <thread>

namespace conveyor::shm::detail {
namespace {

// Where futex_waitv cannot watch every word (the kernel refuses it, before Linux 5.16 or
// under a seccomp filter, or more than max_watched - 1 operations wait at once), the
// thread looks at the words this often instead: each waiting operation then hears of its
// peer within this long, and the thread wakes this often while any waits.
constexpr std::chrono::milliseconds poll_interval{1};

std::atomic<async_waiter*> current{nullptr};
std::once_flag registered;

} // namespace

async_waiter& async_waiter::instance() {
    std::call_once(registered, [] {
        // A child of fork has none of its parent's threads: it starts afresh. The parent's
        // waiter, its mutex perhaps held at the fork, is left to leak there.
        ::pthread_atfork(nullptr, nullptr, [] { current.store(nullptr); });
    });
    async_waiter* waiter = current.load(std::memory_order_acquire);
    if (waiter) return *waiter;
    // Never destroyed: its thread may be asleep in the kernel while the process exits.
    static std::mutex creating;
    const std::lock_guard<std::mutex> lock(creating);
    waiter = current.load(std::memory_order_acquire);
    if (!waiter) {
        waiter = new async_waiter;
        current.store(waiter, std::memory_order_release);
    }
    return *waiter;
}

void async_waiter::park(std::shared_ptr<parked_operation> op,
                        const std::atomic<std::uint32_t>* word, std::uint32_t ticket,
                        clock::time_point deadline) {
    entries_.push_back({std::move(op), word, ticket, deadline});
    parked_count_.store(entries_.size(), std::memory_order_relaxed);
    if (!started_) {
        start();
    } else if (sleeping_) {
        // The thread sleeps on words without this one: it wakes, and watches them all.
        changes_.fetch_add(1, std::memory_order_release);
        futex_wake(&changes_, 1);
    }
}

void async_waiter::unpark(const parked_operation* op) noexcept {
    const auto found = std::find_if(entries_.begin(), entries_.end(),
                                    [op](const entry& e) { return e.op.get() == op; });
    if (found == entries_.end()) return;
    // Its word may be unmapped from now on: the thread, asleep on it, finds out (EFAULT or
    // a stray wake-up) and looks again without it.
    *found = std::move(entries_.back());
    entries_.pop_back();
    parked_count_.store(entries_.size(), std::memory_order_relaxed);
}

void async_waiter::start() {
    started_ = true;
    std::thread([this] { run(); }).detach(); // lives as long as the process
}

void async_waiter::wake_due(clock::time_point now) {
    for (std::size_t i = 0; i < entries_.size();) {
        auto& e = entries_[i];
        // acquire: the change a notifier made before it bumped the sequence is seen by the
        // operation's next try (which also reads it with acquire; this is for the word).
        const bool moved = e.word->load(std::memory_order_acquire) != e.ticket;
        if (!moved && e.deadline > now) {
            ++i;
            continue;
        }
        auto op = std::move(e.op);
        e = std::move(entries_.back());
        entries_.pop_back();
        op->wake(!moved);
    }
    parked_count_.store(entries_.size(), std::memory_order_relaxed);
}

void async_waiter::sleep(std::unique_lock<std::mutex>& lock, clock::time_point until) {
    const std::uint32_t seen = changes_.load(std::memory_order_acquire);
    const bool all_watched = waitv_ && entries_.size() < max_watched;
    futex_watch words[max_watched];
    std::size_t n = 0;
    // A shared futex, as the futex_wake in park and the futex_wait below use: a private
    // wait's key would not match theirs.
    words[n++] = {&changes_, seen};
    if (all_watched)
        for (const auto& e : entries_)
            words[n++] = {e.word, e.ticket};
    else if (!entries_.empty())
        until = std::min(until, clock::now() + poll_interval);
    sleeping_ = true;
    lock.unlock();
    int error = 0;
    if (!all_watched || futex_wait_any({words, n}, until, error) < 0) {
        if (error == ENOSYS || error == EPERM || error == EINVAL) {
            lock.lock();
            waitv_ = false; // from now on: poll
            sleeping_ = false;
            return;
        }
        if (!all_watched) {
            const auto left = until - clock::now();
            if (left > clock::duration::zero()) futex_wait(&changes_, seen, left);
        }
    }
    lock.lock();
    sleeping_ = false;
}

void async_waiter::run() {
    ::pthread_setname_np(::pthread_self(), "conveyor-async"); // for ps, top and debuggers
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        const auto now = clock::now();
        wake_due(now);
        auto until = clock::time_point::max();
        for (const auto& e : entries_)
            until = std::min(until, e.deadline);
        sleep(lock, until);
    }
}

} // namespace conveyor::shm::detail
