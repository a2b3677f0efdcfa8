// What the async calls (conveyor/shm/async.hpp) need of a queue's sender and receiver.
#include "conveyor/shm/queue.hpp"

#include "shm/attachment.hpp"
#include "shm/wait_hooks.hpp"

namespace conveyor::shm {

detail::wait_hooks queue_sender::hooks_for_async() noexcept {
    auto& q = attached_->control();
    // A send that found the producers' lock taken (another producer mid-send, or holding a
    // reservation) tries again soon; one that found the ring full waits for a consumer.
    return {&q.not_full,
            [&q] { return q.producer_lock.holder.load(std::memory_order_relaxed) != 0; },
            {}};
}

detail::wait_hooks queue_receiver::hooks_for_async() noexcept {
    return {&attached_->control().not_empty, [this] { return data_visible(); },
            [this] { sweep_dead_peers(); }};
}

} // namespace conveyor::shm
