// RFC 5531, 11: on a byte stream each RPC message is a record of fragments, each fragment
// behind a 4-byte mark (the high bit: last fragment; the other 31: its length). The reader
// bounds a record before it stores a byte of it, so a forged mark of 2^31-1 allocates nothing.
#pragma once

#include "conveyor/channel.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <vector>

namespace conveyor::rpc::detail {

inline constexpr std::uint32_t last_fragment = 0x8000'0000u;
inline constexpr std::size_t record_mark_size = 4;

// Cuts records out of the bytes a stream delivers, in place where a record is one fragment.
class record_reader {
public:
    // The first read's size; the buffer grows to hold a record up to max_record.
    static constexpr std::size_t initial_buffer = 64 << 10;

    explicit record_reader(std::size_t max_record);

    // Where the next read from the stream goes, at least initial_buffer / 4 bytes.
    std::span<std::byte> space();
    // Records n bytes read into space().
    void commit(std::size_t n) noexcept { end_ += n; }

    // The next whole record, valid until the next space() or next(); false when the bytes
    // so far hold none. A record beyond max_record sets ec (errc::record_too_large): the
    // stream cannot be read further.
    bool next(bytes_view& record, std::error_code& ec);

    // Bytes read but not yet returned as records.
    std::size_t buffered() const noexcept { return end_ - begin_; }

private:
    std::size_t max_record_;
    std::vector<std::byte> buffer_;
    std::size_t begin_ = 0; // the first byte not yet consumed
    std::size_t end_ = 0;   // one past the last byte read
    // A record of several fragments is gathered here; fragments_done_ once its last came.
    std::vector<std::byte> gathered_;
    bool gathering_ = false;
};

// Appends message as one record of one fragment.
void append_record(std::vector<std::byte>& out, bytes_view message);

} // namespace conveyor::rpc::detail
