// Acknowledged delivery on shm://: leases held until ack(), given back by a receiver that
// closes or dies, delivered again before newer messages and marked so; named producers.
#include "shm/attachment.hpp"
#include "shm/leases.hpp"
#include "support/temporary_names.hpp"

#include <conveyor/error.hpp>
#include <conveyor/shm/queue.hpp>
#include <conveyor/shm/segment.hpp>

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

using namespace conveyor;
using namespace std::chrono_literals;
using conveyor::test::scratch_segment;

namespace {

std::vector<std::byte> numbered(unsigned n) {
    const std::string text = "message " + std::to_string(n);
    const auto bytes = std::as_bytes(std::span(text.data(), text.size()));
    return {bytes.begin(), bytes.end()};
}

channel_options acknowledged(std::size_t capacity = 1 << 16) {
    channel_options options;
    options.acknowledge = true;
    options.capacity = capacity;
    options.max_message = 200;
    return options;
}

// Receives one message, which must be numbered n, redelivered or not as said.
void expect(shm::queue_receiver& in, unsigned n, bool redelivered) {
    std::vector<std::byte> got;
    BOOST_REQUIRE((in.receive_for(got, 10s) == receive_status::message));
    BOOST_TEST((got == numbered(n)), "expected message " << n);
    BOOST_TEST(in.redelivered() == redelivered, "message " << n);
}

// Runs body in a child process, which must die by SIGKILL inside it (die()) with its
// channels open, and waits for it.
template <class Body> void in_a_child_that_dies(Body body) {
    const pid_t child = ::fork();
    if (child == 0) {
        body();
        ::_exit(0); // body did not die: the test fails below
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    BOOST_REQUIRE(WIFSIGNALED(status));
}

void die() {
    ::raise(SIGKILL); // no close, no destructor
}

} // namespace

BOOST_AUTO_TEST_SUITE(shm_leases)

BOOST_AUTO_TEST_CASE(leased_messages_hold_their_space_until_acknowledged) {
    scratch_segment s("lease-space");
    const auto where = endpoint::parse(s.uri());
    auto options = acknowledged(1024); // 32-byte records of 9..10 bytes: 32 fit
    shm::queue_sender out(where, options);
    shm::queue_receiver in(where, options);
    unsigned sent = 0;
    while (out.try_send(numbered(sent)))
        ++sent;
    BOOST_REQUIRE(sent > 5u);
    for (unsigned i = 0; i < sent; ++i)
        expect(in, i, false);
    const auto leased = shm::inspect_segment(s.name());
    BOOST_TEST(leased.depth_messages == 0u);
    BOOST_TEST(leased.unacknowledged_bytes > 0u);
    BOOST_TEST(!out.try_send(numbered(sent))); // taken, not done with: still full
    in.ack();
    BOOST_TEST(shm::inspect_segment(s.name()).unacknowledged_bytes == 0u);
    BOOST_TEST(out.try_send(numbered(sent)));
}

BOOST_AUTO_TEST_CASE(a_receiver_that_closes_unacknowledged_gives_its_messages_back_first) {
    scratch_segment s("lease-close");
    const auto where = endpoint::parse(s.uri());
    shm::queue_sender out(where, acknowledged());
    for (unsigned i = 0; i < 5; ++i)
        out.send(numbered(i));
    {
        shm::queue_receiver first(where, acknowledged());
        for (unsigned i = 0; i < 3; ++i)
            expect(first, i, false);
    } // closed with 0..2 leased
    out.send(numbered(5));
    shm::queue_receiver second(where, acknowledged());
    for (unsigned i = 0; i < 3; ++i)
        expect(second, i, true); // before 3, 4 and 5, which were never delivered
    for (unsigned i = 3; i < 6; ++i)
        expect(second, i, false);
    second.ack();
    out.close();
    std::vector<std::byte> got;
    BOOST_TEST((second.receive_for(got, 10s) == receive_status::end_of_stream));
    const auto info = shm::inspect_segment(s.name());
    BOOST_TEST(info.redelivered == 3u);
    BOOST_TEST(info.received == 9u);
    BOOST_TEST(info.orphaned_consumers == 0u);
}

BOOST_AUTO_TEST_CASE(a_receiver_killed_holding_leases_gives_them_back_in_a_batch) {
    scratch_segment s("lease-kill");
    const auto where = endpoint::parse(s.uri());
    shm::queue_sender out(where, acknowledged());
    for (unsigned i = 0; i < 10; ++i)
        out.send(numbered(i));
    in_a_child_that_dies([&] {
        shm::queue_receiver doomed(where, acknowledged());
        message_batch batch;
        doomed.receive_batch(batch, 4, forever); // 0..3 leased
        doomed.receive_batch(batch, 2, forever); // 4, 5 leased too
        doomed.ack();                            // all six done with
        doomed.receive_batch(batch, 3, forever); // 6..8 leased, never acknowledged
        die();
    });
    out.close();
    shm::queue_receiver survivor(where, acknowledged());
    message_batch batch;
    // The dead one's leases are found by the survivor's sweep of the dead, within ~100 ms.
    BOOST_REQUIRE((survivor.receive_batch(batch, 10, 10s) == receive_status::message));
    BOOST_REQUIRE(batch.size() == 3u); // one batch takes from one source: the orphan first
    for (unsigned i = 0; i < 3; ++i) {
        BOOST_TEST((std::vector<std::byte>(batch[i].begin(), batch[i].end()) == numbered(6 + i)));
        BOOST_TEST(batch.redelivered(i));
    }
    BOOST_REQUIRE((survivor.receive_batch(batch, 10, 10s) == receive_status::message));
    BOOST_REQUIRE(batch.size() == 1u);
    BOOST_TEST((std::vector<std::byte>(batch[0].begin(), batch[0].end()) == numbered(9)));
    BOOST_TEST(!batch.redelivered(0));
    survivor.ack();
    BOOST_TEST((survivor.receive_batch(batch, 10, 10s) == receive_status::end_of_stream));
}

// Takes the ten messages of the queue and never acknowledges them.
void lease_all_ten(shm::queue_receiver& in) {
    message_batch batch;
    in.receive_batch(batch, 10, forever);
}

// Receives the whole batch of ten numbered 0..9, every one a redelivery, then the end.
void expect_ten_again_then_the_end(shm::queue_receiver& in) {
    message_batch batch;
    BOOST_REQUIRE((in.receive_batch(batch, 10, 10s) == receive_status::message));
    BOOST_REQUIRE(batch.size() == 10u);
    for (unsigned i = 0; i < 10; ++i) {
        BOOST_TEST((std::vector<std::byte>(batch[i].begin(), batch[i].end()) == numbered(i)));
        BOOST_TEST(batch.redelivered(i));
    }
    in.ack();
    BOOST_TEST((in.receive_batch(batch, 10, 10s) == receive_status::end_of_stream));
}

BOOST_AUTO_TEST_CASE(a_receiver_joining_after_the_last_producer_takes_a_dead_ones_leases_to_the_end) {
    // Everything taken and none of it acknowledged when the producer leaves: the stream is
    // not over while those leases may come back, so a receiver that comes next joins it
    // (rather than wait for a next stream that never comes) and gets them, then the end.
    scratch_segment s("lease-late");
    const auto where = endpoint::parse(s.uri());
    shm::queue_sender out(where, acknowledged());
    for (unsigned i = 0; i < 10; ++i)
        out.send(numbered(i));
    in_a_child_that_dies([&] {
        shm::queue_receiver doomed(where, acknowledged());
        lease_all_ten(doomed);
        die();
    });
    out.close();
    shm::queue_receiver late(where, acknowledged());
    expect_ten_again_then_the_end(late);
}

BOOST_AUTO_TEST_CASE(a_receiver_at_the_end_of_the_stream_first_takes_back_a_dead_ones_leases) {
    // The survivor has just looked for dead peers when the holder dies and the producer
    // leaves: before it calls the stream over, it looks again.
    scratch_segment s("lease-end");
    const auto where = endpoint::parse(s.uri());
    shm::queue_sender out(where, acknowledged());
    for (unsigned i = 0; i < 10; ++i)
        out.send(numbered(i));
    shm::queue_receiver survivor(where, acknowledged());
    int leased[2];
    BOOST_REQUIRE(::pipe(leased) == 0);
    const pid_t holder = ::fork();
    if (holder == 0) {
        shm::queue_receiver doomed(where, acknowledged());
        lease_all_ten(doomed);
        const char done = 1;
        [[maybe_unused]] auto written = ::write(leased[1], &done, 1);
        ::pause(); // until the SIGKILL below
        ::_exit(0);
    }
    ::close(leased[1]);
    char done = 0;
    BOOST_REQUIRE(::read(leased[0], &done, 1) == 1);
    ::close(leased[0]);
    message_batch batch;
    // Nothing to take, and the holder lives: its leases stay with it.
    BOOST_TEST((survivor.receive_batch(batch, 10, no_wait) == receive_status::empty));
    ::kill(holder, SIGKILL);
    int status = 0;
    ::waitpid(holder, &status, 0);
    out.close();
    expect_ten_again_then_the_end(survivor);
}

BOOST_AUTO_TEST_CASE(a_receiver_killed_between_its_lease_and_its_take_delivers_nothing_twice) {
    scratch_segment s("lease-torn");
    const auto where = endpoint::parse(s.uri());
    shm::queue_sender out(where, acknowledged());
    for (unsigned i = 0; i < 4; ++i)
        out.send(numbered(i));
    in_a_child_that_dies([&] {
        // As a take does, by hand: the lease is recorded, then the process dies holding the
        // consumers' lock before next moves past the records.
        using namespace shm::detail;
        std::error_code ec;
        std::string why;
        auto a = attachment::open(where, role::consumer, {{1 << 16, 1000, 0600}, 1, {}}, ec, why);
        a->lock_consumers(attachment::time_point::max(), ec);
        auto& q = a->control();
        const auto next = q.next.load();
        add_lease(q, a->own_leases(), next, q.tail.load(), false);
        die();
    });
    out.close();
    shm::queue_receiver survivor(where, acknowledged());
    for (unsigned i = 0; i < 4; ++i)
        expect(survivor, i, false); // never taken: delivered once, not as redeliveries
    survivor.ack();
    std::vector<std::byte> got;
    BOOST_TEST((survivor.receive_for(got, 10s) == receive_status::end_of_stream));
    BOOST_TEST(shm::inspect_segment(s.name()).repairs >= 1u);
}

BOOST_AUTO_TEST_CASE(plain_and_acknowledging_receivers_share_a_queue) {
    scratch_segment s("lease-mixed");
    const auto where = endpoint::parse(s.uri());
    shm::queue_sender out(where, acknowledged(1024));
    shm::queue_receiver leasing(where, acknowledged());
    shm::queue_receiver plain(where);
    for (unsigned i = 0; i < 4; ++i)
        out.send(numbered(i));
    expect(leasing, 0, false);
    expect(plain, 1, false);
    expect(plain, 2, false);
    // Message 0 is still leased: the bytes of 1 and 2 stay until it is acknowledged.
    BOOST_TEST(shm::inspect_segment(s.name()).unacknowledged_bytes > 0u);
    leasing.ack();
    expect(plain, 3, false);
    BOOST_TEST(shm::inspect_segment(s.name()).unacknowledged_bytes == 0u);
}

BOOST_AUTO_TEST_CASE(a_receiver_with_every_lease_range_in_use_is_told_to_acknowledge) {
    scratch_segment s("lease-ranges");
    const auto where = endpoint::parse(s.uri());
    shm::queue_sender out(where, acknowledged());
    shm::queue_receiver mine(where, acknowledged());
    shm::queue_receiver other(where, acknowledged());
    std::vector<std::byte> got;
    unsigned n = 0;
    // Taking in turns splits each one's leases into separate ranges.
    for (std::size_t range = 0; range < shm::detail::max_lease_ranges; ++range) {
        out.send(numbered(n++));
        out.send(numbered(n++));
        BOOST_REQUIRE((mine.try_receive(got) == receive_status::message));
        BOOST_REQUIRE((other.try_receive(got) == receive_status::message));
    }
    out.send(numbered(n++));
    out.send(numbered(n++));
    BOOST_REQUIRE((other.try_receive(got) == receive_status::message));
    std::error_code ec;
    BOOST_TEST((mine.try_receive(got, ec) == receive_status::empty));
    BOOST_TEST((ec == errc::too_many_leases));
    mine.ack();
    BOOST_TEST((mine.try_receive(got, ec) == receive_status::message));
    BOOST_TEST((got == numbered(n - 1)));
}

BOOST_AUTO_TEST_CASE(a_named_producer_that_dies_pauses_the_stream_for_its_successor) {
    scratch_segment s("named");
    const auto where = endpoint::parse(s.uri());
    channel_options named;
    named.producer_name = "bridge-a";
    shm::queue_receiver in(where);
    in_a_child_that_dies([&] {
        shm::queue_sender first(where, named);
        first.send(numbered(0));
        die();
    });
    expect(in, 0, false);
    std::vector<std::byte> got;
    // Its stream is paused, not over: the consumer keeps waiting (sweeps included).
    BOOST_TEST((in.receive_for(got, 300ms) == receive_status::empty));
    const auto paused = shm::inspect_segment(s.name());
    BOOST_TEST(paused.paused_producers == 1u);
    BOOST_TEST(paused.producers == 0u);
    {
        shm::queue_sender successor(where, named);
        std::error_code ec;
        std::string why;
        BOOST_TEST(!shm::queue_sender::open(where, named, ec, &why)); // one of each name alive
        BOOST_TEST((ec == errc::name_in_use));
        BOOST_TEST(why.find("bridge-a") != std::string::npos, why);
        successor.send(numbered(1));
    } // closes: the stream ends
    expect(in, 1, false);
    BOOST_TEST((in.receive_for(got, 10s) == receive_status::end_of_stream));
    BOOST_TEST(shm::inspect_segment(s.name()).paused_producers == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
