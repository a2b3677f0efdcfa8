// A process-shared, robust pthread mutex: when its owner dies, the next locker is told so
// (EOWNERDEAD) and may repair what the lock guards before going on. Boost 1.81's
// interprocess_mutex turns that case into a permanent not_recoverable error instead.
#pragma once

#include <pthread.h>
#include <system_error>

namespace conveyor::shm::detail {

// Lives in shared memory; initialised once by the segment's creator.
struct robust_mutex {
    pthread_mutex_t native;

    void initialise();

    enum class acquired { clean, owner_died };
    // Blocks until locked. On owner_died the caller holds the lock, must repair the state
    // it guards, then call mark_consistent(). Fails only if the lock is unrecoverable.
    acquired lock(std::error_code& ec) noexcept;
    bool try_lock(acquired& how, std::error_code& ec) noexcept;
    void mark_consistent() noexcept;
    void unlock() noexcept;
};

} // namespace conveyor::shm::detail
