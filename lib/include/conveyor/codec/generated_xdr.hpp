// Generated messages (generated_message.hpp) as typed messages: each goes as XDR opaque data
// in the checked envelope, so that a verified stream is also a stream of portable messages.
#pragma once

#include "conveyor/channel.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

namespace conveyor {

inline constexpr std::uint32_t generated_message_type_id = 0xffff0001;

// The size on the wire of a generated message of size bytes.
std::size_t generated_xdr_size(std::size_t size) noexcept;
// The largest generated message whose wire size fits in max_message.
std::size_t generated_xdr_capacity(std::size_t max_message) noexcept;

// Replaces out with message number sequence, in its envelope.
void encode_generated(bytes_view message, std::uint64_t sequence, std::vector<std::byte>& out);

// Replaces message with the generated message inside wire. On failure ec names the cause
// (unsupported_format, length_mismatch, checksum_mismatch, unknown_message_type,
// corrupt_data) and why says it with the figures.
void decode_generated(bytes_view wire, std::vector<std::byte>& message, std::error_code& ec,
                      std::string& why);

} // namespace conveyor
