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

// a * b modulo the polynomial, bit-reflected as the CRC is (zlib's multmodp).
constexpr std::uint32_t multiply_mod_p(std::uint32_t a, std::uint32_t b) noexcept {
    std::uint32_t product = 0;
    for (std::uint32_t m = 1u << 31;; m >>= 1) {
        if (a & m) {
            product ^= b;
            if ((a & (m - 1)) == 0) break;
        }
        b = (b & 1) ? (b >> 1) ^ polynomial : b >> 1;
    }
    return product;
}

// x^(2^k) modulo the polynomial, for k = 0..63.
constexpr std::array<std::uint32_t, 64> make_powers() {
    std::array<std::uint32_t, 64> powers{};
    std::uint32_t p = 1u << 30; // x^1
    for (auto& power : powers) {
        power = p;
        p = multiply_mod_p(p, p);
    }
    return powers;
}

constexpr auto powers = make_powers();

// The CRC of A followed by B, from the CRCs of A and of B and B's length.
std::uint32_t combine(std::uint32_t crc_a, std::uint32_t crc_b, std::size_t length_b) noexcept {
    std::uint32_t shift = 1u << 31; // x^0; becomes x^(8 * length_b)
    for (unsigned k = 3; length_b != 0; length_b >>= 1, ++k)
        if (length_b & 1) shift = multiply_mod_p(powers[k], shift);
    return multiply_mod_p(shift, crc_a) ^ crc_b;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t crc_words(const unsigned char* p, std::size_t n,
                                                          std::uint32_t crc) noexcept {
    std::uint64_t c = crc;
    for (; n >= 8; n -= 8, p += 8) {
        std::uint64_t word;
        std::memcpy(&word, p, 8);
        c = __builtin_ia32_crc32di(c, word);
    }
    auto c32 = static_cast<std::uint32_t>(c);
    if (n >= 4) { // one step for 4 bytes: a generated message's 28-byte header is 3 words and this
        std::uint32_t word;
        std::memcpy(&word, p, 4);
        c32 = __builtin_ia32_crc32si(c32, word);
        n -= 4;
        p += 4;
    }
    for (; n > 0; --n, ++p)
        c32 = __builtin_ia32_crc32qi(c32, *p);
    return c32;
}

// The crc32 instruction takes 3 cycles but can start one every cycle: three independent
// streams over three thirds of a long buffer keep it busy, and their CRCs are joined after.
// Below this size the joining costs more than it saves.
constexpr std::size_t three_way_threshold = 16u << 10;

__attribute__((target("sse4.2"))) std::uint32_t crc_hardware(const unsigned char* p, std::size_t n,
                                                             std::uint32_t crc) noexcept {
    if (n < three_way_threshold) return crc_words(p, n, crc);
    const std::size_t third = n / 3 / 8 * 8;
    const unsigned char* b = p + third;
    const unsigned char* c = b + third;
    std::uint64_t state_a = crc, state_b = ~0u, state_c = ~0u;
    for (std::size_t i = 0; i < third; i += 8) {
        std::uint64_t wa, wb, wc;
        std::memcpy(&wa, p + i, 8);
        std::memcpy(&wb, b + i, 8);
        std::memcpy(&wc, c + i, 8);
        state_a = __builtin_ia32_crc32di(state_a, wa);
        state_b = __builtin_ia32_crc32di(state_b, wb);
        state_c = __builtin_ia32_crc32di(state_c, wc);
    }
    const std::size_t length_c = n - 2 * third;
    const auto crc_c = crc_words(c + third, length_c - third, static_cast<std::uint32_t>(state_c));
    // Joined as finished CRCs (inverted), then handed back as a running state.
    const std::uint32_t ab =
        combine(~static_cast<std::uint32_t>(state_a), ~static_cast<std::uint32_t>(state_b), third);
    return ~combine(ab, ~crc_c, length_c);
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
