// Frames and lines: what goes in comes out whole; damaged frames are reported.
#include <conveyor/error.hpp>
#include <conveyor/pipe/framing.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstring>

using namespace conveyor;
using namespace conveyor::pipe;

namespace {

std::vector<std::byte> bytes_of(const std::string& text) {
    const auto* p = reinterpret_cast<const std::byte*>(text.data());
    return {p, p + text.size()};
}

void feed(frame_decoder& decoder, const std::vector<std::byte>& bytes) {
    auto room = decoder.prepare(bytes.size());
    std::copy(bytes.begin(), bytes.end(), room.begin());
    decoder.commit(bytes.size());
}

} // namespace

BOOST_AUTO_TEST_SUITE(pipe_framing)

BOOST_AUTO_TEST_CASE(frames_fed_one_byte_at_a_time_come_out_whole_and_in_order) {
    std::vector<std::byte> stream;
    std::error_code ec;
    append_hello(stream, framing::frames);
    for (std::size_t size : {0u, 1u, 100u, 5000u})
        append_frame(stream, std::vector<std::byte>(size, std::byte(size)), framing::frames, ec);
    frame_decoder decoder(framing::frames, 8192);
    std::vector<std::byte> message;
    std::vector<std::size_t> sizes;
    for (std::byte b : stream) {
        feed(decoder, {b});
        while (decoder.next(message, ec))
            sizes.push_back(message.size());
        BOOST_REQUIRE(!ec);
    }
    BOOST_TEST(sizes == (std::vector<std::size_t>{0, 1, 100, 5000}),
               boost::test_tools::per_element());
    BOOST_TEST(decoder.producers_seen() == 1u);
    BOOST_TEST(!decoder.finish(message, ec));
    BOOST_TEST(!ec);
}

BOOST_AUTO_TEST_CASE(a_frame_with_a_wrong_checksum_is_reported_not_delivered) {
    std::vector<std::byte> stream;
    std::error_code ec;
    append_frame(stream, bytes_of("hello"), framing::frames, ec);
    stream.back() ^= std::byte{1};
    frame_decoder decoder(framing::frames, 64);
    feed(decoder, stream);
    std::vector<std::byte> message;
    BOOST_TEST(!decoder.next(message, ec));
    BOOST_TEST((ec == errc::corrupt_data));
}

BOOST_AUTO_TEST_CASE(text_that_is_not_frames_is_reported_as_corrupt) {
    frame_decoder decoder(framing::frames, 64);
    feed(decoder, bytes_of("hello, world\n"));
    std::vector<std::byte> message;
    std::error_code ec;
    BOOST_TEST(!decoder.next(message, ec));
    BOOST_TEST((ec == errc::corrupt_data));
}

BOOST_AUTO_TEST_CASE(a_frame_cut_short_by_the_end_of_input_is_reported) {
    std::vector<std::byte> stream;
    std::error_code ec;
    append_frame(stream, bytes_of("a whole message"), framing::frames, ec);
    stream.resize(stream.size() - 3);
    frame_decoder decoder(framing::frames, 64);
    feed(decoder, stream);
    std::vector<std::byte> message;
    BOOST_TEST(!decoder.next(message, ec));
    BOOST_TEST(!ec);
    BOOST_TEST(!decoder.finish(message, ec));
    BOOST_TEST((ec == errc::corrupt_data));
}

BOOST_AUTO_TEST_CASE(a_length_above_max_message_is_refused_before_its_payload_arrives) {
    std::vector<std::byte> stream;
    std::error_code ec;
    append_frame(stream, std::vector<std::byte>(100), framing::frames, ec);
    stream.resize(frame_header_size);
    frame_decoder decoder(framing::frames, 64);
    feed(decoder, stream);
    std::vector<std::byte> message;
    BOOST_TEST(!decoder.next(message, ec));
    BOOST_TEST((ec == errc::message_too_large));
}

BOOST_AUTO_TEST_CASE(lines_mode_splits_on_newlines_and_keeps_a_last_line_without_one) {
    frame_decoder decoder(framing::lines, 64);
    feed(decoder, bytes_of("one\n\nthree\nlast"));
    std::vector<std::byte> message;
    std::error_code ec;
    std::vector<std::string> got;
    while (decoder.next(message, ec))
        got.emplace_back(reinterpret_cast<const char*>(message.data()), message.size());
    BOOST_TEST(decoder.finish(message, ec));
    got.emplace_back(reinterpret_cast<const char*>(message.data()), message.size());
    BOOST_TEST(got == (std::vector<std::string>{"one", "", "three", "last"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(lines_mode_refuses_a_message_containing_a_newline) {
    std::vector<std::byte> stream;
    std::error_code ec;
    append_frame(stream, bytes_of("two\nlines"), framing::lines, ec);
    BOOST_TEST((ec == errc::invalid_argument));
    BOOST_TEST(stream.empty());
}

BOOST_AUTO_TEST_SUITE_END()
