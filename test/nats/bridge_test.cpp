// Both sides of a WAN through conveyor-bridge, as issue 12 asks: producer -> shm://A ->
// bridge -> nats:// -> bridge -> shm://B -> consumer, each bridge SIGKILLed once mid-stream
// and restarted; nothing lost, at most one bridge batch twice per kill.
#include "servers.hpp"

#include "support/apps.hpp"
#include "support/child_process.hpp"
#include "support/temporary_names.hpp"

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <memory>

using namespace conveyor;
using namespace conveyor::test;

namespace {

constexpr std::size_t message_size = 64;
constexpr std::uint64_t bridge_batch = 256; // apps/bridge: default_batch

std::uint64_t records_in(const child_process& consumer) {
    return consumer.out_size() / (message_size + 1);
}

} // namespace

BOOST_AUTO_TEST_SUITE(nats_bridge)

BOOST_AUTO_TEST_CASE(both_bridges_killed_once_mid_stream_lose_nothing) {
    nats_servers servers;
    scratch_segment a("wan-a");
    scratch_segment b("wan-b");
    // ack_wait 1 s: what the killed receiving bridge held comes back soon.
    const auto hub = servers.uri(unique_subject("wan"), 0, "ack_wait=1");
    constexpr std::uint64_t total = 20'000;
    const std::vector<std::string> sending{a.uri(), hub};
    const std::vector<std::string> receiving{hub, b.uri()};

    child_process consumer(consumer_app, {b.uri()});
    // A producer that sends nothing holds A's stream open until the kills are done, so that
    // no kill races the stream's end, however fast the machine.
    child_process holder(held_input, producer_app, {a.uri()});
    child_process producer(producer_app, {a.uri(), "--generate", std::to_string(total), "--size",
                                          std::to_string(message_size), "--rate", "5000"});
    auto sender = std::make_unique<child_process>(bridge_app, sending);
    auto receiver = std::make_unique<child_process>(bridge_app, receiving);

    BOOST_REQUIRE(eventually([&] { return records_in(consumer) >= 2'000; }));
    sender->signal(SIGKILL);
    BOOST_TEST(sender->wait() == 128 + SIGKILL);
    sender = std::make_unique<child_process>(bridge_app, sending);

    BOOST_REQUIRE(eventually([&] { return records_in(consumer) >= 6'000; }));
    receiver->signal(SIGKILL);
    BOOST_TEST(receiver->wait() == 128 + SIGKILL);
    receiver = std::make_unique<child_process>(bridge_app, receiving);

    BOOST_TEST(producer.wait() == 0, producer.err());
    holder.close_input();
    BOOST_TEST(holder.wait() == 0, holder.err());
    BOOST_TEST(sender->wait() == 0, sender->err());
    BOOST_TEST(receiver->wait() == 0, receiver->err());
    BOOST_TEST(consumer.wait() == 0, consumer.err());

    stream_verifier verifier;
    verify_output(consumer.out(), message_size, verifier);
    const auto summary = verifier.result();
    BOOST_TEST_MESSAGE("nats_bridge: 1 sending bridge kill, 1 receiving bridge kill; "
                       << stream_verifier::describe(summary));
    BOOST_TEST(summary.lost == 0u);
    BOOST_TEST(summary.corrupt == 0u);
    BOOST_TEST(summary.producers == 1u);
    BOOST_TEST(summary.messages >= total);
    BOOST_TEST(summary.duplicated <= 2u * bridge_batch);
}

BOOST_AUTO_TEST_SUITE_END()
