// The bytes of a conveyor segment (shm://) or durable queue file (file://); a topic
// (topic://) shares the header and the records, with a control block of its own
// (shm/topic_layout.hpp). docs/architecture.md, "Segment layout", draws it; bump
// layout_version whenever anything here or there changes.
//
// Everything here may be overwritten by any process with write access to the segment. The
// header is checked once, at join, and copied (segment_shape): no later decision reads it
// again. Every other field is checked where it is used (positions against each other and
// the capacity, records against the positions, slots and lease ranges when repaired), so
// that forged values are reported as a corrupt segment, or cost a timeout, and are never
// followed outside the mapping.
#pragma once

#include "detail/process_liveness.hpp"
#include "shm/event.hpp"
#include "shm/process_lock.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace conveyor::shm::detail {

inline constexpr std::uint64_t segment_magic = 0x31525945564e4f43ull; // "CONVEYR1" LE
// 4: the header says whether the segment is a queue or a topic (topic_flag).
inline constexpr std::uint32_t layout_version = 5;
inline constexpr std::size_t max_producers = 64;
inline constexpr std::size_t max_consumers = 64;
// Separate runs of leased records one consumer holds at once: consumers that take in turns
// fragment each other's leases; one that took this many runs without acknowledging is told
// to ack first (errc::too_many_leases).
inline constexpr std::size_t max_lease_ranges = 16;
// A named producer's name, with its terminating NUL.
inline constexpr std::size_t producer_name_capacity = 48;
inline constexpr std::size_t cache_line = 64;
// Records start on 16-byte boundaries, so a record header never straddles the ring's end.
inline constexpr std::size_t record_alignment = 16;

// segment_header::flags
enum segment_flag : std::uint32_t {
    durable_flag = 1, // file://: records carry checksums; the sync policy applies
    topic_flag = 2,   // topic://: a broadcast ring with a topic_control, not a queue_control
    drop_flag = 4,    // topic:// created with slow_subscriber::drop
};
// Every flag this build knows; a header with others is another build's and is refused.
inline constexpr std::uint32_t known_flags = durable_flag | topic_flag | drop_flag;

// Written once by the creator before the segment is published; read-only afterwards.
struct segment_header {
    std::uint64_t magic;          // segment_magic: checked first, before any other field
    std::uint32_t layout_version; // a joiner of another version refuses the segment
    std::uint32_t data_offset;    // where the record ring starts
    std::uint64_t total_size;     // bytes of the whole file; must match its real size
    std::uint64_t capacity;       // bytes of the record ring, a multiple of record_alignment
    std::uint64_t max_message;    // largest payload; 2 * record_size(max_message) <= capacity
    std::int32_t creator_pid;
    std::uint32_t mode; // permission bits the creator asked for
    std::uint64_t created_unix_ns;
    std::uint32_t flags; // segment_flag bits
    std::uint32_t sync;  // conveyor::sync_policy of a durable queue
};

// What a joiner keeps of a header it checked: the only copy of these it ever trusts.
struct segment_shape {
    std::uint64_t capacity = 0;
    std::uint64_t max_message = 0;
    std::uint64_t data_offset = 0;
    std::uint64_t total_size = 0;
    bool durable = false;
    std::uint32_t sync = 0;
    bool topic = false; // topic_flag: the control block is a topic_control
    bool drop = false;  // drop_flag: a topic whose slow subscribers lose the oldest messages
};

enum slot_state : std::uint32_t {
    free_slot = 0,
    live_slot = 1,
    paused_slot = 2,   // a named producer that died: its stream waits for its successor
    orphaned_slot = 3, // a consumer that died or closed holding leases, kept until they are
                       // delivered again
};

// A producer or consumer attached to the queue, changed under its side's lock; atomics so
// that conveyor-ctl reads them without the lock.
struct participant_slot {
    std::atomic<std::uint32_t> state{free_slot};
    std::atomic<std::int32_t> pid{0};
    std::atomic<std::uint64_t> start_time{0};

    conveyor::detail::process_identity identity() const noexcept {
        return {pid.load(std::memory_order_relaxed), start_time.load(std::memory_order_relaxed)};
    }
};

struct producer_slot : participant_slot {
    char name[producer_name_capacity]; // a named producer's name, NUL-terminated; else empty
};

// Records from begin to end (byte positions) that a consumer took and has not acknowledged.
struct lease_range {
    static constexpr std::uint64_t redelivered_bit = std::uint64_t(1) << 63;
    std::atomic<std::uint64_t> begin{0}; // | redelivered_bit when they were delivered before
    std::atomic<std::uint64_t> end{0};
};

struct consumer_slot : participant_slot {
    std::atomic<std::uint32_t> ranges_used{0}; // leading entries of ranges in use
    lease_range ranges[max_lease_ranges];
};

// Records a producer claimed and copies into the ring after releasing the producers' lock
// (large messages, docs/architecture.md "Large messages"): they are committed, in the order
// of their positions, once copied.
struct claim_entry {
    static constexpr std::uint32_t unused = 0, copying = 1, copied = 2;
    std::atomic<std::uint32_t> state{unused};
    std::atomic<std::int32_t> pid{0}; // the claimer, so that a dead one's claim is voided
    std::atomic<std::uint64_t> start_time{0};
    std::atomic<std::uint64_t> begin{0}; // the records' positions, begin to end
    std::atomic<std::uint64_t> end{0};
    std::atomic<std::uint64_t> records{0}; // messages among them, for sent

    conveyor::detail::process_identity identity() const noexcept {
        return {pid.load(std::memory_order_relaxed), start_time.load(std::memory_order_relaxed)};
    }
};
// Claims not yet committed, over all producers; a producer that finds none free waits.
inline constexpr std::size_t max_claims = 64;

// The shared state of the queue. Producers and consumers each have a lock of their own, so
// a producer writes the next record while a consumer reads the last one; each side's
// position and counters sit on a cache line of their own, away from the other side's.
// Byte positions in the ring count up forever and never go back: head <= next <= tail, and
// tail - head <= capacity.
struct queue_control {
    // Producers' side: serialises producers; guards tail, claimed, sent, the claims and
    // producer membership.
    alignas(cache_line) process_lock producer_lock;
    // A record is visible once tail moves past it (the commit).
    alignas(cache_line) std::atomic<std::uint64_t> tail{0};
    // The end of the records claimed: tail <= claimed <= head + capacity. Records between
    // tail and claimed are being copied or wait for those before them.
    std::atomic<std::uint64_t> claimed{0};
    std::atomic<std::uint64_t> sent{0}; // messages committed, ever
    // Consumers' side: serialises consumers; guards next, head, the counters below, consumer
    // membership and every consumer's lease ranges.
    alignas(cache_line) process_lock consumer_lock;
    // The oldest record no consumer has taken yet.
    alignas(cache_line) std::atomic<std::uint64_t> next{0};
    // The oldest record not yet done with: bytes before it may be reused by producers. Equal
    // to next unless records between them are leased (channel_options::acknowledge).
    std::atomic<std::uint64_t> head{0};
    std::atomic<std::uint64_t> received{0};     // deliveries, ever (redeliveries included)
    std::atomic<std::uint64_t> redelivered{0};  // deliveries of records delivered before
    std::atomic<std::uint32_t> lease_ranges{0}; // ranges in use over all consumer slots
    std::atomic<std::uint32_t> orphans{0};      // orphaned consumer slots
    // Membership, changed under the lock of the side concerned.
    alignas(cache_line) std::atomic<std::uint32_t> producers_live{0}; // live or paused slots
    std::atomic<std::uint32_t> consumers_live{0};                     // live consumer slots
    std::atomic<std::uint64_t> producers_attached{0};                 // every producer attach ever
    std::atomic<std::uint64_t> stream_start{0}; // producers_attached when the stream began
    std::atomic<std::uint64_t> repairs{0};      // takeovers from a lock holder that died, ever
    producer_slot producers[max_producers];
    consumer_slot consumers[max_consumers];
    claim_entry claims[max_claims];      // producers' lock
    alignas(cache_line) event not_empty; // consumers sleep here
    alignas(cache_line) event not_full;  // producers sleep here
    // Durable queues: the boot and the file under which the locks and slots above were last
    // valid. Opened after a restart (another boot id) or as a copy (another file), the
    // processes they name are gone whatever /proc says: the queue is recovered instead.
    alignas(cache_line) std::atomic<std::uint64_t> boot_id[2]{};
    std::atomic<std::uint64_t> file_device{0};
    std::atomic<std::uint64_t> file_inode{0};
};

// Each record: this header, the payload, padding to record_alignment.
struct record_header {
    std::uint32_t size;     // payload bytes
    std::uint32_t kind;     // record_kind
    std::uint32_t checksum; // durable queues: CRC-32C of the record's position and payload;
                            // topics: the low half of the message's sequence number
    std::uint32_t reserved; // 0; topics: the high half of the sequence number
};

enum record_kind : std::uint32_t {
    message_record = 0x4D534731, // "MSG1"
    wrap_record = 0x57524150,    // "WRAP": the rest of the ring is unused, go to 0
    skip_record = 0x534B4950,    // "SKIP": a message whose producer died copying it
};

inline constexpr std::uint64_t record_size(std::uint64_t payload) noexcept {
    return (sizeof(record_header) + payload + record_alignment - 1) & ~(record_alignment - 1);
}

// The smallest ring that always has room for a largest record once empty: a record that
// does not fit before the ring's end waits for the whole rest of the ring plus itself.
inline constexpr std::uint64_t min_capacity(std::uint64_t max_message) noexcept {
    return 2 * record_size(max_message);
}

inline constexpr std::size_t round_to_line(std::size_t bytes) noexcept {
    return (bytes + cache_line - 1) / cache_line * cache_line;
}

inline constexpr std::size_t control_offset() noexcept {
    return round_to_line(sizeof(segment_header));
}

inline constexpr std::size_t data_offset() noexcept {
    return control_offset() + round_to_line(sizeof(queue_control));
}

} // namespace conveyor::shm::detail
