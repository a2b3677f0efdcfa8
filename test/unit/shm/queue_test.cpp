// The shared-memory queue's semantics: order, sizes, full and empty, timeouts, close,
// wrap-around, end-of-stream rules, dead producers.
#include "support/temporary_names.hpp"

#include <conveyor/error.hpp>
#include <conveyor/shm/queue.hpp>
#include <conveyor/shm/segment.hpp>

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace conveyor;
using namespace std::chrono_literals;
using conveyor::test::scratch_segment;

namespace {

std::vector<std::byte> pattern(std::size_t size, unsigned seed) {
    std::vector<std::byte> bytes(size);
    for (std::size_t i = 0; i < size; ++i)
        bytes[i] = static_cast<std::byte>(seed * 31 + i * 7);
    return bytes;
}

channel_options small(std::size_t capacity, std::size_t max_message) {
    channel_options options;
    options.capacity = capacity;
    options.max_message = max_message;
    return options;
}

struct queue_pair {
    explicit queue_pair(const char* purpose, const channel_options& options = {})
        : segment(purpose), where(endpoint::parse(segment.uri())), producer(where, options),
          consumer(where, options) {}
    scratch_segment segment;
    endpoint where;
    shm::queue_sender producer;
    shm::queue_receiver consumer;
};

} // namespace

BOOST_AUTO_TEST_SUITE(shm_queue)

BOOST_AUTO_TEST_CASE(messages_arrive_in_order_with_their_exact_bytes) {
    queue_pair q("order", small(1 << 20, 4096));
    const std::vector<std::size_t> sizes{0, 1, 7, 8, 9, 63, 64, 65, 1000, 4095, 4096, 0};
    for (unsigned i = 0; i < sizes.size(); ++i)
        q.producer.send(pattern(sizes[i], i));
    std::vector<std::byte> got;
    for (unsigned i = 0; i < sizes.size(); ++i) {
        BOOST_REQUIRE((q.consumer.try_receive(got) == receive_status::message));
        BOOST_TEST((got == pattern(sizes[i], i)), "message " << i);
    }
    BOOST_TEST((q.consumer.try_receive(got) == receive_status::empty));
}

BOOST_AUTO_TEST_CASE(an_oversized_message_is_refused_and_nothing_is_queued) {
    queue_pair q("oversized", small(1 << 16, 1000));
    std::error_code ec;
    BOOST_TEST(!q.producer.try_send(pattern(1001, 1), ec));
    BOOST_TEST((ec == errc::message_too_large));
    BOOST_CHECK_THROW(q.producer.send(pattern(5000, 1)), error);
    std::vector<std::byte> got;
    BOOST_TEST((q.consumer.try_receive(got) == receive_status::empty));
    BOOST_TEST(q.producer.max_message() == 1000u);
}

BOOST_AUTO_TEST_CASE(a_full_queue_refuses_try_send_and_times_out_send_for) {
    queue_pair q("full", small(1024, 100));
    const auto m = pattern(100, 3); // 112-byte records: 9 fit in 1024
    int sent = 0;
    while (q.producer.try_send(m))
        ++sent;
    BOOST_TEST(sent == 9);
    const auto before = std::chrono::steady_clock::now();
    BOOST_TEST(!q.producer.send_for(m, 50ms));
    BOOST_TEST((std::chrono::steady_clock::now() - before >= 50ms));
    std::vector<std::byte> got;
    BOOST_TEST((q.consumer.receive(got) == receive_status::message));
    BOOST_TEST(q.producer.try_send(m));
}

BOOST_AUTO_TEST_CASE(an_empty_queue_times_out_receive_for_while_a_producer_is_attached) {
    queue_pair q("empty");
    std::vector<std::byte> got;
    BOOST_TEST((q.consumer.try_receive(got) == receive_status::empty));
    const auto before = std::chrono::steady_clock::now();
    BOOST_TEST((q.consumer.receive_for(got, 50ms) == receive_status::empty));
    BOOST_TEST((std::chrono::steady_clock::now() - before >= 50ms));
}

BOOST_AUTO_TEST_CASE(a_blocked_sender_goes_on_when_space_frees) {
    queue_pair q("blocked", small(256, 100));
    const auto m = pattern(100, 5);
    while (q.producer.try_send(m)) {
    }
    std::thread taker([&] {
        std::vector<std::byte> got;
        std::this_thread::sleep_for(20ms); // let the sender block first
        q.consumer.receive(got);
    });
    q.producer.send(m); // returns only once the taker made room
    taker.join();
    BOOST_TEST(shm::inspect_segment(q.segment.name()).depth_messages == 2u);
}

BOOST_AUTO_TEST_CASE(records_wrap_around_the_ring_intact) {
    queue_pair q("wrap", small(512, 200));
    std::vector<std::byte> got;
    unsigned sent = 0, received = 0;
    for (int round = 0; round < 2000; ++round) {
        const std::size_t size = (round * 37) % 201;
        while (!q.producer.try_send(pattern(size, sent))) {
            BOOST_REQUIRE((q.consumer.try_receive(got) == receive_status::message));
            BOOST_REQUIRE((got == pattern(got.size(), received)));
            ++received;
        }
        ++sent;
    }
    while (q.consumer.try_receive(got) == receive_status::message) {
        BOOST_REQUIRE((got == pattern(got.size(), received)));
        ++received;
    }
    BOOST_TEST(received == sent);
}

BOOST_AUTO_TEST_CASE(a_message_as_large_as_the_capacity_allows_gets_through) {
    queue_pair q("largest", small(4096, 4096 - 8));
    for (unsigned i = 0; i < 5; ++i) {
        q.producer.send(pattern(4096 - 8, i));
        std::vector<std::byte> got;
        BOOST_REQUIRE((q.consumer.receive(got) == receive_status::message));
        BOOST_TEST((got == pattern(4096 - 8, i)));
    }
}

BOOST_AUTO_TEST_CASE(close_ends_the_stream_after_the_queue_drains) {
    queue_pair q("close");
    q.producer.send(pattern(10, 1));
    q.producer.close();
    q.producer.close(); // idempotent
    std::error_code ec;
    BOOST_TEST(!q.producer.try_send(pattern(1, 1), ec));
    BOOST_TEST((ec == errc::closed));
    std::vector<std::byte> got;
    BOOST_TEST((q.consumer.receive(got) == receive_status::message));
    BOOST_TEST((q.consumer.receive(got) == receive_status::end_of_stream));
}

BOOST_AUTO_TEST_CASE(a_consumer_of_an_idle_queue_waits_for_the_next_stream) {
    scratch_segment s("idle");
    const auto where = endpoint::parse(s.uri());
    { shm::queue_sender earlier(where); } // a whole stream came and went
    shm::queue_receiver consumer(where);
    std::vector<std::byte> got;
    BOOST_TEST((consumer.receive_for(got, 20ms) == receive_status::empty));
    shm::queue_sender later(where); // a producer after the end starts a new stream
    later.send(pattern(3, 3));
    later.close();
    BOOST_TEST((consumer.receive(got) == receive_status::message));
    BOOST_TEST((consumer.receive(got) == receive_status::end_of_stream));
}

BOOST_AUTO_TEST_CASE(leftover_messages_are_delivered_before_the_end) {
    scratch_segment s("leftover");
    const auto where = endpoint::parse(s.uri());
    {
        shm::queue_sender gone(where);
        for (unsigned i = 0; i < 3; ++i)
            gone.send(pattern(5, i));
    }
    shm::queue_receiver consumer(where);
    std::vector<std::byte> got;
    for (unsigned i = 0; i < 3; ++i) {
        BOOST_REQUIRE((consumer.receive(got) == receive_status::message));
        BOOST_TEST((got == pattern(5, i)));
    }
    BOOST_TEST((consumer.receive(got) == receive_status::end_of_stream));
}

BOOST_AUTO_TEST_CASE(the_end_waits_for_as_many_producers_as_the_consumer_expects) {
    scratch_segment s("expected");
    const auto where = endpoint::parse(s.uri());
    channel_options two;
    two.min_producers = 2;
    shm::queue_receiver consumer(where, two);
    std::vector<std::byte> got;
    { shm::queue_sender first(where); }
    BOOST_TEST((consumer.receive_for(got, 20ms) == receive_status::empty));
    { shm::queue_sender second(where); }
    BOOST_TEST((consumer.receive(got) == receive_status::end_of_stream));
}

BOOST_AUTO_TEST_CASE(a_producer_that_dies_counts_as_closed) {
    scratch_segment s("dead");
    const auto where = endpoint::parse(s.uri());
    shm::queue_receiver consumer(where);
    const pid_t child = ::fork();
    if (child == 0) {
        shm::queue_sender producer(where);
        producer.send(pattern(8, 8));
        ::raise(SIGKILL); // no close, no destructor
    }
    std::vector<std::byte> got;
    BOOST_TEST((consumer.receive(got) == receive_status::message));
    BOOST_TEST((got == pattern(8, 8)));
    // The child is a zombie until reaped below: it must already count as gone.
    BOOST_TEST((consumer.receive_for(got, 10s) == receive_status::end_of_stream));
    ::waitpid(child, nullptr, 0);
}

BOOST_AUTO_TEST_SUITE_END()
