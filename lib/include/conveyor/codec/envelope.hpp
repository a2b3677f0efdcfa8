// The checked envelope every typed message travels in: format, type id, sequence number,
// payload length and CRC-32C, then the payload in XDR. Layout in docs/codec.md.
#pragma once

#include "conveyor/channel.hpp"
#include "conveyor/codec/xdr_archive.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

namespace conveyor {

// Format 1: the payload was written in xdr_mode::class_info; format 2: in xdr_mode::pure.
inline constexpr std::uint32_t envelope_format_class_info = 1;
inline constexpr std::uint32_t envelope_format_pure = 2;
// format (4) | type id (4) | sequence (8) | payload length (4) | CRC-32C of payload (4),
// each an XDR unsigned int or unsigned hyper.
inline constexpr std::size_t envelope_header_size = 24;

// An opened envelope; payload points into the message it was opened from.
struct envelope {
    std::uint32_t type_id = 0;
    std::uint64_t sequence = 0;
    xdr_mode mode = xdr_mode::class_info;
    bytes_view payload;
};

// Replaces out with e's header and payload.
void seal_envelope(const envelope& e, std::vector<std::byte>& out);

// Fills in the header of message, whose payload already follows envelope_header_size bytes
// reserved at its start: so a payload is written once, in place.
void seal_envelope_in_place(std::uint32_t type_id, std::uint64_t sequence, xdr_mode mode,
                            std::vector<std::byte>& message);

// Checks message's format, payload length and CRC-32C. Errors: unsupported_format,
// length_mismatch, checksum_mismatch; the thrown error's what() gives the figures.
envelope open_envelope(bytes_view message);
envelope open_envelope(bytes_view message, std::error_code& ec);
// As above, and says why in words when it fails.
envelope open_envelope(bytes_view message, std::error_code& ec, std::string& why);

// Writes value in XDR, in its envelope, to out.
template <class T>
void seal_value(const T& value, std::uint32_t type_id, std::uint64_t sequence, xdr_mode mode,
                std::vector<std::byte>& out) {
    out.assign(envelope_header_size, std::byte{0});
    {
        xdr_oarchive archive(out, mode);
        archive << value;
    }
    seal_envelope_in_place(type_id, sequence, mode, out);
}
template <class T>
void seal_value(const T& value, std::uint32_t type_id, std::uint64_t sequence, xdr_mode mode,
                std::vector<std::byte>& out, std::error_code& ec) {
    ec.clear();
    try {
        seal_value(value, type_id, sequence, mode, out);
    } catch (const error& e) {
        ec = e.code();
    }
}

} // namespace conveyor
