// The bytes of a conveyor segment. docs/architecture.md, "Segment layout", draws it; bump
// layout_version whenever anything here changes.
#pragma once

#include "detail/process_liveness.hpp"
#include "shm/event.hpp"
#include "shm/robust_mutex.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace conveyor::shm::detail {

inline constexpr std::uint64_t segment_magic = 0x31525945564e4f43ull; // "CONVEYR1" LE
inline constexpr std::uint32_t layout_version = 2;
inline constexpr std::size_t max_producers = 64;
inline constexpr std::size_t max_consumers = 64;
inline constexpr std::size_t cache_line = 64;
inline constexpr std::size_t record_alignment = 8;

// Written once by the creator before the segment is published; read-only afterwards.
struct segment_header {
    std::uint64_t magic;          // segment_magic: checked first, before any other field
    std::uint32_t layout_version; // a joiner of another version refuses the segment
    std::uint32_t data_offset;    // where the record ring starts
    std::uint64_t total_size;     // bytes of the whole file; must match its real size
    std::uint64_t capacity;       // bytes of the record ring, a multiple of 8
    std::uint64_t max_message;    // largest payload; 2 * record_size(max_message) <= capacity
    std::int32_t creator_pid;
    std::uint32_t mode; // permission bits the creator asked for
    std::uint64_t created_unix_ns;
};

// A producer or consumer attached to the queue; pid 0 marks a free slot.
struct participant_slot {
    std::atomic<std::int32_t> pid{0};
    std::atomic<std::uint64_t> start_time{0};

    conveyor::detail::process_identity identity() const noexcept {
        return {pid.load(std::memory_order_relaxed), start_time.load(std::memory_order_relaxed)};
    }
};

// The shared state of the queue. Producers and consumers each have a lock of their own, so
// a producer writes the next record while a consumer reads the last one; each side's
// position and counters sit on a cache line of their own, away from the other side's.
// Fields are atomics so that the other side and conveyor-ctl can read them without a lock.
struct queue_control {
    // Producers' side: serialises producers; guards tail, sent, and producer attach/detach.
    alignas(cache_line) robust_mutex producer_lock;
    // Byte positions in the ring, counting up forever; used bytes = tail - head. A record
    // is visible once tail moves past it (the commit), gone once head does.
    alignas(cache_line) std::atomic<std::uint64_t> tail{0};
    std::atomic<std::uint64_t> sent{0}; // messages committed, ever
    // Consumers' side: serialises consumers; guards head, received, consumer attach/detach.
    alignas(cache_line) robust_mutex consumer_lock;
    alignas(cache_line) std::atomic<std::uint64_t> head{0};
    std::atomic<std::uint64_t> received{0}; // messages taken, ever
    // Membership, changed under the lock of the side concerned.
    alignas(cache_line) std::atomic<std::uint32_t> producers_live{0}; // used producer slots
    std::atomic<std::uint32_t> consumers_live{0};                     // used consumer slots
    std::atomic<std::uint64_t> producers_attached{0};                 // every producer attach ever
    std::atomic<std::uint64_t> stream_start{0}; // producers_attached when the stream began
    std::atomic<std::uint64_t> repairs{0};      // owner-died recoveries, ever
    participant_slot producers[max_producers];
    participant_slot consumers[max_consumers];
    alignas(cache_line) event not_empty; // consumers sleep here
    alignas(cache_line) event not_full;  // producers sleep here
};

// Each record: this header, the payload, padding to record_alignment.
struct record_header {
    std::uint32_t size; // payload bytes
    std::uint32_t kind; // record_kind
};

enum record_kind : std::uint32_t {
    message_record = 0x4D534731, // "MSG1"
    wrap_record = 0x57524150,    // "WRAP": the rest of the ring is unused, go to 0
};

inline constexpr std::uint64_t record_size(std::uint64_t payload) noexcept {
    return (sizeof(record_header) + payload + record_alignment - 1) & ~(record_alignment - 1);
}

// The smallest ring that always has room for a largest record once empty: a record that
// does not fit before the ring's end waits for the whole rest of the ring plus itself.
inline constexpr std::uint64_t min_capacity(std::uint64_t max_message) noexcept {
    return 2 * record_size(max_message);
}

inline constexpr std::size_t data_offset() noexcept {
    return (sizeof(segment_header) + cache_line - 1) / cache_line * cache_line +
           (sizeof(queue_control) + cache_line - 1) / cache_line * cache_line;
}

inline constexpr std::size_t control_offset() noexcept {
    return (sizeof(segment_header) + cache_line - 1) / cache_line * cache_line;
}

} // namespace conveyor::shm::detail
