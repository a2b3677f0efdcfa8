// Senders and receivers on a real pipe: delivery, end of stream, waits, a vanished reader,
// and one io_context serving several pipes through the async calls.
#include <conveyor/error.hpp>
#include <conveyor/pipe/stream.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <csignal>
#include <thread>
#include <unistd.h>

using namespace conveyor;
using namespace conveyor::pipe;
using namespace std::chrono_literals;

namespace {

struct pipe_pair {
    explicit pipe_pair(const stream_options& options = {}) {
        int fds[2];
        BOOST_REQUIRE(::pipe(fds) == 0);
        in = std::make_unique<stream_receiver>(fds[0], where, options);
        out = std::make_unique<stream_sender>(fds[1], where, options);
    }
    endpoint where = endpoint::parse("pipe:");
    std::unique_ptr<stream_receiver> in;
    std::unique_ptr<stream_sender> out;
};

std::vector<std::byte> numbered(std::size_t size, unsigned n) {
    std::vector<std::byte> bytes(size);
    for (std::size_t i = 0; i < size; ++i)
        bytes[i] = static_cast<std::byte>(n + i);
    return bytes;
}

} // namespace

BOOST_AUTO_TEST_SUITE(pipe_stream)

BOOST_AUTO_TEST_CASE(messages_larger_than_the_pipe_arrive_whole_then_end_of_stream) {
    pipe_pair p;
    std::thread writer([&] {
        for (unsigned i = 0; i < 50; ++i)
            p.out->send(numbered(i * 1000, i)); // up to 49 000 bytes: many partial writes
        p.out->close();
    });
    std::vector<std::byte> message;
    for (unsigned i = 0; i < 50; ++i) {
        BOOST_REQUIRE(p.in->receive(message) == receive_status::message);
        BOOST_REQUIRE(message == numbered(i * 1000, i));
    }
    BOOST_TEST((p.in->receive(message) == receive_status::end_of_stream));
    writer.join();
}

BOOST_AUTO_TEST_CASE(a_batch_keeps_the_messages_before_a_corrupt_frame_and_the_next_call_fails) {
    int fds[2];
    BOOST_REQUIRE(::pipe(fds) == 0);
    stream_receiver in(fds[0], endpoint::parse("pipe:"), {.description = "pipe: (test)"});
    std::vector<std::byte> bytes;
    std::error_code ec;
    for (unsigned i = 0; i < 3; ++i)
        append_frame(bytes, numbered(10, i), framing::frames, ec);
    const std::string garbage = "not a frame at all";
    for (char c : garbage)
        bytes.push_back(static_cast<std::byte>(c));
    BOOST_REQUIRE(::write(fds[1], bytes.data(), bytes.size()) == ssize_t(bytes.size()));
    ::close(fds[1]);
    message_batch batch;
    BOOST_TEST((in.receive_batch(batch, 16, 5s) == receive_status::message));
    BOOST_TEST(batch.size() == 3u);
    try {
        in.receive_batch(batch, 16, 5s);
        BOOST_FAIL("no error");
    } catch (const conveyor::error& e) {
        BOOST_TEST((e.code() == errc::corrupt_data));
        BOOST_TEST(std::string(e.what()) == "pipe: (test): corrupt data");
    }
}

BOOST_AUTO_TEST_CASE(an_empty_pipe_gives_empty_to_try_receive_and_receive_for) {
    pipe_pair p;
    std::vector<std::byte> message;
    BOOST_TEST((p.in->try_receive(message) == receive_status::empty));
    BOOST_TEST((p.in->receive_for(message, 20ms) == receive_status::empty));
    p.out->send(numbered(10, 1));
    BOOST_TEST((p.in->receive_for(message, 10s) == receive_status::message));
}

BOOST_AUTO_TEST_CASE(a_full_pipe_makes_try_send_return_false_without_writing_part_of_a_frame) {
    pipe_pair p;
    const auto big = numbered(4000, 3);
    std::size_t sent = 0;
    while (p.out->try_send(big))
        ++sent;
    BOOST_TEST(!p.out->send_for(big, 10ms));
    p.out->close();
    std::vector<std::byte> message;
    std::size_t received = 0;
    while (p.in->receive(message) == receive_status::message) {
        BOOST_REQUIRE(message == big);
        ++received;
    }
    BOOST_TEST(received == sent);
}

BOOST_AUTO_TEST_CASE(a_sender_whose_reader_closed_gets_peer_gone_and_no_sigpipe) {
    pipe_pair p;
    p.out->send(numbered(10, 0));
    p.in.reset();
    std::error_code ec;
    p.out->send(numbered(10, 1), ec);
    BOOST_TEST((ec == errc::peer_gone));
    BOOST_CHECK_THROW(p.out->send(numbered(10, 2)), conveyor::error);
    sigset_t pending;
    sigpending(&pending);
    BOOST_TEST(sigismember(&pending, SIGPIPE) == 0);
}

BOOST_AUTO_TEST_CASE(a_batch_arrives_whole_and_in_order) {
    stream_options options;
    options.max_message = 1 << 20;
    pipe_pair p(options);
    // Empty, small, above PIPE_BUF and above the pipe's 64 KiB: rounds of shared-lock sized
    // writes, whole-round writes and writes cut short by a full pipe.
    std::vector<std::vector<std::byte>> messages;
    for (unsigned i = 0; i < 300; ++i)
        messages.push_back(numbered(i % 50 == 49 ? 100000 + i : i * 37 % 9000, i));
    std::vector<bytes_view> views(messages.begin(), messages.end());
    std::size_t sent = 0;
    std::error_code send_ec;
    std::thread writer([&] {
        sent = p.out->send_batch(views, forever, send_ec);
        p.out->close();
    });
    message_batch batch;
    std::size_t received = 0;
    // No time limit: the writer ends the stream, however long the machine takes.
    while (p.in->receive_batch(batch, 50, forever) == receive_status::message)
        for (std::size_t i = 0; i < batch.size(); ++i, ++received) {
            BOOST_REQUIRE(received < messages.size());
            BOOST_REQUIRE(std::ranges::equal(batch[i], messages[received]));
        }
    writer.join();
    BOOST_TEST(!send_ec);
    BOOST_TEST(sent == messages.size());
    BOOST_TEST(received == messages.size());
}

BOOST_AUTO_TEST_CASE(a_batch_to_a_vanished_reader_reports_peer_gone_counting_whole_frames) {
    int fds[2];
    BOOST_REQUIRE(::pipe(fds) == 0);
    stream_sender out(fds[1], endpoint::parse("pipe:"));
    constexpr std::size_t size = 5000; // frames above PIPE_BUF: written in pieces
    constexpr std::size_t frame = frame_header_size + size;
    std::vector<std::vector<std::byte>> messages;
    for (unsigned i = 0; i < 40; ++i)
        messages.push_back(numbered(size, i));
    std::vector<bytes_view> views(messages.begin(), messages.end());
    std::size_t sent = 0;
    std::error_code ec;
    std::thread writer([&] { sent = out.send_batch(views, forever, ec); });
    // Read three frames and part of the fourth, then go away in the middle of the batch.
    const std::size_t wanted = 3 * frame + 100;
    std::vector<std::byte> bytes(wanted);
    for (std::size_t got = 0; got < wanted;) {
        const ssize_t n = ::read(fds[0], bytes.data() + got, wanted - got);
        BOOST_REQUIRE(n > 0);
        got += static_cast<std::size_t>(n);
    }
    ::close(fds[0]);
    writer.join();
    BOOST_TEST((ec == errc::peer_gone));
    // Those read were written whole; beyond them at most a pipe's worth (64 KiB) was taken.
    BOOST_TEST(sent >= 3u);
    BOOST_TEST(sent <= (wanted + (64u << 10)) / frame);
    frame_decoder decoder(framing::frames, size);
    auto room = decoder.prepare(bytes.size());
    std::copy(bytes.begin(), bytes.end(), room.begin());
    decoder.commit(bytes.size());
    std::vector<std::byte> message;
    std::error_code decode_ec;
    for (unsigned i = 0; i < 3; ++i) {
        BOOST_REQUIRE(decoder.next(message, decode_ec));
        BOOST_TEST((message == messages[i]));
    }
    sigset_t pending;
    sigpending(&pending);
    BOOST_TEST(sigismember(&pending, SIGPIPE) == 0);
}

BOOST_AUTO_TEST_CASE(a_batch_after_the_reader_went_away_sends_none_and_reports_peer_gone) {
    pipe_pair p;
    p.in.reset();
    const auto message = numbered(10, 1);
    const std::vector<bytes_view> views(3, bytes_view(message));
    std::error_code ec;
    BOOST_TEST(p.out->send_batch(views, forever, ec) == 0u);
    BOOST_TEST((ec == errc::peer_gone));
    sigset_t pending;
    sigpending(&pending);
    BOOST_TEST(sigismember(&pending, SIGPIPE) == 0);
}

BOOST_AUTO_TEST_CASE(a_batch_stops_before_a_message_too_large_and_counts_the_ones_before) {
    stream_options options;
    options.max_message = 100;
    pipe_pair p(options);
    const auto small = numbered(10, 1);
    const auto large = numbered(101, 2);
    const std::vector<bytes_view> views{small, small, large, small};
    std::error_code ec;
    BOOST_TEST(p.out->send_batch(views, forever, ec) == 2u);
    BOOST_TEST((ec == errc::message_too_large));
    p.out->close();
    std::vector<std::byte> message;
    for (int i = 0; i < 2; ++i) {
        BOOST_REQUIRE(p.in->receive(message) == receive_status::message);
        BOOST_TEST((message == small));
    }
    BOOST_TEST((p.in->receive(message) == receive_status::end_of_stream));
}

BOOST_AUTO_TEST_CASE(a_batch_into_a_full_pipe_with_no_wait_sends_whole_frames_only) {
    pipe_pair p;
    const auto message = numbered(1000, 4);
    const std::vector<bytes_view> views(200, bytes_view(message)); // 200 KB: more than fits
    std::error_code ec;
    const std::size_t sent = p.out->send_batch(views, no_wait, ec);
    BOOST_TEST(!ec);
    BOOST_TEST(sent > 0u);
    BOOST_TEST(sent < views.size());
    p.out->close();
    std::vector<std::byte> got;
    std::size_t received = 0;
    while (p.in->receive(got) == receive_status::message) {
        BOOST_REQUIRE(got == message);
        ++received;
    }
    BOOST_TEST(received == sent);
}

BOOST_AUTO_TEST_CASE(send_after_close_fails_with_closed) {
    pipe_pair p;
    p.out->close();
    std::error_code ec;
    p.out->send(numbered(1, 0), ec);
    BOOST_TEST((ec == errc::closed));
}

BOOST_AUTO_TEST_CASE(one_thread_serves_two_pipes_through_the_async_calls) {
    boost::asio::io_context io;
    stream_options options;
    options.io = &io;
    options.max_message = 1 << 20;
    pipe_pair a(options), b(options);
    std::vector<std::byte> message_a, message_b;
    std::vector<std::size_t> got_a, got_b;
    std::function<void(std::error_code, receive_status)> on_a, on_b;
    on_a = [&](std::error_code ec, receive_status s) {
        BOOST_REQUIRE(!ec);
        if (s != receive_status::message) return;
        got_a.push_back(message_a.size());
        a.in->async_receive(message_a, on_a);
    };
    on_b = [&](std::error_code ec, receive_status s) {
        BOOST_REQUIRE(!ec);
        if (s != receive_status::message) return;
        got_b.push_back(message_b.size());
        b.in->async_receive(message_b, on_b);
    };
    a.in->async_receive(message_a, on_a);
    b.in->async_receive(message_b, on_b);
    // Each sender sends three messages, one after another, then closes. Each step holds the
    // next through a pointer to itself, a cycle the test breaks once the io_context is done.
    auto chain = [](stream_sender& out, std::size_t base) {
        auto sizes = std::make_shared<std::vector<std::size_t>>(
            std::vector<std::size_t>{base, base + 1, base + 2});
        auto next = std::make_shared<std::function<void(std::error_code)>>();
        *next = [&out, sizes, next](std::error_code ec) {
            BOOST_REQUIRE(!ec);
            if (sizes->empty()) return out.close();
            const auto size = sizes->front();
            sizes->erase(sizes->begin());
            out.async_send(std::vector<std::byte>(size), *next);
        };
        (*next)({});
        return next;
    };
    const auto chain_a = chain(*a.out, 10);
    const auto chain_b = chain(*b.out, 70000);
    io.run();
    *chain_a = nullptr;
    *chain_b = nullptr;
    BOOST_TEST(got_a == (std::vector<std::size_t>{10, 11, 12}), boost::test_tools::per_element());
    BOOST_TEST(got_b == (std::vector<std::size_t>{70000, 70001, 70002}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
