// The envelope: what it carries, and each way a message can be refused, with its cause named.
#include <conveyor/codec/envelope.hpp>
#include <conveyor/error.hpp>

#include <boost/serialization/string.hpp>
#include <boost/test/unit_test.hpp>

using namespace conveyor;

namespace {

std::vector<std::byte> sealed(const std::string& text, std::uint32_t type_id = 7,
                              std::uint64_t sequence = 3) {
    std::vector<std::byte> out;
    seal_value(text, type_id, sequence, xdr_mode::pure, out);
    return out;
}

// Whether opening message fails with cause, and the thrown error's words contain words.
bool refused(const std::vector<std::byte>& message, errc cause, const std::string& words) {
    std::error_code ec;
    open_envelope(message, ec);
    if (ec != cause) return false;
    try {
        open_envelope(message);
    } catch (const error& e) {
        return e.code() == cause && std::string(e.what()).find(words) != std::string::npos;
    }
    return false;
}

} // namespace

BOOST_AUTO_TEST_SUITE(envelope)

BOOST_AUTO_TEST_CASE(an_envelope_carries_type_sequence_and_payload) {
    const auto message = sealed("hello", 0x01020304, 0x1122334455667788);
    BOOST_TEST(message.size() == envelope_header_size + 12);
    // format 2 (pure), then the type id, big-endian
    BOOST_TEST(std::to_integer<int>(message[3]) == 2);
    BOOST_TEST(std::to_integer<int>(message[4]) == 1);
    const auto e = open_envelope(message);
    BOOST_TEST(e.type_id == 0x01020304u);
    BOOST_TEST(e.sequence == 0x1122334455667788u);
    BOOST_TEST((e.mode == xdr_mode::pure));
    std::string text;
    from_xdr(e.payload, text, e.mode);
    BOOST_TEST(text == "hello");
}

BOOST_AUTO_TEST_CASE(an_unknown_format_version_is_refused) {
    auto message = sealed("x");
    message[3] = std::byte{9};
    BOOST_TEST(refused(message, errc::unsupported_format, "envelope format 9"));
}

BOOST_AUTO_TEST_CASE(a_payload_shorter_or_longer_than_its_header_says_is_refused) {
    auto message = sealed("abcdef");
    message.pop_back();
    BOOST_TEST(refused(message, errc::length_mismatch, "payload of 12 bytes but 11 follow"));
    message.resize(message.size() + 5);
    BOOST_TEST(refused(message, errc::length_mismatch, "but 16 follow"));
    message.resize(10);
    BOOST_TEST(refused(message, errc::length_mismatch, "shorter than the 24-byte"));
}

BOOST_AUTO_TEST_CASE(a_payload_with_a_flipped_bit_fails_its_checksum) {
    auto message = sealed("abcdef");
    message.back() ^= std::byte{0x10};
    BOOST_TEST(refused(message, errc::checksum_mismatch, "CRC-32C"));
}

BOOST_AUTO_TEST_CASE(seal_envelope_wraps_an_existing_payload) {
    const std::vector<std::byte> payload(5, std::byte{0xab});
    std::vector<std::byte> out;
    seal_envelope({9, 1, xdr_mode::class_info, payload}, out);
    const auto e = open_envelope(out);
    BOOST_TEST((std::vector<std::byte>(e.payload.begin(), e.payload.end()) == payload));
    BOOST_TEST((e.mode == xdr_mode::class_info));
}

BOOST_AUTO_TEST_SUITE_END()
