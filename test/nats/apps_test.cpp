// The apps over nats://, as a user runs them: a long verified stream, consumers killed mid-
// stream and restarted, and the errors a user meets.
#include "children.hpp"
#include "servers.hpp"

#include "support/apps.hpp"
#include "support/child_process.hpp"

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <filesystem>

using namespace conveyor;
using namespace conveyor::test;

namespace {

const std::string self = std::filesystem::read_symlink("/proc/self/exe");

// Whole records of message_size bytes and a newline in a helper consumer's output so far.
std::uint64_t records_in(const child_process& consumer) {
    return consumer.out().size() / (child_message_size + 1);
}

} // namespace

BOOST_AUTO_TEST_SUITE(nats_apps)

BOOST_AUTO_TEST_CASE(two_hundred_thousand_messages_arrive_verified) {
    nats_servers servers;
    const auto uri = servers.uri(unique_subject("apps"));
    child_process consumer(consumer_app, {uri, "--verify", "--quiet"});
    child_process producer(producer_app, {uri, "--generate", "200000", "--size", "64"});
    BOOST_TEST(producer.wait() == 0, producer.err());
    BOOST_TEST(consumer.wait() == 0, consumer.err());
    BOOST_TEST(contains(consumer.err(), "received 200000 messages from 1 producers: 0 lost, 0 "
                                        "duplicated, 0 corrupt"),
               consumer.err());
    BOOST_TEST_MESSAGE("nats_apps 200000: " << consumer.err());
}

BOOST_AUTO_TEST_CASE(a_consumer_killed_twice_mid_stream_loses_nothing) {
    nats_servers servers;
    // ack_wait 1 s: what a killed consumer held comes back soon.
    const auto uri = servers.uri(unique_subject("killed"), 0, "ack_wait=1");
    constexpr std::uint64_t total = 30'000;
    constexpr std::uint64_t per_consumer_before_kill = 5'000;
    // Paced: at least 3 s of stream, and each kill comes after 5,000 more messages, with at
    // least 20,000 still to come; the stream cannot end before either kill.
    child_process producer(producer_app, {uri, "--generate", std::to_string(total), "--size",
                                          std::to_string(child_message_size), "--rate", "10000"});
    std::vector<std::unique_ptr<child_process>> consumers;
    for (int kill = 0; kill < 2; ++kill) {
        consumers.push_back(std::make_unique<child_process>(self, acking_consumer_args(uri)));
        auto& c = *consumers.back();
        BOOST_REQUIRE(eventually_reaches([&] { return records_in(c); }, per_consumer_before_kill));
        BOOST_TEST(!process_gone(producer.pid())); // mid-stream
        c.signal(SIGKILL);
        BOOST_TEST(c.wait() == 128 + SIGKILL);
    }
    consumers.push_back(std::make_unique<child_process>(self, acking_consumer_args(uri)));
    BOOST_TEST(producer.wait() == 0, producer.err());
    BOOST_TEST(consumers.back()->wait() == 0, consumers.back()->err());

    stream_verifier all;
    for (const auto& c : consumers)
        verify_output(c->out(), child_message_size, all);
    const auto summary = all.result();
    BOOST_TEST_MESSAGE("nats_apps killed twice: " << stream_verifier::describe(summary) << "; "
                                                  << consumers[1]->err() << "; "
                                                  << consumers[2]->err());
    BOOST_TEST(summary.lost == 0u);
    BOOST_TEST(summary.corrupt == 0u);
    // Written and killed before the acknowledgement: at most a batch per kill comes twice.
    BOOST_TEST(summary.duplicated <= 2u * 256u);
    BOOST_TEST(summary.messages >= total);
}

BOOST_AUTO_TEST_CASE(the_apps_name_a_bad_endpoint_and_a_missing_server) {
    nats_servers servers;
    auto r = run(producer_app, {"nats://127.0.0.1:1/orders", "--timeout", "1"}, "hi\n");
    BOOST_TEST(r.status == 70);
    BOOST_TEST(contains(r.err, "no NATS server answered at nats://127.0.0.1:1 within 1 s"), r.err);
    r = run(consumer_app, {"nats://127.0.0.1:1/orders", "--timeout", "1"});
    BOOST_TEST(r.status == 70);
    BOOST_TEST(contains(r.err, "no NATS server answered"), r.err);
    r = run(producer_app, {servers.uri("orders.*")}, "hi\n");
    BOOST_TEST(r.status == 64);
    BOOST_TEST(contains(r.err, "wildcard"), r.err);
    r = run(consumer_app, {servers.uri("orders", 0, "replicas=7")});
    BOOST_TEST(r.status == 64);
    BOOST_TEST(contains(r.err, "?replicas=7: expected a number of replicas from 1 to 5"), r.err);
    // Lines through nats:// both ways, stdin to stdout.
    const auto uri = servers.uri(unique_subject("lines"));
    child_process consumer(consumer_app, {uri});
    r = run(producer_app, {uri}, "first\nsecond\n");
    BOOST_TEST(r.status == 0, r.err);
    BOOST_TEST(consumer.wait() == 0, consumer.err());
    BOOST_TEST(consumer.out() == "first\nsecond\n");
}

BOOST_AUTO_TEST_SUITE_END()
