// Named shared-memory segments made by conveyor: listing and removal. Creating and joining
// happen when a queue_sender or queue_receiver opens one (shm/queue.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace conveyor {
class endpoint;
}

namespace conveyor::shm {

// A subscriber of a topic, as conveyor-ctl list shows it.
struct subscriber_info {
    int pid = 0;
    std::uint64_t behind_messages = 0; // published since it subscribed, not yet read by it
    std::uint64_t behind_bytes = 0;    // of those records
    std::uint64_t received = 0;        // messages it took
    std::uint64_t dropped = 0;         // messages it lost a whole ring behind (drop mode)
};

// What conveyor-ctl list shows of a segment: a queue (shm://) or a topic (topic://). Counts
// are read without the queue's lock, so each is exact but they may be from slightly
// different instants.
struct segment_info {
    std::string name;
    std::uint64_t capacity = 0;       // bytes of message storage
    std::uint64_t max_message = 0;    // largest message
    std::uint64_t depth_messages = 0; // waiting to be delivered (redeliveries included)
    std::uint64_t depth_bytes = 0;    // of records not yet delivered
    // Of records delivered but not acknowledged (channel_options::acknowledge): they hold
    // their space until then.
    std::uint64_t unacknowledged_bytes = 0;
    unsigned producers = 0;          // attached and alive
    unsigned paused_producers = 0;   // named producers that died, awaiting their successor
    unsigned consumers = 0;          // attached and alive
    unsigned orphaned_consumers = 0; // consumers gone with leases to deliver again
    int creator_pid = 0;
    unsigned mode = 0;             // the file's permission bits
    std::string owner;             // the file's owner and group, "root:nogroup"
    std::uint64_t sent = 0;        // messages committed since creation
    std::uint64_t received = 0;    // deliveries since creation, redeliveries included
    std::uint64_t redelivered = 0; // deliveries of messages delivered before
    std::uint64_t repairs = 0;     // recoveries from a process that died holding the lock
    // The layout of the segment's bytes, from its header. layout_mismatch: made by a build
    // of conveyor with another layout version; only name and layout_version are known, since
    // this build cannot read the rest. remove_segment removes it all the same.
    std::uint32_t layout_version = 0;
    bool layout_mismatch = false;
    // no_access: this process may not read the file (another user's, or a narrower mode);
    // only name, mode and owner are known. Unread, it cannot be told from another
    // program's file: it is listed when its size is one a segment can have.
    bool no_access = false;
    // A topic: producers are its publishers and consumers its subscribers; depth is what the
    // slowest subscriber has yet to read, and received counts deliveries to every subscriber.
    bool topic = false;
    bool drop = false; // slow_subscriber::drop: slow subscribers lose the oldest messages
    std::vector<subscriber_info> subscribers; // those attached and alive, in slot order
};

// The conveyor segments in /dev/shm, queues and topics: those this process may read, those
// of another layout version, and those it may not read (no_access); other files are skipped.
std::vector<segment_info> list_segments();

// Describes segment name (a queue or a topic); fails with errc::no_such_endpoint,
// errc::not_a_segment or errc::layout_mismatch.
segment_info inspect_segment(std::string_view name);
segment_info inspect_segment(std::string_view name, std::error_code& ec);
// The same for the queue at where: a shm:// segment or a file:// queue file.
segment_info inspect_queue(const endpoint& where, std::error_code& ec);

// The capacity of a queue created with capacity bytes asked for: rounded up to whole
// records' alignment.
std::uint64_t capacity_made(std::uint64_t capacity) noexcept;

// Removes segment name (a queue or a topic), whatever its layout version; a file under that name
// that conveyor did not make is left alone (errc::not_a_segment). Processes attached keep their
// mapping until they detach. Also removes what creators of name that died mid-way left behind.
void remove_segment(std::string_view name);
void remove_segment(std::string_view name, std::error_code& ec);
// The same for shm://NAME or topic://NAME, which must be of that kind: a topic is not
// removed as shm://NAME, nor a queue as topic://NAME (errc::kind_mismatch, naming the URI
// to use). Segments of another layout version are removed as either.
void remove_segment(const endpoint& where);
void remove_segment(const endpoint& where, std::error_code& ec);

// Where POSIX shared memory objects live on Linux.
inline constexpr std::string_view shm_directory = "/dev/shm";

} // namespace conveyor::shm
