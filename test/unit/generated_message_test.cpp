#include <conveyor/generated_message.hpp>

#include <boost/test/unit_test.hpp>

using namespace conveyor;

namespace {

std::vector<std::byte> message(const message_generator& make, std::uint64_t sequence) {
    std::vector<std::byte> bytes(make.size());
    make.make(sequence, bytes);
    return bytes;
}

} // namespace

BOOST_AUTO_TEST_SUITE(generated_message)

BOOST_AUTO_TEST_CASE(a_whole_stream_verifies_clean) {
    const message_generator a(1, 64, 100), b(2, 200, 50);
    stream_verifier verify;
    for (std::uint64_t i = 0; i < 100; ++i) {
        verify.observe(message(a, i));
        if (i < 50) verify.observe(message(b, i));
    }
    const auto s = verify.result();
    BOOST_TEST(s.ok());
    BOOST_TEST(s.messages == 150u);
    BOOST_TEST(s.producers == 2u);
    BOOST_TEST(stream_verifier::describe(s) ==
               "received 150 messages from 2 producers: 0 lost, 0 duplicated, 0 corrupt");
}

BOOST_AUTO_TEST_CASE(lost_duplicated_reordered_and_corrupt_messages_are_counted) {
    const message_generator make(7, 48, 10);
    stream_verifier verify;
    verify.observe(message(make, 0));
    verify.observe(message(make, 2)); // 1 is never sent: lost
    verify.observe(message(make, 2)); // duplicated
    verify.observe(message(make, 3));
    auto flipped = message(make, 4);
    flipped[40] ^= std::byte{1}; // one bit of payload
    verify.observe(flipped);
    verify.observe(message(make, 6));
    verify.observe(message(make, 5)); // out of order
    auto truncated = message(make, 7);
    truncated.resize(20);
    verify.observe(truncated);
    const auto s = verify.result();
    BOOST_TEST(s.duplicated == 1u);
    BOOST_TEST(s.corrupt == 2u);
    BOOST_TEST(s.out_of_order == 1u);
    BOOST_TEST(s.lost == 5u); // 1, 4 (corrupt), 7 (corrupt), 8, 9
    BOOST_TEST(!s.ok());
}

BOOST_AUTO_TEST_CASE(a_header_only_message_verifies) {
    const message_generator make(9, generated_header_size, 1);
    stream_verifier verify;
    verify.observe(message(make, 0));
    BOOST_TEST(verify.result().ok());
}

BOOST_AUTO_TEST_SUITE_END()
