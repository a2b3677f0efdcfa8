// Producer membership, the same in a queue and a topic (whose publishers are its producers):
// slots of pid, start time and name, taken and swept under the lock that guards them.
// Control is queue_control or topic_control; both name these fields alike.
#pragma once

#include "conveyor/error.hpp"
#include "detail/process_liveness.hpp"
#include "shm/layout.hpp"

#include <cstring>
#include <string>
#include <system_error>

namespace conveyor::shm::detail {

// Under the producers' lock: producers that died are detached (a named one is paused: its
// stream waits for its successor). Returns true when the last live one has just gone, so
// that the caller wakes the consumers to see the end of the stream.
template <class Control> bool reap_dead_producers(Control& c) noexcept {
    constexpr auto relaxed = std::memory_order_relaxed;
    std::uint32_t live = 0;
    for (auto& slot : c.producers) {
        const auto state = slot.state.load(relaxed);
        if (state == paused_slot) {
            ++live; // a named producer's stream stays open until its successor closes it
            continue;
        }
        if (state != live_slot) continue;
        if (conveyor::detail::is_alive(slot.identity())) {
            ++live;
        } else if (slot.name[0] != '\0') {
            slot.state.store(paused_slot, relaxed);
            ++live;
        } else {
            slot.pid.store(0, relaxed);
            slot.state.store(free_slot, relaxed);
        }
    }
    const bool last_gone = live == 0 && c.producers_live.load(relaxed) != 0;
    // release: a consumer that sees the count drop also sees every record committed.
    c.producers_live.store(live, std::memory_order_release);
    return last_gone;
}

// Under the producers' lock: a slot for this process as a producer named name (empty:
// anonymous). A named producer takes the slot of its namesake that died or paused
// (rejoined is then set); a live namesake refuses it (errc::name_in_use). uri names the
// channel in why.
template <class Control>
producer_slot* take_producer_slot(Control& c, const std::string& name, const std::string& uri,
                                  bool& rejoined, std::error_code& ec, std::string& why) noexcept {
    constexpr auto relaxed = std::memory_order_relaxed;
    producer_slot* chosen = nullptr;
    if (!name.empty()) {
        for (auto& slot : c.producers) {
            const auto state = slot.state.load(relaxed);
            if ((state != live_slot && state != paused_slot) ||
                std::strncmp(slot.name, name.c_str(), producer_name_capacity) != 0)
                continue;
            if (state == live_slot && conveyor::detail::is_alive(slot.identity())) {
                ec = errc::name_in_use;
                why = uri + ": producer '" + name + "' is attached already (process " +
                      std::to_string(slot.pid.load(relaxed)) + ")";
                return nullptr;
            }
            chosen = &slot; // a namesake that died: this process takes its place
            rejoined = true;
            break;
        }
    }
    auto find_free = [&]() -> producer_slot* {
        for (auto& slot : c.producers)
            if (slot.state.load(relaxed) == free_slot) return &slot;
        return nullptr;
    };
    if (!chosen) chosen = find_free();
    if (!chosen) {
        reap_dead_producers(c);
        chosen = find_free();
    }
    if (!chosen) {
        ec = errc::too_many_attached;
        why =
            uri + ": all " + std::to_string(std::size(c.producers)) + " producer slots are in use";
        return nullptr;
    }
    const auto me = conveyor::detail::self_identity();
    std::memset(chosen->name, 0, producer_name_capacity);
    std::memcpy(chosen->name, name.data(), name.size());
    chosen->start_time.store(me.start_time, relaxed);
    chosen->pid.store(me.pid, relaxed);
    chosen->state.store(live_slot, relaxed);
    return chosen;
}

} // namespace conveyor::shm::detail
