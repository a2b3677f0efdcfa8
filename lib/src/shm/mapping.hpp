// An open segment mapped into this process: create-or-join with the atomic publication
// protocol of docs/architecture.md ("Creating and joining a segment"), and the checks that
// refuse a file conveyor did not make. shm:// segments live in /dev/shm; file:// queues are
// the same bytes in a file of the user's choosing.
#pragma once

#include "shm/layout.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <system_error>

namespace boost::interprocess {
class mapped_region;
}

namespace conveyor {
class endpoint;
}

namespace conveyor::shm::detail {

// What an opener expects to find under a name: a queue (shm://, file://), a topic
// (topic://), or either (listing and removal).
enum class segment_kind { queue, topic, any };

// Where a segment's file is.
struct segment_location {
    std::string uri;       // as messages name it: "shm://orders", "file:///var/q/orders"
    std::string directory; // "/dev/shm", or the file's directory
    std::string file;      // the file's name in directory
    bool durable = false;  // file://
    segment_kind kind = segment_kind::any;

    std::string path() const { return directory + "/" + file; }
    static segment_location of(const endpoint& where);
    static segment_location shm(const std::string& name);
};

struct segment_request {
    std::size_t capacity;
    std::size_t max_message;
    unsigned mode;
    std::uint32_t sync = 0; // conveyor::sync_policy, for a durable queue
    bool drop = false;      // a topic whose slow subscribers lose the oldest messages
};

struct topic_control;

class mapping {
public:
    enum class access { read_write, read_only };

    // Joins the segment at where, creating it with request if it does not exist. On failure
    // sets ec and why (a sentence naming the cause) and returns null.
    static std::unique_ptr<mapping> open_or_create(const segment_location& where,
                                                   const segment_request& request,
                                                   std::error_code& ec, std::string& why);
    // Joins an existing segment only.
    static std::unique_ptr<mapping> open(const segment_location& where, access mode,
                                         std::error_code& ec, std::string& why);
    static std::unique_ptr<mapping> open(const std::string& shm_name, access mode,
                                         std::error_code& ec, std::string& why) {
        return open(segment_location::shm(shm_name), mode, ec, why);
    }
    ~mapping();
    mapping(const mapping&) = delete;
    mapping& operator=(const mapping&) = delete;

    // The header as checked at join: the sizes every decision uses.
    const segment_shape& shape() const noexcept { return shape_; }
    // The header as it is now, for display only (creator, mode, creation time): any process
    // with write access may have changed it since the join.
    const segment_header& header() const noexcept {
        return *static_cast<const segment_header*>(base_);
    }
    // The control block: a queue's, or a topic's when shape().topic.
    queue_control& control() const noexcept {
        return *reinterpret_cast<queue_control*>(static_cast<std::byte*>(base_) + control_offset());
    }
    topic_control& topic() const noexcept {
        return *reinterpret_cast<topic_control*>(static_cast<std::byte*>(base_) + control_offset());
    }
    std::byte* ring() const noexcept { return static_cast<std::byte*>(base_) + shape_.data_offset; }
    std::byte* base() const noexcept { return static_cast<std::byte*>(base_); }
    // The open file, for durable queues' locks and syncs; the mapping keeps it open.
    int descriptor() const noexcept { return fd_; }
    const segment_location& location() const noexcept { return location_; }
    // A durable queue's file was shorter than its header says (cut by a crash or a copy) and
    // was extended back with zeros: its records need recovering.
    bool was_extended() const noexcept { return extended_; }

private:
    mapping(std::unique_ptr<boost::interprocess::mapped_region> region, int fd,
            const segment_shape& shape, segment_location where);
    std::unique_ptr<boost::interprocess::mapped_region> region_;
    void* base_;
    int fd_;
    segment_shape shape_;
    segment_location location_;
    bool extended_ = false;
};

// Removes the files that creators of the segment killed mid-way left behind (their pid is
// dead), and with them the pages or blocks they reserved. A live creator's file is left.
void remove_abandoned_creations(const segment_location& where);

// The layout version in the header of a segment that open refused with
// errc::layout_mismatch; 0 when there is no conveyor header to read it from. Every layout
// starts with the magic and the version, so this reads any version's.
std::uint32_t stored_layout_version(const segment_location& where);

} // namespace conveyor::shm::detail
