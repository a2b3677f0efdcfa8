// How messages travel on a byte stream (pipe, FIFO): length-prefixed frames with a
// checksum, or newline-delimited text for interoperation with ordinary tools.
#pragma once

#include "conveyor/channel.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <vector>

namespace conveyor::pipe {

enum class framing {
    frames, // 12-byte header (tag, length, CRC-32C of the payload), then the payload
    lines   // the message, then '\n'; a message may not contain '\n'
};

// A frame header: tag "CNV" plus a kind byte, payload length and CRC-32C, little-endian.
inline constexpr std::size_t frame_header_size = 12;

// Appends message as one frame (or line) to out. Fails with errc::invalid_argument for a
// newline inside a message in lines mode.
void append_frame(std::vector<std::byte>& out, bytes_view message, framing how,
                  std::error_code& ec);
// Appends the frame a producer sends first on a FIFO, so that a consumer can count
// producers (nothing in lines mode).
void append_hello(std::vector<std::byte>& out, framing how);

// Cuts buffered bytes of a stream back into messages. Bytes go in through prepare/commit;
// next() takes whole messages out. A frame with a bad tag or a wrong checksum is reported
// as errc::corrupt_data, one longer than max_message as errc::message_too_large; neither is
// delivered.
class frame_decoder {
public:
    frame_decoder(framing how, std::size_t max_message);

    // Room for at least n more bytes; commit(k) then adds the k bytes written there.
    std::span<std::byte> prepare(std::size_t n);
    void commit(std::size_t k) noexcept { end_ += k; }

    // True with the next message in message; false when more bytes are needed or on error.
    bool next(std::vector<std::byte>& message, std::error_code& ec);
    // As above, with message viewing the decoder's buffer (no copy): valid until the next
    // prepare().
    bool next(bytes_view& message, std::error_code& ec);
    // At end of input: true with a last line that had no newline (lines mode); sets
    // errc::corrupt_data when part of a frame is left (a writer died mid-frame).
    bool finish(std::vector<std::byte>& message, std::error_code& ec);
    bool finish(bytes_view& message, std::error_code& ec);

    // Hello frames seen: producers that attached so far.
    std::size_t producers_seen() const noexcept { return hellos_; }

private:
    framing how_;
    std::size_t max_message_;
    std::vector<std::byte> buffer_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    std::size_t hellos_ = 0;
};

} // namespace conveyor::pipe
