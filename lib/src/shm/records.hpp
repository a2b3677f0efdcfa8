// Reading a record of the ring, checked against the segment's shape and the positions that
// bound it: whatever the segment holds, nothing is read outside the ring.
#pragma once

#include "conveyor/checksum.hpp"
#include "shm/layout.hpp"

#include <cstring>
#include <span>
#include <string>

namespace conveyor::shm::detail {

enum class record_status {
    message,   // a whole message record
    wrap,      // nothing to deliver here: the rest of the ring is unused (the next record is
               // at offset 0), or a skip record (a message whose producer died copying it)
    none,      // no record: position is at the limit
    malformed, // bytes no conveyor process wrote there
};

struct record_at {
    record_status status = record_status::none;
    std::uint64_t next = 0;             // the position after it
    std::span<const std::byte> payload; // a message's bytes, in the ring
    std::uint32_t checksum = 0;         // as stored
    std::uint64_t sequence = 0;         // a topic's record: its message's sequence number
};

// The record at position, which must end at or before limit (the committed tail).
inline record_at read_record(const segment_shape& shape, const std::byte* ring,
                             std::uint64_t position, std::uint64_t limit) noexcept {
    if (position >= limit) return {};
    const std::uint64_t offset = position % shape.capacity;
    record_header header;
    std::memcpy(&header, ring + offset, sizeof header); // fits: records are aligned, see layout
    record_at at;
    at.checksum = header.checksum;
    at.sequence = header.checksum | std::uint64_t(header.reserved) << 32;
    if (header.kind == wrap_record) {
        at.next = position + (shape.capacity - offset);
        at.status = at.next <= limit ? record_status::wrap : record_status::malformed;
        return at;
    }
    const std::uint64_t size = record_size(header.size);
    const bool known = header.kind == message_record || header.kind == skip_record;
    if (!known || header.size > shape.max_message || offset + size > shape.capacity ||
        position + size > limit) {
        at.status = record_status::malformed;
        return at;
    }
    if (header.kind == skip_record) {
        at.next = position + size;
        at.status = record_status::wrap;
        return at;
    }
    at.status = record_status::message;
    at.next = position + size;
    at.payload = {ring + offset + sizeof header, header.size};
    return at;
}

// Why the record at position is malformed, for a "segment is corrupt" report.
inline std::string describe_malformed(const segment_shape& shape, const std::byte* ring,
                                      std::uint64_t position, std::uint64_t limit) {
    record_header header;
    std::memcpy(&header, ring + position % shape.capacity, sizeof header);
    const std::string at = "the record at position " + std::to_string(position);
    if (header.kind != message_record && header.kind != wrap_record && header.kind != skip_record)
        return at + " has an unknown kind";
    if (header.kind == message_record && header.size > shape.max_message)
        return at + " claims " + std::to_string(header.size) + " bytes, more than the " +
               std::to_string(shape.max_message) + "-byte maximum";
    return at + " runs past the committed records (tail " + std::to_string(limit) + ")";
}

// A durable record's checksum: its position, then its payload, so that a record left from
// an earlier lap of the ring at the same offset never passes for the one expected there.
inline std::uint32_t record_checksum(std::uint64_t position,
                                     std::span<const std::byte> payload) noexcept {
    const auto seed = crc32c(std::as_bytes(std::span(&position, 1)));
    return crc32c(payload, seed);
}

} // namespace conveyor::shm::detail
