// CRC-32C: the SSE 4.2 crc32 instruction when present (8 bytes a step), else a table.
#include "conveyor/checksum.hpp"

#include <array>
#include <cstring>

namespace conveyor {
namespace {

constexpr std::uint32_t polynomial = 0x82F63B78u; // Castagnoli, reflected

constexpr std::array<std::uint32_t, 256> make_table() {
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k)
            c = (c & 1) ? (c >> 1) ^ polynomial : c >> 1;
        table[i] = c;
    }
    return table;
}

constexpr auto table = make_table();

std::uint32_t crc_table(const unsigned char* p, std::size_t n, std::uint32_t crc) noexcept {
    for (std::size_t i = 0; i < n; ++i)
        crc = table[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t crc_hardware(const unsigned char* p, std::size_t n,
                                                             std::uint32_t crc) noexcept {
    std::uint64_t c = crc;
    for (; n >= 8; n -= 8, p += 8) {
        std::uint64_t word;
        std::memcpy(&word, p, 8);
        c = __builtin_ia32_crc32di(c, word);
    }
    auto c32 = static_cast<std::uint32_t>(c);
    for (; n > 0; --n, ++p)
        c32 = __builtin_ia32_crc32qi(c32, *p);
    return c32;
}

const bool has_sse42 = __builtin_cpu_supports("sse4.2");
#endif

} // namespace

std::uint32_t crc32c(std::span<const std::byte> data, std::uint32_t previous) noexcept {
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    std::uint32_t crc = ~previous;
#if defined(__x86_64__)
    if (has_sse42) return ~crc_hardware(p, data.size(), crc);
#endif
    return ~crc_table(p, data.size(), crc);
}

} // namespace conveyor
