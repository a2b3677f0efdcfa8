// Topics (topic://): every subscriber sees every message published after it subscribed;
// block mode holds publishers back for the slowest live subscriber, drop mode loses a slow
// subscriber's oldest messages and counts them; the dead hold nobody back.
#include "shm/topic_attachment.hpp"
#include "support/child_process.hpp"
#include "support/temporary_names.hpp"

#include <conveyor/error.hpp>
#include <conveyor/generated_message.hpp>
#include <conveyor/open.hpp>
#include <conveyor/shm/queue.hpp>
#include <conveyor/shm/segment.hpp>
#include <conveyor/shm/topic.hpp>

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <cstring>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace conveyor;
using namespace std::chrono_literals;
using conveyor::test::scratch_segment;

namespace {

// 112-byte payloads make 128-byte records: a 64 KiB ring holds exactly 512 of them, and no
// record ever wraps, so what a ring holds is known exactly.
constexpr std::size_t exact_payload = 112;
constexpr std::size_t exact_ring = 64u << 10;
constexpr std::uint64_t records_per_ring = exact_ring / 128;

channel_options topic_options(slow_subscriber slow, std::size_t capacity = exact_ring,
                              std::size_t max_message = 1024) {
    channel_options options;
    options.capacity = capacity;
    options.max_message = max_message;
    options.slow = slow;
    return options;
}

// A message that says its own number.
std::vector<std::byte> numbered(std::uint64_t n, std::size_t size = exact_payload) {
    std::vector<std::byte> bytes(size);
    for (std::size_t i = 0; i < size; ++i)
        bytes[i] = static_cast<std::byte>(n * 131 + i);
    std::memcpy(bytes.data(), &n, sizeof n);
    return bytes;
}

std::uint64_t number_of(const std::vector<std::byte>& message) {
    std::uint64_t n = 0;
    std::memcpy(&n, message.data(), sizeof n);
    return n;
}

// Reads every message until the end of the stream; checks their bytes as it goes.
std::vector<std::uint64_t> drain(receiver& in, std::size_t size = exact_payload) {
    std::vector<std::uint64_t> numbers;
    std::vector<std::byte> got;
    while (in.receive_for(got, 20s) == receive_status::message) {
        BOOST_REQUIRE(got.size() == size);
        BOOST_REQUIRE((got == numbered(number_of(got), size)));
        numbers.push_back(number_of(got));
    }
    return numbers;
}

std::vector<std::uint64_t> range(std::uint64_t from, std::uint64_t to) {
    std::vector<std::uint64_t> numbers;
    for (auto n = from; n < to; ++n)
        numbers.push_back(n);
    return numbers;
}

} // namespace

BOOST_AUTO_TEST_SUITE(shm_topic)

BOOST_AUTO_TEST_CASE(every_subscriber_gets_every_message_published_after_it_subscribed) {
    scratch_segment s("topic-all");
    const auto where = endpoint::parse(s.topic_uri());
    shm::topic_receiver early(where);
    shm::topic_sender publisher(where);
    for (std::uint64_t n = 0; n < 10; ++n)
        publisher.send(numbered(n));
    shm::topic_receiver late(where);
    for (std::uint64_t n = 10; n < 25; ++n)
        publisher.send(numbered(n));
    publisher.close();
    BOOST_TEST(drain(early) == range(0, 25));
    BOOST_TEST(drain(late) == range(10, 25));
    BOOST_TEST(early.dropped() == 0u);
}

BOOST_AUTO_TEST_CASE(records_of_every_size_wrap_around_the_ring_intact_for_each_subscriber) {
    scratch_segment s("topic-wrap");
    const auto where = endpoint::parse(s.topic_uri());
    const auto options = topic_options(slow_subscriber::block, 4096, 1000);
    shm::topic_receiver first(where, options), second(where, options);
    shm::topic_sender publisher(where, options);
    std::vector<std::byte> got;
    for (std::uint64_t n = 0; n < 2000; ++n) {
        const auto message = numbered(n, 8 + n * 37 % 993);
        publisher.send(message); // one at a time: 4 KiB holds only a few of the largest
        for (auto* in : {&first, &second}) {
            BOOST_REQUIRE((in->try_receive(got) == receive_status::message));
            BOOST_REQUIRE((got == message));
        }
    }
}

BOOST_AUTO_TEST_CASE(a_batch_goes_to_every_subscriber_in_order) {
    scratch_segment s("topic-batch");
    const auto where = endpoint::parse(s.topic_uri());
    shm::topic_receiver first(where), second(where);
    shm::topic_sender publisher(where);
    std::vector<std::vector<std::byte>> messages;
    for (std::uint64_t n = 0; n < 300; ++n)
        messages.push_back(numbered(n));
    const std::vector<bytes_view> views(messages.begin(), messages.end());
    BOOST_TEST(publisher.send_batch(views, no_wait) == 300u);
    publisher.close();
    for (auto* in : {&first, &second}) {
        message_batch batch;
        std::vector<std::uint64_t> numbers;
        while (in->receive_batch(batch, 64, 1s) == receive_status::message)
            for (std::size_t i = 0; i < batch.size(); ++i)
                numbers.push_back(number_of({batch[i].begin(), batch[i].end()}));
        BOOST_TEST(numbers == range(0, 300));
    }
}

BOOST_AUTO_TEST_CASE(in_block_mode_the_slowest_subscriber_holds_publishers_back) {
    scratch_segment s("topic-block");
    const auto where = endpoint::parse(s.topic_uri());
    const auto options = topic_options(slow_subscriber::block);
    shm::topic_receiver slow(where, options);
    shm::topic_sender publisher(where, options);
    BOOST_TEST((publisher.slow() == slow_subscriber::block));
    std::uint64_t sent = 0;
    while (publisher.try_send(numbered(sent)))
        ++sent;
    BOOST_TEST(sent == records_per_ring);
    BOOST_TEST(!publisher.send_for(numbered(sent), 50ms));
    const auto listed = shm::inspect_segment(s.name());
    BOOST_TEST(listed.topic);
    BOOST_REQUIRE(listed.subscribers.size() == 1u);
    BOOST_TEST(listed.subscribers[0].behind_messages == records_per_ring);
    BOOST_TEST(listed.subscribers[0].behind_bytes == exact_ring);
    BOOST_TEST(listed.depth_messages == records_per_ring);
    std::vector<std::byte> got;
    BOOST_REQUIRE((slow.try_receive(got) == receive_status::message));
    BOOST_TEST(number_of(got) == 0u);
    BOOST_TEST(publisher.try_send(numbered(sent++)));
    publisher.close();
    BOOST_TEST(drain(slow) == range(1, sent));
}

BOOST_AUTO_TEST_CASE(in_drop_mode_a_subscriber_a_ring_behind_loses_exactly_the_oldest) {
    scratch_segment s("topic-drop");
    const auto where = endpoint::parse(s.topic_uri());
    const auto options = topic_options(slow_subscriber::drop);
    shm::topic_receiver stopped(where, options), keeping_up(where, options);
    shm::topic_sender publisher(where, options);
    BOOST_TEST((stopped.slow() == slow_subscriber::drop));
    constexpr std::uint64_t published = 2000; // nearly four rings
    std::vector<std::uint64_t> kept_up;
    std::vector<std::byte> got;
    for (std::uint64_t n = 0; n < published; ++n) {
        BOOST_REQUIRE(publisher.try_send(numbered(n))); // never waits for anyone
        BOOST_REQUIRE((keeping_up.try_receive(got) == receive_status::message));
        kept_up.push_back(number_of(got));
    }
    const auto listed = shm::inspect_segment(s.name());
    BOOST_REQUIRE(listed.subscribers.size() == 2u);
    BOOST_TEST(listed.subscribers[0].behind_messages == published);
    BOOST_TEST(listed.subscribers[1].behind_messages == 0u);
    publisher.close();
    // The ring holds the newest 512; the rest went, and the stopped subscriber is told so.
    BOOST_TEST(drain(stopped) == range(published - records_per_ring, published));
    BOOST_TEST(stopped.dropped() == published - records_per_ring);
    BOOST_TEST(kept_up == range(0, published));
    BOOST_TEST(keeping_up.dropped() == 0u);
    BOOST_TEST(shm::inspect_segment(s.name()).subscribers.at(0).dropped ==
               published - records_per_ring);
}

BOOST_AUTO_TEST_CASE(a_verifier_counts_what_a_dropping_subscriber_lost_as_lost_and_nothing_else) {
    scratch_segment s("topic-verify-drop");
    const auto where = endpoint::parse(s.topic_uri());
    const auto options = topic_options(slow_subscriber::drop);
    shm::topic_receiver stopped(where, options);
    shm::topic_sender publisher(where, options);
    constexpr std::uint64_t published = 1500;
    const message_generator make(make_producer_id(), exact_payload, published);
    std::vector<std::byte> message(exact_payload);
    for (std::uint64_t n = 0; n < published; ++n) {
        make.make(n, message);
        BOOST_REQUIRE(publisher.try_send(message));
    }
    publisher.close();
    stream_verifier verifier;
    std::vector<std::byte> got;
    while (stopped.receive_for(got, 20s) == receive_status::message)
        verifier.observe(got);
    const auto summary = verifier.result();
    BOOST_TEST(summary.lost == stopped.dropped());
    BOOST_TEST(summary.lost == published - records_per_ring);
    BOOST_TEST(summary.duplicated + summary.corrupt + summary.out_of_order == 0u);
}

BOOST_AUTO_TEST_CASE(a_subscriber_lapped_while_it_copies_never_takes_a_torn_or_repeated_message) {
    scratch_segment s("topic-lapped");
    const auto where = endpoint::parse(s.topic_uri());
    const auto options = topic_options(slow_subscriber::drop, 16u << 10, 2048);
    shm::topic_receiver subscriber(where, options);
    constexpr std::uint64_t published = 200000;
    const pid_t child = ::fork();
    if (child == 0) { // publishes as fast as it can: the ring is lapped over and over
        shm::topic_sender publisher(where, options);
        std::vector<message_generator> sizes;
        for (std::size_t size : {48, 200, 1500})
            sizes.emplace_back(make_producer_id(), size, published);
        std::vector<std::byte> message;
        for (std::uint64_t n = 0; n < published; ++n) {
            const auto& make = sizes[n % 3];
            message.resize(make.size());
            make.make(n, message);
            publisher.send(message);
        }
        ::_exit(0);
    }
    // Reads in batches, now and then pausing: whatever it copies while a publisher
    // overwrites it must be thrown away, never taken.
    stream_verifier verifier;
    message_batch batch;
    std::uint64_t batches = 0;
    while (subscriber.receive_batch(batch, 32, 20s) == receive_status::message) {
        for (std::size_t i = 0; i < batch.size(); ++i)
            verifier.observe(batch[i]);
        if (++batches % 64 == 0) std::this_thread::sleep_for(100us);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    BOOST_TEST(status == 0);
    const auto summary = verifier.result();
    BOOST_TEST(summary.corrupt == 0u);
    BOOST_TEST(summary.duplicated == 0u);
    BOOST_TEST(summary.out_of_order == 0u);
    BOOST_TEST(summary.messages + subscriber.dropped() == published);
    BOOST_TEST_MESSAGE("lapped subscriber: " << summary.messages << " taken, "
                                             << subscriber.dropped() << " dropped");
}

BOOST_AUTO_TEST_CASE(the_end_comes_once_every_publisher_expected_has_come_and_gone) {
    scratch_segment s("topic-end");
    const auto where = endpoint::parse(s.topic_uri());
    channel_options two;
    two.min_producers = 2;
    shm::topic_receiver subscriber(where, two);
    std::vector<std::byte> got;
    {
        shm::topic_sender first(where);
        first.send(numbered(1));
    }
    BOOST_TEST((subscriber.receive(got) == receive_status::message));
    BOOST_TEST((subscriber.receive_for(got, 20ms) == receive_status::empty));
    {
        shm::topic_sender second(where);
        second.send(numbered(2));
    }
    BOOST_TEST((subscriber.receive(got) == receive_status::message));
    BOOST_TEST((subscriber.receive(got) == receive_status::end_of_stream));
}

BOOST_AUTO_TEST_CASE(a_topic_and_a_queue_refuse_to_be_opened_as_each_other) {
    scratch_segment topic("topic-kind"), queue("topic-kind");
    shm::topic_receiver subscriber(endpoint::parse(topic.topic_uri()));
    shm::queue_receiver consumer(endpoint::parse(queue.uri()));
    std::error_code ec;
    std::string why;
    BOOST_TEST(!open_sender(endpoint::parse(topic.uri()), {}, ec, &why));
    BOOST_TEST((ec == errc::kind_mismatch));
    BOOST_TEST(why == topic.uri() + " is a topic; open it as " + topic.topic_uri(), why);
    BOOST_TEST(!open_receiver(endpoint::parse(queue.topic_uri()), {}, ec, &why));
    BOOST_TEST((ec == errc::kind_mismatch));
    BOOST_TEST(why == queue.topic_uri() + " is a queue; open it as " + queue.uri(), why);
    BOOST_TEST(shm::inspect_segment(topic.name()).topic);
    BOOST_TEST(!shm::inspect_segment(queue.name()).topic);
}

BOOST_AUTO_TEST_CASE(a_dead_subscriber_never_holds_publishers_back) {
    scratch_segment s("topic-dead-subscriber");
    const auto where = endpoint::parse(s.topic_uri());
    const auto options = topic_options(slow_subscriber::block);
    shm::topic_sender publisher(where, options);
    int subscribed[2];
    BOOST_REQUIRE(::pipe(subscribed) == 0);
    const pid_t child = ::fork();
    if (child == 0) {
        shm::topic_receiver doomed(where, options);
        char byte = 0;
        (void)!::write(subscribed[1], &byte, 1);
        ::pause(); // reads nothing until killed
        ::_exit(0);
    }
    char byte = 0;
    BOOST_REQUIRE(::read(subscribed[0], &byte, 1) == 1);
    shm::topic_receiver alive(where, options);
    std::vector<std::byte> got;
    // A ring's worth fills it behind the child; the rest goes once the child is found dead.
    for (std::uint64_t n = 0; n < records_per_ring; ++n) {
        BOOST_REQUIRE(publisher.try_send(numbered(n)));
        BOOST_REQUIRE((alive.try_receive(got) == receive_status::message));
    }
    BOOST_TEST(!publisher.try_send(numbered(records_per_ring)));
    ::kill(child, SIGKILL);
    for (std::uint64_t n = records_per_ring; n < 3 * records_per_ring; ++n) {
        BOOST_REQUIRE(publisher.send_for(numbered(n), 20s));
        BOOST_REQUIRE((alive.try_receive(got) == receive_status::message));
        BOOST_REQUIRE(number_of(got) == n);
    }
    ::waitpid(child, nullptr, 0);
    const auto listed = shm::inspect_segment(s.name());
    BOOST_TEST(listed.consumers == 1u);
    BOOST_TEST(listed.subscribers.at(0).pid == ::getpid());
    ::close(subscribed[0]);
    ::close(subscribed[1]);
}

BOOST_AUTO_TEST_CASE(a_publisher_that_dies_counts_as_closed) {
    scratch_segment s("topic-dead-publisher");
    const auto where = endpoint::parse(s.topic_uri());
    shm::topic_receiver subscriber(where);
    const pid_t child = ::fork();
    if (child == 0) {
        shm::topic_sender publisher(where);
        publisher.send(numbered(7));
        ::raise(SIGKILL); // no close, no destructor
    }
    std::vector<std::byte> got;
    BOOST_TEST((subscriber.receive(got) == receive_status::message));
    BOOST_TEST(number_of(got) == 7u);
    BOOST_TEST((subscriber.receive_for(got, 10s) == receive_status::end_of_stream));
    ::waitpid(child, nullptr, 0);
}

BOOST_AUTO_TEST_CASE(a_named_publisher_that_dies_pauses_the_stream_for_its_successor) {
    scratch_segment s("topic-named");
    const auto where = endpoint::parse(s.topic_uri());
    shm::topic_receiver subscriber(where);
    channel_options named;
    named.producer_name = "feed";
    const pid_t child = ::fork();
    if (child == 0) {
        shm::topic_sender first(where, named);
        first.send(numbered(1));
        ::raise(SIGKILL); // no close: its stream is paused, not ended
    }
    ::waitpid(child, nullptr, 0);
    std::vector<std::byte> got;
    BOOST_TEST((subscriber.receive(got) == receive_status::message));
    // Past a sweep (100 ms) the dead one is found, and its stream still waits.
    BOOST_TEST((subscriber.receive_for(got, 300ms) == receive_status::empty));
    {
        shm::topic_sender successor(where, named);
        successor.send(numbered(2));
    } // its close ends the stream
    BOOST_TEST((subscriber.receive(got) == receive_status::message));
    BOOST_TEST(number_of(got) == 2u);
    BOOST_TEST((subscriber.receive(got) == receive_status::end_of_stream));
}

BOOST_AUTO_TEST_CASE(a_publisher_killed_holding_the_lock_mid_record_wedges_and_corrupts_nothing) {
    scratch_segment s("topic-lock-holder");
    const auto where = endpoint::parse(s.topic_uri());
    shm::topic_receiver subscriber(where);
    shm::topic_sender publisher(where);
    publisher.send(numbered(1));
    const pid_t child = ::fork();
    if (child == 0) { // takes the lock, writes half a record past tail, dies
        using namespace shm::detail;
        std::error_code ec;
        std::string why;
        auto doomed = topic_attachment::open(where, role::producer,
                                             {{4u << 20, 64u << 10, 0600}, 1, {}}, ec, why);
        if (!doomed || !doomed->lock(topic_attachment::time_point::max(), ec)) ::_exit(70);
        auto& t = doomed->control();
        const auto offset = t.tail.load() % doomed->shape().capacity;
        const record_header half{exact_payload, message_record, 99, 0};
        std::memcpy(doomed->ring() + offset, &half, sizeof half);
        std::memset(doomed->ring() + offset + sizeof half, 0xEE, 20);
        t.sent.store(t.sent.load() + 5); // wrong: the repair recomputes it from the records
        ::raise(SIGKILL);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    BOOST_REQUIRE(WIFSIGNALED(status));
    publisher.send(numbered(2)); // the lock is taken over and repaired
    publisher.close();
    BOOST_TEST(drain(subscriber) == range(1, 3));
    BOOST_TEST(subscriber.dropped() == 0u); // sent was put right from the records
    BOOST_TEST(shm::inspect_segment(s.name()).repairs == 1u);
}

BOOST_AUTO_TEST_CASE(a_forged_tail_is_reported_as_corruption_not_followed) {
    scratch_segment s("topic-forged");
    const auto where = endpoint::parse(s.topic_uri());
    shm::topic_receiver subscriber(where);
    shm::topic_sender publisher(where);
    publisher.send(numbered(1));
    {
        std::error_code ec;
        std::string why;
        auto map =
            shm::detail::mapping::open(s.name(), shm::detail::mapping::access::read_write, ec, why);
        BOOST_REQUIRE_MESSAGE(map, why);
        map->topic().tail.store(map->topic().tail.load() + 4096); // past anything written
    }
    std::vector<std::byte> got;
    BOOST_TEST((subscriber.try_receive(got) == receive_status::message));
    std::error_code ec;
    BOOST_TEST((subscriber.try_receive(got, ec) == receive_status::empty));
    BOOST_TEST((ec == errc::segment_corrupt), ec.message());
    BOOST_TEST(!subscriber.failure_detail(ec).empty());
}

BOOST_AUTO_TEST_SUITE_END()
