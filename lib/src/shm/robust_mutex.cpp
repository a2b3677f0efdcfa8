// Robust process-shared mutex over pthreads.
#include "shm/robust_mutex.hpp"

#include "conveyor/error.hpp"

#include <cerrno>

namespace conveyor::shm::detail {

void robust_mutex::initialise() {
    pthread_mutexattr_t attributes;
    pthread_mutexattr_init(&attributes);
    pthread_mutexattr_setpshared(&attributes, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attributes, PTHREAD_MUTEX_ROBUST);
    int rc = pthread_mutex_init(&native, &attributes);
    pthread_mutexattr_destroy(&attributes);
    if (rc != 0) throw_error(std::error_code(rc, std::system_category()), "pthread_mutex_init");
}

robust_mutex::acquired robust_mutex::lock(std::error_code& ec) noexcept {
    int rc = pthread_mutex_lock(&native);
    if (rc == 0) return acquired::clean;
    if (rc == EOWNERDEAD) return acquired::owner_died;
    ec = rc == ENOTRECOVERABLE ? make_error_code(errc::lock_unrecoverable)
                               : std::error_code(rc, std::system_category());
    return acquired::clean;
}

bool robust_mutex::try_lock(acquired& how, std::error_code& ec) noexcept {
    int rc = pthread_mutex_trylock(&native);
    how = acquired::clean;
    if (rc == 0) return true;
    if (rc == EBUSY) return false;
    if (rc == EOWNERDEAD) {
        how = acquired::owner_died;
        return true;
    }
    ec = rc == ENOTRECOVERABLE ? make_error_code(errc::lock_unrecoverable)
                               : std::error_code(rc, std::system_category());
    return false;
}

void robust_mutex::mark_consistent() noexcept {
    pthread_mutex_consistent(&native);
}

void robust_mutex::unlock() noexcept {
    pthread_mutex_unlock(&native);
}

} // namespace conveyor::shm::detail
