// The shared-memory queue's semantics: order, sizes, full and empty, timeouts, close,
// wrap-around, end-of-stream rules, dead producers.
#include "shm/mapping.hpp"
#include "support/child_process.hpp"
#include "support/temporary_names.hpp"

#include <conveyor/error.hpp>
#include <conveyor/shm/queue.hpp>
#include <conveyor/shm/segment.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <poll.h>
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
    const auto m = pattern(96, 3); // 112-byte records: 9 fit in 1024
    int sent = 0;
    while (q.producer.try_send(m))
        ++sent;
    BOOST_TEST(sent == 9);
    BOOST_TEST(!q.producer.send_for(m, 50ms));
    BOOST_TEST(shm::inspect_segment(q.segment.name()).depth_messages == 9u);
    std::vector<std::byte> got;
    BOOST_TEST((q.consumer.receive(got) == receive_status::message));
    BOOST_TEST(q.producer.try_send(m));
}

BOOST_AUTO_TEST_CASE(an_empty_queue_times_out_receive_for_while_a_producer_is_attached) {
    queue_pair q("empty");
    std::vector<std::byte> got;
    BOOST_TEST((q.consumer.try_receive(got) == receive_status::empty));
    BOOST_TEST((q.consumer.receive_for(got, 50ms) == receive_status::empty));
}

BOOST_AUTO_TEST_CASE(a_blocked_sender_goes_on_when_space_frees) {
    queue_pair q("blocked", small(256, 100));
    const std::vector<std::vector<std::byte>> m{pattern(100, 1), pattern(100, 2), pattern(100, 3)};
    BOOST_REQUIRE(q.producer.try_send(m[0])); // 112-byte records: two fill the ring
    BOOST_REQUIRE(q.producer.try_send(m[1]));
    BOOST_REQUIRE(!q.producer.try_send(m[2]));
    std::atomic<bool> sent{false};
    std::thread sender([&] {
        q.producer.send(m[2]);
        sent = true;
    });
    // Blocked for sure once it sleeps on the queue's not-full event; a send that wrongly
    // returned would end the wait too, and fail below.
    std::error_code ec;
    std::string why;
    const auto segment = shm::detail::mapping::open(
        q.segment.name(), shm::detail::mapping::access::read_only, ec, why);
    BOOST_REQUIRE_MESSAGE(segment, why);
    const auto& not_full = segment->control().not_full;
    BOOST_TEST(test::eventually([&] { return not_full.sleepers.load() != 0 || sent; }));
    BOOST_TEST(!sent);
    BOOST_TEST(shm::inspect_segment(q.segment.name()).depth_messages == 2u);

    std::vector<std::byte> got;
    BOOST_TEST((q.consumer.receive(got) == receive_status::message));
    BOOST_TEST((got == m[0]));
    sender.join(); // returns only once the room made above let the send through
    BOOST_TEST(sent);
    for (std::size_t i = 1; i < m.size(); ++i) {
        BOOST_TEST((q.consumer.try_receive(got) == receive_status::message));
        BOOST_TEST((got == m[i]), "message " << i);
    }
    BOOST_TEST((q.consumer.try_receive(got) == receive_status::empty));
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

BOOST_AUTO_TEST_CASE(the_largest_message_the_capacity_allows_gets_through_wherever_the_ring_is) {
    constexpr std::size_t largest = 4096 / 2 - 16; // two largest records fill the ring
    queue_pair q("largest", small(4096, largest));
    std::vector<std::byte> got;
    for (unsigned i = 0; i < 20; ++i) {
        q.producer.send(pattern(1 + i * 97 % 300, i)); // moves the ring's position about
        q.producer.send(pattern(largest, i));
        BOOST_REQUIRE((q.consumer.receive(got) == receive_status::message));
        BOOST_REQUIRE((q.consumer.receive(got) == receive_status::message));
        BOOST_TEST((got == pattern(largest, i)));
    }
}

BOOST_AUTO_TEST_CASE(large_messages_copied_after_the_lock_arrive_whole_and_free_their_space) {
    // 1 MiB messages are held by a lease while they are copied out, outside the lock.
    channel_options options = small(8u << 20, 1u << 20); // 7 records of 1 MiB fit
    queue_pair q("large", options);
    for (unsigned i = 0; i < 6; ++i)
        q.producer.send(pattern((1u << 20) - i, i));
    std::vector<std::byte> got;
    BOOST_REQUIRE((q.consumer.receive(got) == receive_status::message));
    BOOST_TEST((got == pattern(1u << 20, 0)));
    message_batch batch;
    BOOST_REQUIRE((q.consumer.receive_batch(batch, 4, no_wait) == receive_status::message));
    BOOST_REQUIRE(batch.size() == 2u); // a batch stops once it holds 1 MiB
    for (unsigned i = 0; i < 2; ++i)
        BOOST_TEST((std::vector<std::byte>(batch[i].begin(), batch[i].end()) ==
                    pattern((1u << 20) - 1 - i, 1 + i)));
    const auto info = shm::inspect_segment(q.segment.name());
    BOOST_TEST(info.unacknowledged_bytes == 0u); // let go once copied: the space is free
    BOOST_TEST(info.depth_messages == 3u);
    BOOST_TEST(q.producer.try_send(pattern(1u << 20, 9)));
    options.acknowledge = true;
    shm::queue_receiver leasing(q.where, options);
    for (unsigned i = 3; i < 6; ++i) {
        BOOST_REQUIRE((leasing.receive(got) == receive_status::message));
        BOOST_TEST((got == pattern((1u << 20) - i, i)));
    }
    BOOST_TEST(shm::inspect_segment(q.segment.name()).unacknowledged_bytes > 0u);
    leasing.ack();
    BOOST_TEST(shm::inspect_segment(q.segment.name()).unacknowledged_bytes == 0u);
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

BOOST_AUTO_TEST_CASE(a_consumer_joins_a_stream_that_has_not_had_its_producers_yet) {
    scratch_segment s("late-consumer");
    const auto where = endpoint::parse(s.uri());
    { shm::queue_sender quick(where); } // one of two producers came and went already
    channel_options two;
    two.min_producers = 2;
    shm::queue_receiver consumer(where, two);
    std::vector<std::byte> got;
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

BOOST_AUTO_TEST_CASE(a_batch_goes_in_with_one_commit_and_comes_out_in_order) {
    queue_pair q("batch", small(4096, 200));
    std::vector<std::vector<std::byte>> messages;
    for (unsigned i = 0; i < 100; ++i)
        messages.push_back(pattern(i % 150, i));
    std::vector<bytes_view> views(messages.begin(), messages.end());
    // The ring holds only part of the batch: send_batch sends what fits, then waits. The taker
    // only records what it got: Boost.Test's assertions belong to the main thread.
    std::vector<std::vector<std::byte>> taken;
    std::size_t largest_batch = 0;
    std::thread taker([&] {
        message_batch batch;
        while (taken.size() < messages.size() &&
               q.consumer.receive_batch(batch, 7, forever) == receive_status::message) {
            largest_batch = std::max(largest_batch, batch.size());
            for (std::size_t i = 0; i < batch.size(); ++i)
                taken.emplace_back(batch[i].begin(), batch[i].end());
        }
    });
    BOOST_TEST(q.producer.send_batch(views, forever) == messages.size());
    taker.join();
    BOOST_TEST(largest_batch <= 7u);
    BOOST_TEST(taken.size() == messages.size());
    for (std::size_t i = 0; i < std::min(taken.size(), messages.size()); ++i)
        BOOST_TEST((taken[i] == messages[i]), "message " << i);
    message_batch rest;
    BOOST_TEST((q.consumer.receive_batch(rest, 10, no_wait) == receive_status::empty));
    BOOST_TEST(rest.empty());
}

BOOST_AUTO_TEST_CASE(a_batch_stops_at_the_first_message_too_large) {
    queue_pair q("batch-large", small(4096, 100));
    const auto fine = pattern(10, 1), huge = pattern(101, 2);
    const std::vector<bytes_view> views{fine, fine, huge, fine};
    std::error_code ec;
    BOOST_TEST(q.producer.send_batch(views, no_wait, ec) == 2u);
    BOOST_TEST((ec == errc::message_too_large));
    BOOST_TEST(shm::inspect_segment(q.segment.name()).depth_messages == 2u);
}

BOOST_AUTO_TEST_CASE(a_reserved_message_is_written_in_place_and_visible_only_once_committed) {
    queue_pair q("zero-copy", small(1 << 16, 1000));
    auto room = q.producer.reserve(300);
    BOOST_REQUIRE(room.size() == 300u);
    const auto expected = pattern(300, 9);
    std::copy(expected.begin(), expected.end(), room.begin());
    std::vector<std::byte> got;
    BOOST_TEST((q.consumer.try_receive(got) == receive_status::empty)); // not committed yet
    std::error_code ec;
    BOOST_TEST(!q.producer.try_send(pattern(1, 1), ec)); // one thing at a time
    BOOST_TEST((ec == errc::invalid_argument));
    q.producer.commit();
    BOOST_TEST((q.consumer.try_receive(got) == receive_status::message));
    BOOST_TEST((got == expected));
}

BOOST_AUTO_TEST_CASE(a_lent_view_stays_queued_until_released) {
    queue_pair q("view", small(1 << 16, 1000));
    q.producer.send(pattern(500, 4));
    q.producer.send(pattern(20, 5));
    bytes_view view;
    BOOST_REQUIRE((q.consumer.receive_view(view) == receive_status::message));
    BOOST_TEST((std::vector<std::byte>(view.begin(), view.end()) == pattern(500, 4)));
    BOOST_TEST(shm::inspect_segment(q.segment.name()).depth_messages == 2u);
    q.consumer.release();
    BOOST_TEST(shm::inspect_segment(q.segment.name()).depth_messages == 1u);
    std::vector<std::byte> got;
    BOOST_TEST((q.consumer.receive(got) == receive_status::message));
    BOOST_TEST((got == pattern(20, 5)));
}

BOOST_AUTO_TEST_CASE(reservations_before_one_commit_are_published_together_in_order) {
    queue_pair q("zero-copy-batch", small(1024, 200));
    std::vector<std::vector<std::byte>> expected;
    for (unsigned i = 0;; ++i) {
        std::error_code ec;
        auto room = q.producer.reserve(200, forever, ec);
        BOOST_REQUIRE(!ec);
        if (!room.data()) break; // no room behind the pending ones: at once, despite forever
        expected.push_back(pattern(200, i));
        std::copy(expected.back().begin(), expected.back().end(), room.begin());
    }
    BOOST_REQUIRE(expected.size() == 4u); // 208-byte records in a 1024-byte ring
    BOOST_TEST(shm::inspect_segment(q.segment.name()).depth_messages == 0u); // none visible
    std::error_code ec;
    BOOST_TEST(!q.producer.reserve(201, forever, ec).data());
    BOOST_TEST((ec == errc::message_too_large));
    q.producer.commit();
    BOOST_TEST(shm::inspect_segment(q.segment.name()).depth_messages == 4u);
    std::vector<std::byte> got;
    for (const auto& message : expected) {
        BOOST_REQUIRE((q.consumer.try_receive(got) == receive_status::message));
        BOOST_TEST((got == message));
    }
}

BOOST_AUTO_TEST_CASE(lent_views_stay_queued_until_one_release_takes_them_all) {
    queue_pair q("views", small(1 << 16, 1000));
    for (unsigned i = 0; i < 5; ++i)
        q.producer.send(pattern(100 + i, i));
    std::vector<bytes_view> views;
    BOOST_REQUIRE((q.consumer.receive_views(views, 3) == receive_status::message));
    BOOST_REQUIRE(views.size() == 3u);
    for (unsigned i = 0; i < 3; ++i)
        BOOST_TEST(
            (std::vector<std::byte>(views[i].begin(), views[i].end()) == pattern(100 + i, i)));
    BOOST_TEST(shm::inspect_segment(q.segment.name()).depth_messages == 5u);
    q.consumer.release();
    BOOST_TEST(shm::inspect_segment(q.segment.name()).depth_messages == 2u);
    std::error_code ec;
    BOOST_REQUIRE((q.consumer.receive_views(views, 10, no_wait, ec) == receive_status::message));
    BOOST_TEST(views.size() == 2u);
    BOOST_TEST((std::vector<std::byte>(views[1].begin(), views[1].end()) == pattern(104, 4)));
    q.consumer.release();
    BOOST_TEST((q.consumer.receive_views(views, 10, no_wait, ec) == receive_status::empty));
    BOOST_TEST(views.empty());
}

BOOST_AUTO_TEST_CASE(dying_mid_reservation_or_mid_view_loses_and_wedges_nothing) {
    scratch_segment s("zero-copy-crash");
    const auto where = endpoint::parse(s.uri());
    shm::queue_sender producer(where);
    producer.send(pattern(64, 1));
    for (const bool as_producer : {true, false}) {
        const pid_t child = ::fork();
        if (child == 0) {
            if (as_producer) {
                shm::queue_sender doomed(where);
                auto room = doomed.reserve(64); // holds the producers' lock
                room[0] = std::byte{0x55};
                doomed.reserve(64)[0] = std::byte{0x56}; // a second, never committed either
                ::raise(SIGKILL);
            }
            shm::queue_receiver doomed(where);
            std::vector<bytes_view> views;
            doomed.receive_views(views, 2); // holds the consumers' lock
            ::raise(SIGKILL);
        }
        ::waitpid(child, nullptr, 0);
    }
    producer.send(pattern(64, 2)); // the producers' lock is repaired, not wedged
    producer.close();
    shm::queue_receiver consumer(where);
    std::vector<std::byte> got;
    BOOST_REQUIRE((consumer.receive(got) == receive_status::message)); // the viewed one
    BOOST_TEST((got == pattern(64, 1)));
    BOOST_REQUIRE((consumer.receive(got) == receive_status::message));
    BOOST_TEST((got == pattern(64, 2)));
    BOOST_TEST((consumer.receive(got) == receive_status::end_of_stream));
    BOOST_TEST(shm::inspect_segment(s.name()).repairs == 2u);
}

BOOST_AUTO_TEST_CASE(a_reservation_held_in_another_process_does_not_stretch_a_receive_timeout) {
    scratch_segment s("reserved-elsewhere");
    const auto where = endpoint::parse(s.uri());
    shm::queue_receiver consumer(where);
    int reserved[2], go_on[2];
    BOOST_REQUIRE(::pipe(reserved) == 0 && ::pipe(go_on) == 0);
    // The child's wait is bounded only so that a broken receive_for fails the test rather
    // than hangs it: far longer than a 300 ms call may take on a loaded machine.
    constexpr int held_at_most_ms = 60'000;
    const pid_t child = ::fork();
    if (child == 0) { // holds a reservation, and the producers' lock, until told
        shm::queue_sender producer(where);
        producer.reserve(8)[0] = std::byte{1};
        char byte = 0;
        (void)!::write(reserved[1], &byte, 1);
        pollfd told{go_on[0], POLLIN, 0};
        ::poll(&told, 1, held_at_most_ms);
        producer.commit();
        ::_exit(0);
    }
    char byte = 0;
    BOOST_REQUIRE(::read(reserved[0], &byte, 1) == 1);
    std::vector<std::byte> got;
    // Sleeps long enough to sweep for dead producers, which must not wait for the lock: had
    // it waited, the commit would arrive within this call, once the child is told or gives up.
    BOOST_TEST((consumer.receive_for(got, 300ms) == receive_status::empty));
    (void)!::write(go_on[1], &byte, 1);
    BOOST_TEST((consumer.receive(got) == receive_status::message));
    int status = 0;
    ::waitpid(child, &status, 0);
    BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    for (int fd : {reserved[0], reserved[1], go_on[0], go_on[1]})
        ::close(fd);
}

BOOST_AUTO_TEST_SUITE_END()
