// An open segment mapped into this process: create-or-join with the atomic publication
// protocol of docs/architecture.md ("Creating and joining a segment"), and the checks that
// refuse a file conveyor did not make.
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

namespace conveyor::shm::detail {

struct segment_request {
    std::size_t capacity;
    std::size_t max_message;
    unsigned mode;
};

class mapping {
public:
    enum class access { read_write, read_only };

    // Joins segment name, creating it with request if it does not exist. On failure sets ec
    // and why (a sentence naming the cause) and returns null.
    static std::unique_ptr<mapping> open_or_create(const std::string& name,
                                                   const segment_request& request,
                                                   std::error_code& ec, std::string& why);
    // Joins an existing segment only.
    static std::unique_ptr<mapping> open(const std::string& name, access mode, std::error_code& ec,
                                         std::string& why);
    ~mapping();
    mapping(const mapping&) = delete;
    mapping& operator=(const mapping&) = delete;

    const segment_header& header() const noexcept {
        return *static_cast<const segment_header*>(base_);
    }
    queue_control& control() const noexcept {
        return *reinterpret_cast<queue_control*>(static_cast<std::byte*>(base_) + control_offset());
    }
    std::byte* ring() const noexcept {
        return static_cast<std::byte*>(base_) + header().data_offset;
    }

private:
    explicit mapping(std::unique_ptr<boost::interprocess::mapped_region> region);
    std::unique_ptr<boost::interprocess::mapped_region> region_;
    void* base_;
};

// The name of the file a creator builds before publishing it under name.
std::string creation_name(const std::string& name, int pid);

// Removes the files that creators of name killed mid-way left behind (their pid is dead),
// and with them the pages posix_fallocate reserved. A live creator's file is left alone.
void remove_abandoned_creations(const std::string& name);

// The layout version in the header of name, a segment that open refused with
// errc::layout_mismatch; 0 when there is no conveyor header to read it from. Every layout
// starts with the magic and the version, so this reads any version's.
std::uint32_t stored_layout_version(const std::string& name);

} // namespace conveyor::shm::detail
