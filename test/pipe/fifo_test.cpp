// FIFOs for real: creation and mode, a consumer waiting for producers, producers that never
// interleave, the one-consumer rule, a vanished consumer, damaged input.
#include "support/scratch_dir.hpp"

#include <conveyor/error.hpp>
#include <conveyor/open.hpp>
#include <conveyor/pipe/fifo.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <fcntl.h>
#include <fstream>
#include <span>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

using namespace conveyor;
using namespace std::chrono_literals;
using conveyor::test::scratch_dir;

namespace {

std::vector<std::byte> tagged(std::size_t size, unsigned producer, unsigned sequence) {
    std::vector<std::byte> bytes(size, static_cast<std::byte>(producer * 16 + sequence % 16));
    bytes[0] = static_cast<std::byte>(producer);
    bytes[1] = static_cast<std::byte>(sequence);
    bytes[2] = static_cast<std::byte>(sequence >> 8);
    return bytes;
}

std::string text(const std::vector<std::byte>& bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

void write_raw(const std::string& path, const std::string& bytes) {
    const int fd = ::open(path.c_str(), O_WRONLY);
    BOOST_REQUIRE(fd >= 0);
    BOOST_REQUIRE(::write(fd, bytes.data(), bytes.size()) == ssize_t(bytes.size()));
    ::close(fd);
}

// A consumer's stream of four producers whose messages may be far above PIPE_BUF.
channel_options four_producers_of_up_to_1m() {
    channel_options options;
    options.max_message = 1 << 20;
    options.min_producers = 4;
    return options;
}

} // namespace

BOOST_AUTO_TEST_SUITE(fifo)

BOOST_AUTO_TEST_CASE(a_consumer_grows_the_fifo_buffer_to_hold_a_large_message) {
    scratch_dir dir;
    const auto where = endpoint::parse(dir.uri("f"));
    channel_options options;
    options.max_message = 256u << 10;
    auto in = open_receiver(where, options);
    const int fd = ::open(where.name().c_str(), O_WRONLY | O_NONBLOCK); // the consumer reads
    BOOST_REQUIRE(fd >= 0);
    // 256 KiB and a frame header need 512 KiB, within the default pipe-max-size of 1 MiB.
    BOOST_TEST(::fcntl(fd, F_GETPIPE_SZ) == 512 << 10);
    ::close(fd);
}

BOOST_AUTO_TEST_CASE(the_fifo_is_created_0600_and_stays_after_both_ends_close) {
    scratch_dir dir;
    const auto where = endpoint::parse(dir.uri("f"));
    {
        auto in = open_receiver(where);
        auto out = open_sender(where);
        out->send(tagged(10, 0, 0));
        out->close();
        std::vector<std::byte> message;
        BOOST_TEST((in->receive(message) == receive_status::message));
        BOOST_TEST((in->receive(message) == receive_status::end_of_stream));
    }
    struct stat st {};
    BOOST_REQUIRE(::stat(dir.path("f").c_str(), &st) == 0);
    BOOST_TEST(S_ISFIFO(st.st_mode));
    BOOST_TEST((st.st_mode & 0777) == 0600u);
}

BOOST_AUTO_TEST_CASE(a_mode_asked_for_is_the_fifos_mode_whatever_the_umask) {
    scratch_dir dir;
    channel_options options;
    options.mode = 0660;
    const mode_t old_umask = ::umask(0077);
    auto in = open_receiver(endpoint::parse(dir.uri("f")), options);
    ::umask(old_umask);
    struct stat st {};
    BOOST_REQUIRE(::stat(dir.path("f").c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0660u);
}

BOOST_AUTO_TEST_CASE(a_path_that_is_not_a_fifo_is_refused_and_left_alone) {
    scratch_dir dir;
    std::ofstream(dir.path("file")) << "keep me";
    std::error_code ec;
    std::string why;
    auto in = open_receiver(endpoint::parse(dir.uri("file")), {}, ec, &why);
    BOOST_TEST(!in);
    BOOST_TEST(why.find("is not a FIFO") != std::string::npos, why);
    std::string kept;
    std::getline(std::ifstream(dir.path("file")), kept);
    BOOST_TEST(kept == "keep me");
}

BOOST_AUTO_TEST_CASE(relative_and_empty_fifo_paths_are_rejected_with_the_reason) {
    std::error_code ec;
    std::string why;
    endpoint::parse("fifo://tmp/f", ec, &why);
    BOOST_TEST((ec == errc::invalid_endpoint));
    BOOST_TEST(why.find("absolute") != std::string::npos, why);
    endpoint::parse("fifo://", ec, &why);
    BOOST_TEST((ec == errc::invalid_endpoint));
    endpoint::parse("pipe:x", ec, &why);
    BOOST_TEST((ec == errc::invalid_endpoint));
}

BOOST_AUTO_TEST_CASE(a_consumer_with_no_writer_waits_then_takes_the_messages) {
    scratch_dir dir;
    const auto where = endpoint::parse(dir.uri("f"));
    auto in = open_receiver(where);
    std::vector<std::byte> message;
    BOOST_TEST((in->try_receive(message) == receive_status::empty));
    BOOST_TEST((in->receive_for(message, 30ms) == receive_status::empty));
    auto out = open_sender(where);
    out->send(tagged(5, 1, 1));
    BOOST_TEST((in->receive_for(message, 10s) == receive_status::message));
    BOOST_TEST((message == tagged(5, 1, 1)));
    out->close();
    BOOST_TEST((in->receive(message) == receive_status::end_of_stream));
}

BOOST_AUTO_TEST_CASE(a_producer_with_no_consumer_times_out_and_sends_once_one_opens) {
    scratch_dir dir;
    const auto where = endpoint::parse(dir.uri("f"));
    auto out = open_sender(where);
    BOOST_TEST(!out->try_send(tagged(5, 0, 0)));
    BOOST_TEST(!out->send_for(tagged(5, 0, 0), 30ms));
    auto in = open_receiver(where);
    BOOST_TEST(out->send_for(tagged(5, 0, 1), 10s));
    std::vector<std::byte> message;
    BOOST_TEST((in->receive(message) == receive_status::message));
    BOOST_TEST((message == tagged(5, 0, 1)));
    out->close(); // its hello went with the message that was sent, not the one that was not
    BOOST_TEST((in->receive_for(message, 10s) == receive_status::end_of_stream));
}

BOOST_AUTO_TEST_CASE(a_producer_that_sends_nothing_still_ends_the_consumers_stream) {
    scratch_dir dir;
    const auto where = endpoint::parse(dir.uri("f"));
    auto in = open_receiver(where);
    open_sender(where)->close();
    std::vector<std::byte> message;
    BOOST_TEST((in->receive_for(message, 10s) == receive_status::end_of_stream));
}

BOOST_AUTO_TEST_CASE(four_producers_of_frames_above_pipe_buf_never_interleave) {
    scratch_dir dir;
    const auto where = endpoint::parse(dir.uri("f"));
    const auto options = four_producers_of_up_to_1m();
    auto in = open_receiver(where, options);
    constexpr unsigned per_producer = 60;
    std::vector<std::thread> producers;
    for (unsigned p = 0; p < 4; ++p)
        producers.emplace_back([&, p] {
            auto out = open_sender(where, options);
            for (unsigned i = 0; i < per_producer; ++i)
                out->send(tagged(100 + (i * 7919 % 200000), p, i)); // up to 200 KB each
            out->close();
        });
    std::vector<unsigned> next(4, 0);
    std::vector<std::byte> message;
    while (in->receive(message) == receive_status::message) {
        const unsigned p = unsigned(message[0]);
        BOOST_REQUIRE(p < 4);
        const unsigned i = next[p]++;
        BOOST_REQUIRE((message == tagged(100 + (i * 7919 % 200000), p, i)));
    }
    for (auto& t : producers)
        t.join();
    BOOST_TEST(next == std::vector<unsigned>(4, per_producer), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(producers_sending_batches_of_small_and_large_frames_never_interleave) {
    scratch_dir dir;
    const auto where = endpoint::parse(dir.uri("f"));
    const auto options = four_producers_of_up_to_1m();
    auto in = open_receiver(where, options);
    // Stretches of 50 small messages (their batches go out under the shared lock) take turns
    // with stretches where every third is above PIPE_BUF (the exclusive lock).
    const auto size_of = [](unsigned i) -> std::size_t {
        const bool large = (i / 50) % 2 == 1 && i % 3 == 0;
        return large ? 4097 + (i * 7919 % 30000) : 3 + (i * 31 % 300);
    };
    constexpr unsigned per_producer = 400;
    // Boost.Test's assertions belong to the main thread: each producer counts its batches
    // that went out short in an element of its own.
    std::vector<unsigned> short_batches(4, 0);
    std::vector<std::thread> producers;
    for (unsigned p = 0; p < 4; ++p)
        producers.emplace_back([&, p] {
            auto out = open_sender(where, options);
            std::vector<std::vector<std::byte>> messages;
            for (unsigned i = 0; i < per_producer; ++i)
                messages.push_back(tagged(size_of(i), p, i));
            const std::vector<bytes_view> views(messages.begin(), messages.end());
            const std::size_t lengths[] = {10, 3, 17, 1, 9, 40}; // batch edges fall anywhere
            for (std::size_t sent = 0, k = 0; sent < views.size(); ++k) {
                const std::size_t n = std::min(lengths[k % 6], views.size() - sent);
                const auto batch = std::span(views).subspan(sent, n);
                if (out->send_batch(batch, forever) != batch.size()) {
                    ++short_batches[p];
                    break;
                }
                sent += batch.size();
            }
            out->close();
        });
    std::vector<unsigned> next(4, 0);
    message_batch batch;
    while (in->receive_batch(batch, 64, forever) == receive_status::message)
        for (std::size_t k = 0; k < batch.size(); ++k) {
            const std::vector<std::byte> message(batch[k].begin(), batch[k].end());
            BOOST_REQUIRE(message.size() >= 3u);
            const unsigned p = unsigned(message[0]);
            BOOST_REQUIRE(p < 4);
            const unsigned i = next[p]++;
            BOOST_REQUIRE((message == tagged(size_of(i), p, i)));
        }
    for (auto& t : producers)
        t.join();
    BOOST_TEST(short_batches == std::vector<unsigned>(4, 0), boost::test_tools::per_element());
    BOOST_TEST(next == std::vector<unsigned>(4, per_producer), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_second_consumer_is_refused_while_the_first_reads) {
    scratch_dir dir;
    const auto where = endpoint::parse(dir.uri("f"));
    auto first = open_receiver(where);
    std::error_code ec;
    std::string why;
    auto second = open_receiver(where, {}, ec, &why);
    BOOST_TEST(!second);
    BOOST_TEST((ec == errc::too_many_attached));
    BOOST_TEST(why.find("another consumer is reading") != std::string::npos, why);
    first.reset();
    BOOST_TEST(open_receiver(where));
}

BOOST_AUTO_TEST_CASE(end_of_stream_waits_for_the_producers_the_consumer_expects) {
    scratch_dir dir;
    const auto where = endpoint::parse(dir.uri("f"));
    channel_options options;
    options.min_producers = 2;
    auto in = open_receiver(where, options);
    std::vector<std::byte> message;
    {
        auto first = open_sender(where);
        first->send(tagged(8, 1, 0));
    } // closed: one producer came and went
    BOOST_TEST((in->receive(message) == receive_status::message));
    BOOST_TEST((in->receive_for(message, 30ms) == receive_status::empty));
    {
        auto second = open_sender(where);
        second->send(tagged(8, 2, 0));
    }
    BOOST_TEST((in->receive(message) == receive_status::message));
    BOOST_TEST((message == tagged(8, 2, 0)));
    BOOST_TEST((in->receive(message) == receive_status::end_of_stream));
}

BOOST_AUTO_TEST_CASE(lines_mode_refuses_to_wait_for_more_than_one_producer) {
    scratch_dir dir;
    channel_options options;
    options.lines = true;
    options.min_producers = 2;
    std::error_code ec;
    std::string why;
    BOOST_TEST(!pipe::open_fifo_receiver(endpoint::parse(dir.uri("f")), options, ec, &why));
    BOOST_TEST((ec == errc::invalid_argument));
    BOOST_TEST(why.find("cannot count producers") != std::string::npos, why);
}

BOOST_AUTO_TEST_CASE(a_producer_whose_consumer_went_away_gets_peer_gone) {
    scratch_dir dir;
    const auto where = endpoint::parse(dir.uri("f"));
    auto in = open_receiver(where);
    auto out = open_sender(where);
    out->send(tagged(8, 0, 0));
    in.reset();
    std::error_code ec;
    out->send(tagged(8, 0, 1), ec);
    BOOST_TEST((ec == errc::peer_gone));
    try {
        out->send(tagged(8, 0, 2));
        BOOST_FAIL("no error");
    } catch (const conveyor::error& e) {
        BOOST_TEST(std::string(e.what()).find(where.uri()) != std::string::npos, e.what());
    }
}

BOOST_AUTO_TEST_CASE(plain_text_written_by_hand_is_reported_as_corrupt_not_delivered) {
    scratch_dir dir;
    const auto where = endpoint::parse(dir.uri("f"));
    auto in = open_receiver(where);
    write_raw(dir.path("f"), "hello\n");
    std::vector<std::byte> message;
    std::error_code ec;
    BOOST_TEST((in->receive(message, ec) == receive_status::empty));
    BOOST_TEST((ec == errc::corrupt_data));
}

BOOST_AUTO_TEST_CASE(lines_mode_reads_what_a_plain_writer_wrote) {
    scratch_dir dir;
    const auto where = endpoint::parse(dir.uri("f"));
    channel_options options;
    options.lines = true;
    auto in = open_receiver(where, options);
    write_raw(dir.path("f"), "hello\nworld\n");
    std::vector<std::byte> message;
    BOOST_TEST((in->receive(message) == receive_status::message));
    BOOST_TEST(text(message) == "hello");
    BOOST_TEST((in->receive(message) == receive_status::message));
    BOOST_TEST(text(message) == "world");
    BOOST_TEST((in->receive(message) == receive_status::end_of_stream));
}

BOOST_AUTO_TEST_SUITE_END()
