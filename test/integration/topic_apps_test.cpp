// conveyor-producer and conveyor-consumer on topic://: every subscriber verifies the whole
// stream; a killed subscriber stalls nobody; a stopped one in drop mode is told what it lost.
#include "support/apps.hpp"
#include "support/child_process.hpp"
#include "support/temporary_names.hpp"

#include <conveyor/shm/segment.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <csignal>
#include <memory>

using namespace conveyor;
using namespace conveyor::test;

namespace {

const std::string lock_holder_app = CONVEYOR_LOCK_HOLDER;

shm::segment_info listed(const scratch_segment& s) {
    std::error_code ec;
    return shm::inspect_segment(s.name(), ec);
}

bool subscribed(const scratch_segment& s, unsigned subscribers) {
    return listed(s).consumers == subscribers;
}

// What subscriber pid has received so far; 0 once it is gone.
std::uint64_t received_by(const scratch_segment& s, pid_t pid) {
    for (const auto& sub : listed(s).subscribers)
        if (sub.pid == pid) return sub.received;
    return 0;
}

// The number N in a producer's "sent N messages" line.
std::uint64_t sent_in(const std::string& report) {
    const auto at = report.find("sent ");
    BOOST_REQUIRE_MESSAGE(at != std::string::npos, report);
    return std::stoull(report.substr(at + 5));
}

} // namespace

BOOST_AUTO_TEST_SUITE(topic_apps)

BOOST_AUTO_TEST_CASE(four_subscribers_each_verify_all_200000_messages_of_two_publishers) {
    scratch_segment s("topic-4-subscribers");
    std::vector<std::unique_ptr<child_process>> subscribers, publishers;
    for (int i = 0; i < 4; ++i)
        subscribers.push_back(std::make_unique<child_process>(
            consumer_app,
            std::vector<std::string>{s.topic_uri(), "--verify", "--quiet", "--producers", "2"}));
    // Subscribed before anything is published: each must see all of it.
    BOOST_REQUIRE(eventually([&] { return subscribed(s, 4); }));
    for (int i = 0; i < 2; ++i)
        publishers.push_back(std::make_unique<child_process>(
            producer_app,
            std::vector<std::string>{s.topic_uri(), "--generate", "100000", "--size", "64"}));
    for (auto& p : publishers)
        BOOST_TEST(p->wait() == 0, p->err());
    for (auto& c : subscribers) {
        BOOST_TEST(c->wait() == 0, c->err());
        BOOST_TEST(contains(c->err(), "received 200000 messages from 2 producers: 0 lost, 0 "
                                      "duplicated, 0 corrupt"),
                   c->err());
        BOOST_TEST(!contains(c->err(), "out of their producer's order"), c->err());
    }
    const auto after = listed(s);
    BOOST_TEST(after.sent == 200000u);
    BOOST_TEST(after.received == 800000u);
}

BOOST_AUTO_TEST_CASE(a_subscriber_killed_mid_stream_does_not_stall_the_others_in_block_mode) {
    scratch_segment s("topic-killed-subscriber");
    constexpr std::size_t size = 64;
    // 80-byte records in 16 KiB: about 200 fit, so the killed subscriber's cursor holds the
    // publisher back within a fraction of a second until a sweep finds it dead.
    const std::vector<std::string> ring{"--capacity", "16K", "--max-message", "1K"};
    auto subscriber = [&](std::vector<std::string> args) {
        args.insert(args.begin(), s.topic_uri());
        args.insert(args.end(), ring.begin(), ring.end());
        return std::make_unique<child_process>(consumer_app, args);
    };
    auto victim = subscriber({"--quiet"});
    auto first = subscriber({});
    auto second = subscriber({});
    BOOST_REQUIRE(eventually([&] { return subscribed(s, 3); }));
    // Paced and far longer than the test: the stream stays open until SIGTERM ends it.
    child_process publisher(producer_app, {s.topic_uri(), "--generate", "10000000", "--size",
                                           std::to_string(size), "--rate", "5000"});
    BOOST_REQUIRE(eventually([&] { return received_by(s, victim->pid()) >= 100; }));
    victim->signal(SIGKILL);
    BOOST_TEST(victim->wait() == 128 + SIGKILL);
    // Five rings more than the victim could ever let through.
    const auto at_kill = listed(s).sent;
    BOOST_TEST(eventually([&] { return listed(s).sent >= at_kill + 1000; }),
               "the publisher stalled at " << listed(s).sent << " messages");
    BOOST_TEST(listed(s).consumers == 2u);
    publisher.signal(SIGTERM);
    BOOST_TEST(publisher.wait() == 0, publisher.err());
    const auto sent = sent_in(publisher.err());
    for (auto* survivor : {first.get(), second.get()}) {
        BOOST_TEST(survivor->wait() == 0, survivor->err());
        stream_verifier verifier;
        BOOST_TEST(verify_output(survivor->out(), size, verifier) == sent);
        const auto summary = verifier.result();
        BOOST_TEST(summary.duplicated + summary.corrupt + summary.out_of_order == 0u);
        BOOST_TEST(summary.lost == 10000000u - sent); // only what was never published
    }
}

BOOST_AUTO_TEST_CASE(a_stopped_subscriber_in_drop_mode_reports_exactly_what_it_lost) {
    scratch_segment s("topic-drop");
    // 112-byte messages make 128-byte records: a 64 KiB ring holds exactly the last 512.
    child_process stopped(consumer_app, {s.topic_uri(), "--verify", "--quiet", "--slow", "drop",
                                         "--capacity", "64K", "--max-message", "1K"});
    BOOST_REQUIRE(eventually([&] { return subscribed(s, 1); }));
    stopped.signal(SIGSTOP);
    const auto published = run(producer_app, {s.topic_uri(), "--generate", "2000", "--size",
                                              "112"}); // drop mode: never waits
    BOOST_TEST(published.status == 0, published.err);

    const auto listing = run(ctl_app, {"list"});
    std::vector<std::string> subscriber_row;
    for (std::size_t at = listing.out.find("\n" + s.topic_uri()); at != std::string::npos;
         at = listing.out.find("\n" + s.topic_uri(), at + 1)) {
        const auto row = row_of(listing.out.substr(at + 1), s.topic_uri());
        if (row.size() == 7u) subscriber_row = row;
    }
    BOOST_REQUIRE_MESSAGE(subscriber_row.size() == 7u, listing.out);
    BOOST_TEST(subscriber_row[1] == "drop");
    BOOST_TEST(subscriber_row[2] == std::to_string(stopped.pid()));
    BOOST_TEST(subscriber_row[3] == "2000");   // behind, in messages
    BOOST_TEST(subscriber_row[4] == "256000"); // behind, in bytes

    stopped.signal(SIGCONT);
    BOOST_TEST(stopped.wait() == 1, stopped.err()); // --verify: messages were lost
    BOOST_TEST(contains(stopped.err(), "1488 messages dropped: this subscriber fell a whole "
                                       "ring behind"),
               stopped.err());
    BOOST_TEST(contains(stopped.err(), "received 512 messages from 1 producers: 1488 lost, 0 "
                                       "duplicated, 0 corrupt"),
               stopped.err());
}

BOOST_AUTO_TEST_CASE(a_publisher_killed_holding_the_lock_mid_record_wedges_nothing) {
    scratch_segment s("topic-lock-holder");
    // Two publishers: the one that dies holding the lock, then the one that streams.
    child_process subscriber(consumer_app,
                             {s.topic_uri(), "--verify", "--quiet", "--producers", "2"});
    BOOST_REQUIRE(eventually([&] { return subscribed(s, 1); }));
    BOOST_TEST(run(lock_holder_app, {"publisher", s.topic_uri()}).status == 128 + SIGKILL);
    BOOST_TEST(run(producer_app, {s.topic_uri(), "--generate", "5000", "--size", "64"}).status ==
               0);
    BOOST_TEST(subscriber.wait() == 0, subscriber.err());
    BOOST_TEST(contains(subscriber.err(), "received 5000 messages from 1 producers: 0 lost"),
               subscriber.err());
    BOOST_TEST(listed(s).repairs == 1u);
}

BOOST_AUTO_TEST_CASE(a_topic_opened_as_a_queue_is_refused_naming_the_uri_to_use) {
    scratch_segment s("topic-kind");
    BOOST_TEST(run(producer_app, {s.topic_uri()}, "x\n").status == 0);
    const auto refused = run(consumer_app, {s.uri(), "--timeout", "1"});
    BOOST_TEST(refused.status == 70);
    BOOST_TEST(contains(refused.err, s.uri() + " is a topic; open it as " + s.topic_uri()),
               refused.err);
    const auto bad = run(consumer_app, {s.topic_uri(), "--slow", "sometimes"});
    BOOST_TEST(bad.status == 64);
    BOOST_TEST(contains(bad.err, "--slow: 'sometimes' is neither block nor drop"), bad.err);
    const auto kept = run(ctl_app, {"rm", s.uri()}); // a topic is not removed as a queue
    BOOST_TEST(kept.status == 70);
    BOOST_TEST(contains(kept.err, s.uri() + " is a topic; open it as " + s.topic_uri()), kept.err);
    BOOST_TEST(listed(s).topic);
    BOOST_TEST(run(ctl_app, {"rm", s.topic_uri()}).status == 0);
    BOOST_TEST(listed(s).name.empty());
}

BOOST_AUTO_TEST_SUITE_END()
