// CRC-32C (Castagnoli), the checksum of generated messages and of the typed envelope.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace conveyor {

// CRC-32C of data, continuing from a previous result (0 to start). Uses the SSE 4.2
// instruction where the processor has it.
std::uint32_t crc32c(std::span<const std::byte> data, std::uint32_t previous = 0) noexcept;

} // namespace conveyor
