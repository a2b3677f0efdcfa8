// The control block of a topic (topic://): the ring's positions, the publishers' and the
// subscribers' slots, and the events they sleep on. It follows the segment header where a
// queue's queue_control would (layout.hpp); the header's topic_flag says which it is.
// docs/architecture.md, "Topics", has the protocol.
//
// As in a queue, any process with write access may forge any byte here: a subscriber keeps
// its own cursor in private memory and only publishes it here; publishers bound every
// cursor they read by the positions they own; records are read with read_record, which
// never leaves the ring, and checked after the copy (see head).
#pragma once

#include "shm/layout.hpp"

namespace conveyor::shm::detail {

inline constexpr std::size_t max_publishers = max_producers;
inline constexpr std::size_t max_subscribers = 64;

// A subscriber: its slot on a cache line of its own, so that subscribers moving their
// cursors do not take lines from each other. The subscriber alone writes the counters;
// publishers (block mode) and conveyor-ctl read them.
struct alignas(cache_line) subscriber_slot : participant_slot {
    // The position of the next record it reads. release: it is done with the bytes before.
    std::atomic<std::uint64_t> cursor{0};
    std::atomic<std::uint64_t> sequence{0}; // the sequence number it expects next
    std::atomic<std::uint64_t> received{0}; // messages it took
    std::atomic<std::uint64_t> dropped{0};  // messages it lost, a whole ring behind (drop mode)
};

// A topic's ring holds the same records as a queue's (layout.hpp, records.hpp), each with
// the sequence number of its message (a wrap record: that of the message after it).
// Positions count up forever: head <= tail, tail - head <= capacity.
struct topic_control {
    // Serialises publishers; guards tail, head, sent, and the membership of publishers and
    // subscribers (slots, masks, counts), which changes rarely.
    alignas(cache_line) process_lock publisher_lock;
    // The publishers' line: written at each commit, read by every subscriber.
    // A record is visible once tail moves past it (the commit, a release store).
    alignas(cache_line) std::atomic<std::uint64_t> tail{0};
    // The oldest position whose bytes no publisher has begun to overwrite. A publisher moves
    // it (a store, then a release fence) before it writes over what lies below it; a reader
    // that copied a record at position p reads it after the copy (acquire fence) and
    // throws the copy away if it passed p. Block mode: the slowest live cursor seen.
    std::atomic<std::uint64_t> head{0};
    std::atomic<std::uint64_t> sent{0}; // messages committed, ever: the next sequence number
    // Membership, under the publishers' lock.
    alignas(cache_line) std::atomic<std::uint64_t> subscriber_mask{0}; // bit i: slot i taken
    // Publishers are the topic's producers: the names below are the queue's, so that both
    // share their membership code (shm/producer_slots.hpp).
    std::atomic<std::uint32_t> producers_live{0}; // live or paused publisher slots
    std::atomic<std::uint32_t> subscribers_live{0};
    std::atomic<std::uint64_t> producers_attached{0}; // every publisher attach ever
    std::atomic<std::uint64_t> stream_start{0};       // producers_attached when the stream began
    std::atomic<std::uint64_t> repairs{0};           // takeovers from a lock holder that died, ever
    std::atomic<std::uint64_t> departed_received{0}; // messages taken by subscribers gone
    producer_slot producers[max_publishers];
    subscriber_slot subscribers[max_subscribers];
    alignas(cache_line) event published; // subscribers sleep here
    alignas(cache_line) event consumed;  // publishers sleep here (block mode)
};

inline constexpr std::size_t topic_data_offset() noexcept {
    return control_offset() + round_to_line(sizeof(topic_control));
}

} // namespace conveyor::shm::detail
