#include <conveyor/checksum.hpp>

#include <boost/test/unit_test.hpp>

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

BOOST_AUTO_TEST_SUITE_END()
