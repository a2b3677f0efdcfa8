// Processes killed at bad moments: the survivors go on, nothing wedges or arrives twice.
#include "support/apps.hpp"
#include "support/child_process.hpp"
#include "support/temporary_names.hpp"

#include <conveyor/shm/segment.hpp>

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <fstream>

using namespace conveyor;
using namespace conveyor::test;

namespace {

const std::string lock_holder_app = CONVEYOR_LOCK_HOLDER;

std::uint64_t received_so_far(const scratch_segment& s) {
    std::error_code ec;
    return shm::inspect_segment(s.name(), ec).received;
}

// Lines "line N" for N in [from, to), each with its newline.
std::string numbered_lines(int from, int to) {
    std::string lines;
    for (int n = from; n < to; ++n)
        lines += "line " + std::to_string(n) + "\n";
    return lines;
}

} // namespace

BOOST_AUTO_TEST_SUITE(crash)

BOOST_AUTO_TEST_CASE(a_consumer_killed_mid_stream_is_replaced_losing_nothing) {
    scratch_segment s("killed-consumer");
    constexpr std::size_t size = 64;
    constexpr std::uint64_t rate = 100000;
    // Paced, and longer than the test may last: the stream is still running when the first
    // consumer is killed, and until the test stops it.
    child_process producer(
        producer_app, with({s.uri(), "--size", std::to_string(size)}, outlasting_stream(rate)));
    child_process first(consumer_app, {s.uri()});
    BOOST_REQUIRE(eventually_reaches([&] { return received_so_far(s); }, 50000));
    first.signal(SIGKILL);
    BOOST_TEST(first.wait() == 128 + SIGKILL);
    const auto taken_before = received_so_far(s);
    child_process second(consumer_app, {s.uri()});
    BOOST_REQUIRE(eventually_reaches([&] { return received_so_far(s); }, taken_before + 50000));
    producer.signal(SIGTERM); // its stream ends: the second consumer takes the rest and stops
    BOOST_TEST(producer.wait() == 0, producer.err());
    BOOST_TEST(second.wait() == 0, second.err());
    const auto sent = last_number_after(producer.err(), "sent");
    BOOST_REQUIRE(sent > 0);

    stream_verifier both;
    const auto from_first = verify_output(first.out(), size, both);
    const auto from_second = verify_output(second.out(), size, both);
    const auto total = both.result();
    BOOST_TEST(total.corrupt == 0u);
    BOOST_TEST(total.out_of_order == 0u);
    BOOST_TEST(from_first > 0u);
    BOOST_TEST(from_second > 0u);
    // The verifier counts the messages never sent as lost: none else may be. What the killed
    // consumer had taken and not acknowledged went to the second one.
    const std::uint64_t never_sent = outlasting_count(rate) - std::uint64_t(sent);
    BOOST_TEST(total.lost == never_sent);
    BOOST_TEST(shm::inspect_segment(s.name()).depth_bytes == 0u);
    BOOST_TEST(shm::inspect_segment(s.name()).unacknowledged_bytes == 0u);
    // conveyor-consumer acknowledges each batch (apps/consumer: batch_size, 256 messages)
    // once it is written out and flushed: killed in between, the batch comes again, so at
    // most that many were written twice.
    constexpr std::uint64_t consumer_batch = 256;
    BOOST_TEST(total.duplicated <= consumer_batch);
}

BOOST_AUTO_TEST_CASE(a_producer_killed_mid_stream_counts_as_closed) {
    scratch_segment s("killed-producer");
    child_process consumer(consumer_app, {s.uri(), "--verify", "--quiet"});
    // Paced, and longer than the test may last: it is still sending when it is killed.
    child_process producer(producer_app, with({s.uri(), "--size", "64"}, outlasting_stream(20000)));
    BOOST_REQUIRE(eventually_reaches([&] { return received_so_far(s); }, 10000));
    producer.signal(SIGKILL);
    BOOST_TEST(producer.wait() == 128 + SIGKILL);
    BOOST_TEST(consumer.wait(std::chrono::seconds(30)) == 1, consumer.err()); // losses, reported
    BOOST_TEST(contains(consumer.err(), "lost, 0 duplicated, 0 corrupt"), consumer.err());
}

BOOST_AUTO_TEST_CASE(a_process_killed_holding_the_lock_does_not_wedge_the_others) {
    for (const std::string role : {"producer", "consumer"}) {
        BOOST_TEST_CONTEXT("killed while holding the lock: a " << role) {
            scratch_segment s("lock-holder");
            // The dying producer counts as one of the stream's producers.
            const std::string producers = role == "producer" ? "2" : "1";
            child_process consumer(consumer_app, {s.uri(), "--producers", producers});
            // Its standard input held open: the stream lasts until the test ends it.
            child_process producer(held_input, producer_app, {s.uri()});
            const std::string before = numbered_lines(0, 1000), after = numbered_lines(1000, 2000);
            producer.write_input(before);
            BOOST_REQUIRE(eventually([&] { return received_so_far(s) == 1000; }));
            // It takes the lock, does half its work, and dies holding the lock.
            BOOST_TEST(run(lock_holder_app, {role, s.uri()}).status == 128 + SIGKILL);
            producer.write_input(after); // the survivors take the lock again: it is repaired
            producer.close_input();
            BOOST_TEST(producer.wait() == 0, producer.err());
            BOOST_TEST(consumer.wait() == 0, consumer.err());
            BOOST_TEST(consumer.out() == before + after); // each line once, in order, whole
            const auto info = shm::inspect_segment(s.name());
            BOOST_TEST(info.repairs == 1u);
            BOOST_TEST(info.producers == 0u);
            BOOST_TEST(info.consumers == 0u);
            BOOST_TEST(info.depth_messages == 0u);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_foreign_file_under_the_name_is_refused_cleanly) {
    scratch_segment s("foreign-app");
    const std::string contents = "important data of another program\n";
    std::ofstream(s.path()) << contents;
    for (const auto& app : {producer_app, consumer_app}) {
        const auto result = run(app, {s.uri(), "--timeout", "1"});
        BOOST_TEST(result.status == 70, app);
        BOOST_TEST(contains(result.err, "is not a conveyor segment"), result.err);
    }
    std::ifstream in(s.path());
    BOOST_TEST(std::string(std::istreambuf_iterator<char>(in), {}) == contents);
}

BOOST_AUTO_TEST_SUITE_END()
