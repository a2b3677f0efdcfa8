// Both sides of a WAN through the bridge: shm://A → conveyor-bridge → nats:// →
// conveyor-bridge → shm://B, each bridge SIGKILLed once mid-stream and restarted under its
// default name, one verifying consumer at the end.
#include "servers.hpp"

#include "support/apps.hpp"
#include "support/child_process.hpp"
#include "support/temporary_names.hpp"

#include <conveyor/shm/segment.hpp>

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <memory>
#include <string>
#include <vector>

using namespace conveyor;
using namespace conveyor::test;

namespace {

constexpr std::uint64_t total = 60'000;
// Paced, so that the kills land while messages flow; A's stream is held open besides by a
// producer that sends nothing (holder below), so that no kill races its end, however slow
// the machine (ASan, a busy server).
constexpr const char* rate = "10000";
constexpr std::uint64_t bridge_batch = 256;

std::uint64_t taken_from(const scratch_segment& segment) {
    std::error_code ec;
    const auto info = shm::inspect_segment(segment.name(), ec);
    return ec ? 0 : info.received;
}

std::uint64_t sent_into(const scratch_segment& segment) {
    std::error_code ec;
    const auto info = shm::inspect_segment(segment.name(), ec);
    return ec ? 0 : info.sent;
}

void kill_and_reap(child_process& victim, const char* what) {
    victim.signal(SIGKILL);
    BOOST_TEST(victim.wait() == 128 + SIGKILL, what << " died by itself first: " << victim.err());
}

} // namespace

BOOST_AUTO_TEST_SUITE(nats_bridge)

BOOST_AUTO_TEST_CASE(shm_to_nats_to_shm_with_each_bridge_killed_once_loses_nothing) {
    nats_servers servers;
    // ack_wait 1 s: what the killed far bridge held comes back soon.
    const auto hub = servers.uri(unique_subject("wan"), 0, "ack_wait=1");
    scratch_segment near("wan-near"), far("wan-far");
    const std::vector<std::string> near_bridge{near.uri(), hub, "--batch",
                                               std::to_string(bridge_batch)};
    const std::vector<std::string> far_bridge{hub, far.uri(), "--batch",
                                              std::to_string(bridge_batch)};

    child_process consumer(consumer_app, {far.uri(), "--verify", "--quiet"});
    std::vector<std::unique_ptr<child_process>> outbound, inbound;
    inbound.push_back(std::make_unique<child_process>(bridge_app, far_bridge));
    outbound.push_back(std::make_unique<child_process>(bridge_app, near_bridge));
    child_process holder(held_input, producer_app, {near.uri()});
    child_process producer(producer_app, {near.uri(), "--generate", std::to_string(total), "--size",
                                          "64", "--rate", rate});

    // Where the flow stood, for a failure: the counts and what the bridges said.
    const auto flow = [&] {
        return std::to_string(taken_from(near)) + " taken from shm://A, " +
               std::to_string(sent_into(far)) +
               " sent into shm://B; near bridge: " + outbound.back()->err() +
               "; far bridge: " + inbound.back()->err();
    };
    // The near bridge, once a third of the stream has left shm://A through it. A loaded
    // machine may take long to get there: only a flow that stopped fails.
    BOOST_REQUIRE_MESSAGE(eventually_moving([&] { return taken_from(near) >= total / 3; },
                                            [&] { return taken_from(near); }),
                          "the flow stopped for a minute: " << flow());
    kill_and_reap(*outbound.back(), "the near bridge");
    outbound.push_back(std::make_unique<child_process>(bridge_app, near_bridge));

    // The far bridge, once two thirds have reached shm://B through it.
    BOOST_REQUIRE_MESSAGE(eventually_moving([&] { return sent_into(far) >= 2 * total / 3; },
                                            [&] { return sent_into(far) + taken_from(near); }),
                          "the flow stopped for a minute: " << flow());
    kill_and_reap(*inbound.back(), "the far bridge");
    inbound.push_back(std::make_unique<child_process>(bridge_app, far_bridge));

    BOOST_TEST(producer.wait() == 0, producer.err());
    holder.close_input(); // A's stream ends: the bridges end theirs in turn
    BOOST_TEST(holder.wait() == 0, holder.err());
    BOOST_TEST(outbound.back()->wait() == 0, outbound.back()->err());
    BOOST_TEST(inbound.back()->wait() == 0, inbound.back()->err());
    // Duplicates make --verify exit 1; what counts is the summary.
    const int status = consumer.wait();
    BOOST_TEST((status == 0 || status == 1), consumer.err());
    const auto& report = consumer.err();
    BOOST_TEST_MESSAGE("nats_bridge: 1 near bridge kill, 1 far bridge kill: " << report);
    BOOST_TEST(contains(report, "received "), report);
    BOOST_TEST(contains(report, " 0 lost, "), report);
    BOOST_TEST(contains(report, " 0 corrupt"), report);
    const auto duplicated = last_number_after(report, "lost,");
    BOOST_TEST(duplicated >= 0);
    BOOST_TEST(duplicated <= static_cast<long long>(2 * bridge_batch), report);
}

BOOST_AUTO_TEST_SUITE_END()
