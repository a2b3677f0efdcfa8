#include <conveyor/checksum.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>

#include <string_view>
#include <vector>

namespace {

std::span<const std::byte> bytes_of(std::string_view text) {
    return std::as_bytes(std::span(text.data(), text.size()));
}

} // namespace

BOOST_AUTO_TEST_SUITE(checksum)

BOOST_AUTO_TEST_CASE(crc32c_matches_the_published_check_value) {
    // The check value of CRC-32C (RFC 3720, appendix B.4) for "123456789".
    BOOST_TEST(conveyor::crc32c(bytes_of("123456789")) == 0xE3069283u);
    BOOST_TEST(conveyor::crc32c({}) == 0u);
}

BOOST_AUTO_TEST_CASE(crc32c_continues_across_pieces) {
    const std::string_view text = "the quick brown fox jumps over the lazy dog, twice over";
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
        const auto first = conveyor::crc32c(bytes_of(text.substr(0, cut)));
        BOOST_TEST(conveyor::crc32c(bytes_of(text.substr(cut)), first) ==
                   conveyor::crc32c(bytes_of(text)));
    }
}

BOOST_AUTO_TEST_CASE(long_buffers_give_the_same_crc_however_they_are_split) {
    // Long buffers take a three-way path joined by polynomial arithmetic: check it
    // against byte-at-a-time continuation, which never takes it, at sizes around the
    // threshold and at odd lengths and alignments.
    std::vector<std::byte> data(3u << 20);
    std::uint32_t x = 12345;
    for (auto& b : data)
        b = static_cast<std::byte>((x = x * 1103515245u + 12345u) >> 24);
    const std::size_t sizes[] = {16383, 16384, 16385, 24577, 65536 + 5, 1u << 20, (3u << 20) - 3};
    for (std::size_t size : sizes) {
        for (std::size_t offset : {0u, 1u, 7u}) {
            const auto piece = std::span(data).subspan(offset, size - offset);
            std::uint32_t small_steps = 0;
            for (std::size_t at = 0; at < piece.size(); at += 4096)
                small_steps = conveyor::crc32c(
                    piece.subspan(at, std::min<std::size_t>(4096, piece.size() - at)), small_steps);
            BOOST_TEST(conveyor::crc32c(piece) == small_steps,
                       "size " << size << " offset " << offset);
            BOOST_TEST(
                conveyor::crc32c(piece, 0x1234567u) ==
                conveyor::crc32c(piece.subspan(9), conveyor::crc32c(piece.first(9), 0x1234567u)));
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
