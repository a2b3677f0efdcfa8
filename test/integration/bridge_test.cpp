// conveyor-bridge as users run it: a chain killed over and over loses nothing, a message TO
// cannot take stops it and stays in FROM, SIGTERM ends TO's stream and SIGKILL pauses it.
#include "kill_chain.hpp"

#include "support/apps.hpp"
#include "support/child_process.hpp"
#include "support/temporary_names.hpp"

#include <conveyor/endpoint.hpp>
#include <conveyor/shm/queue.hpp>
#include <conveyor/shm/segment.hpp>

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <fstream>
#include <sstream>

using namespace conveyor;
using namespace conveyor::test;

namespace {

// Messages the bridges of these tests take at a time: a killed bridge sends at most that
// many twice.
constexpr std::uint64_t bridge_batch = 100;
constexpr std::size_t message_size = 64;

std::uint64_t sent_to(const scratch_segment& s) {
    std::error_code ec;
    return shm::inspect_segment(s.name(), ec).sent;
}

// The line of text that starts with start, without its newline; empty if none does.
std::string line_with(const std::string& text, const std::string& start) {
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
        if (line.rfind(start, 0) == 0) return line;
    return {};
}

} // namespace

BOOST_AUTO_TEST_SUITE(bridge)

BOOST_AUTO_TEST_CASE(a_consumer_killed_20_times_and_bridges_killed_6_times_lose_nothing) {
    const auto seed = test_seed();
    BOOST_TEST_MESSAGE("shm chain: seed " << seed << " (CONVEYOR_TEST_SEED=" << seed
                                          << " replays the schedule)");
    scratch_segment to("chain-to");
    chain_plan plan;
    plan.to = to.uri();
    plan.bridge_options = {"--batch", std::to_string(bridge_batch)};
    plan.bridge_kills = 6;
    kill_chain chain(plan, seed);
    chain.start();
    chain.run_steps();
    chain.close_source();
    chain.expect_clean_ends();

    const auto d = chain.delivered();
    BOOST_TEST_MESSAGE("shm chain: " << chain.consumer_kills() << " consumer kills, "
                                     << chain.bridge_kills()
                                     << " bridge kills: " << stream_verifier::describe(d.summary)
                                     << ", " << d.summary.out_of_order << " out of order");
    BOOST_TEST(chain.consumer_kills() == 20u);
    BOOST_TEST(chain.bridge_kills() == 6u);
    BOOST_TEST(d.distinct == plan.steps * plan.per_step);
    BOOST_TEST(d.summary.lost == 0u);
    BOOST_TEST(d.summary.corrupt == 0u);
    BOOST_TEST(d.summary.out_of_order == 0u);
    BOOST_TEST(d.summary.duplicated <=
               chain.consumer_kills() * consumer_batch + chain.bridge_kills() * bridge_batch);
    const auto b = shm::inspect_segment(to.name());
    BOOST_TEST(b.depth_bytes == 0u);
    BOOST_TEST(b.unacknowledged_bytes == 0u);
}

BOOST_AUTO_TEST_CASE(a_message_too_large_for_to_stops_the_bridge_and_stays_in_from) {
    scratch_segment from("large-from"), to("large-to");
    // Ten short lines, one longer than TO takes, five short ones: one batch for the bridge.
    std::string input, before, after;
    for (int i = 1; i <= 10; ++i)
        before += "line " + std::to_string(i) + '\n';
    const std::string large(2000, 'x');
    for (int i = 11; i <= 15; ++i)
        after += "line " + std::to_string(i) + '\n';
    BOOST_REQUIRE(run(producer_app, {from.uri()}, before + large + '\n' + after).status == 0);

    const std::vector<std::string> args{from.uri(), to.uri(),     "--max-message",
                                        "1K",       "--capacity", "64K"};
    const auto first = run(bridge_app, args);
    BOOST_TEST(first.status == 70, first.err);
    const std::string refusal = line_with(first.err, "conveyor-bridge: a message of");
    BOOST_TEST_MESSAGE("too large: " << refusal);
    BOOST_TEST(contains(refusal, "a message of 2000 bytes"), first.err);
    BOOST_TEST(contains(refusal, "from " + from.uri()), first.err);
    BOOST_TEST(contains(refusal, "the 1024-byte maximum of " + to.uri()), first.err);
    BOOST_TEST(contains(refusal, "it stays in " + from.uri()), first.err);
    BOOST_TEST(sent_to(to) == 10u); // the lines before it, once

    // No loop: a restarted bridge stops at the same message with the same words, and sends
    // nothing twice.
    const auto second = run(bridge_app, args);
    BOOST_TEST(second.status == 70, second.err);
    BOOST_TEST(line_with(second.err, "conveyor-bridge: a message of") == refusal);
    BOOST_TEST(sent_to(to) == 10u);

    // FROM holds it, unacknowledged, with what followed it.
    const auto held = shm::inspect_segment(from.name());
    BOOST_TEST(held.orphaned_consumers == 1u);
    BOOST_TEST(held.unacknowledged_bytes > large.size());
    // TO's stream is paused, not ended: its consumer gets what came before, then waits.
    const auto to_consumer = run(consumer_app, {to.uri(), "--timeout", "1"});
    BOOST_TEST(to_consumer.status == 2, to_consumer.err);
    BOOST_TEST(to_consumer.out == before);
    // And FROM's consumer takes the large message first, then the rest, to the end.
    const auto from_consumer = run(consumer_app, {from.uri(), "--timeout", "10"});
    BOOST_TEST(from_consumer.status == 0, from_consumer.err);
    BOOST_TEST(from_consumer.out == large + '\n' + after);
}

BOOST_AUTO_TEST_CASE(sigkill_pauses_to_until_a_restarted_bridge_and_sigterm_ends_it) {
    scratch_segment from("pause-from"), to("pause-to");
    constexpr std::uint64_t total = 2000;
    // The test's own producer holds FROM's stream open: only the bridge's stop ends TO's.
    shm::queue_sender holder(endpoint::parse(from.uri()));
    child_process producer(producer_app, {from.uri(), "--generate", std::to_string(total), "--size",
                                          std::to_string(message_size), "--rate", "2000"});
    const std::vector<std::string> args{from.uri(), to.uri(), "--batch",
                                        std::to_string(bridge_batch)};
    child_process first_bridge(bridge_app, args);
    BOOST_REQUIRE(eventually([&] { return sent_to(to) > 0; }));
    child_process waiting(consumer_app, {to.uri(), "--timeout", "1"});
    BOOST_REQUIRE(eventually([&] { return waiting.out_size() > message_size; }));

    // SIGKILL: the consumer sees no end of stream; it waits until its --timeout.
    first_bridge.signal(SIGKILL);
    BOOST_TEST(first_bridge.wait() == 128 + SIGKILL);
    BOOST_TEST(waiting.wait() == 2, waiting.err());
    BOOST_TEST(contains(waiting.err(), "no message for 1 s; giving up"), waiting.err());
    BOOST_TEST(shm::inspect_segment(to.name()).paused_producers == 1u);

    // A consumer that starts while no bridge runs waits for the next one.
    child_process patient(consumer_app, {to.uri()});
    BOOST_REQUIRE(eventually([&] { return shm::inspect_segment(to.name()).consumers == 1; }));
    child_process second_bridge(bridge_app, args);
    BOOST_TEST(producer.wait() == 0, producer.err());
    // Everything bridged and acknowledged: FROM drained and nothing leased.
    BOOST_REQUIRE(eventually([&] {
        const auto f = shm::inspect_segment(from.name());
        return f.depth_bytes == 0 && f.unacknowledged_bytes == 0 && f.orphaned_consumers == 0;
    }));

    // SIGTERM: TO's stream ends, and its consumer sees the end.
    second_bridge.signal(SIGTERM);
    BOOST_TEST(second_bridge.wait() == 0, second_bridge.err());
    BOOST_TEST(
        contains(second_bridge.err(), "stopped by signal 15; " + to.uri() + "'s stream closed"),
        second_bridge.err());
    BOOST_TEST(patient.wait() == 0, patient.err());

    stream_verifier both;
    verify_output(waiting.out(), message_size, both);
    verify_output(patient.out(), message_size, both);
    const auto summary = both.result();
    BOOST_TEST_MESSAGE(
        "pause and stop: 1 bridge kill, 1 SIGTERM: " << stream_verifier::describe(summary));
    BOOST_TEST(summary.lost == 0u);
    BOOST_TEST(summary.corrupt == 0u);
    BOOST_TEST(summary.out_of_order == 0u);
    BOOST_TEST(summary.duplicated <= bridge_batch);
}

BOOST_AUTO_TEST_CASE(from_a_pipe_without_acknowledgement_every_message_arrives) {
    scratch_segment to("pipe-to");
    // A shell pipeline, as a user writes it.
    const auto bridged = run("/bin/sh", {"-c", producer_app + " pipe: --generate 1000 --size " +
                                                   std::to_string(message_size) + " | " +
                                                   bridge_app + " pipe: " + to.uri()});
    BOOST_TEST(bridged.status == 0, bridged.err);
    BOOST_TEST(contains(bridged.err, "conveyor-bridge: bridged 1000 messages, 64000 bytes in"),
               bridged.err);
    const auto consumer = run(consumer_app, {to.uri(), "--verify", "--quiet"});
    BOOST_TEST(consumer.status == 0, consumer.err);
    BOOST_TEST(contains(consumer.err, "received 1000 messages from 1 producers: 0 lost, 0 "
                                      "duplicated, 0 corrupt, 0 redelivered"),
               consumer.err);
}

BOOST_AUTO_TEST_CASE(bad_usage_is_refused_with_exit_64_naming_what_is_wrong) {
    struct refusal {
        std::vector<std::string> args;
        std::string says;
    };
    scratch_segment a("usage-a"), b("usage-b");
    const std::vector<refusal> refusals{
        {{}, "missing FROM and TO"},
        {{a.uri()}, "missing TO"},
        {{a.uri(), a.uri()}, a.uri() + " is both FROM and TO"},
        {{a.uri(), "pipe:", "--name", "n"}, "--name: only when TO is shm://, file://"},
        {{a.uri(), b.uri(), "--name", ""}, "--name: the name is empty"},
        {{"nosuch://x", a.uri()}, "endpoint 'nosuch://x': unknown scheme"},
        {{a.uri(), "file://relative"},
         "endpoint 'file://relative': the file path must be absolute"},
        {{a.uri(), b.uri(), b.uri()}, "too many positional options"},
        {{a.uri(), b.uri(), "--sync", "sometimes"}, "--sync: 'sometimes' is not none"},
    };
    for (const auto& r : refusals) {
        const auto result = run(bridge_app, r.args);
        BOOST_TEST(result.status == 64, result.err);
        BOOST_TEST(contains(result.err, "conveyor-bridge: " + r.says), result.err);
        BOOST_TEST(contains(result.err, "(see conveyor-bridge --help)"), result.err);
    }
    // Nothing was opened, so nothing was created.
    BOOST_TEST(!std::ifstream(a.path()).good());
    BOOST_TEST(!std::ifstream(b.path()).good());
}

BOOST_AUTO_TEST_CASE(a_to_that_cannot_be_opened_leaves_from_as_it_was) {
    scratch_segment from("refused-from"), foreign("refused-to");
    const std::string contents = "another program's file\n";
    std::ofstream(foreign.path()) << contents;
    BOOST_REQUIRE(run(producer_app, {from.uri(), "--generate", "50", "--size", "64"}).status == 0);
    const auto result = run(bridge_app, {from.uri(), foreign.uri()});
    BOOST_TEST(result.status == 70, result.err);
    BOOST_TEST(contains(result.err, "is not a conveyor segment"), result.err);
    const auto consumer = run(consumer_app, {from.uri(), "--verify", "--quiet", "--timeout", "10"});
    BOOST_TEST(contains(consumer.err, "received 50 messages from 1 producers: 0 lost, 0 "
                                      "duplicated, 0 corrupt, 0 redelivered"),
               consumer.err);
    std::ifstream in(foreign.path());
    BOOST_TEST(std::string(std::istreambuf_iterator<char>(in), {}) == contents);
}

BOOST_AUTO_TEST_CASE(two_live_bridges_of_one_name_are_refused) {
    scratch_segment from("twice-from"), to("twice-to");
    shm::queue_sender holder(endpoint::parse(from.uri())); // keeps the first bridge running
    child_process first(bridge_app, {from.uri(), to.uri()});
    BOOST_REQUIRE(eventually([&] {
        std::error_code ec;
        return shm::inspect_segment(to.name(), ec).producers == 1;
    }));
    const auto second = run(bridge_app, {from.uri(), to.uri()});
    BOOST_TEST(second.status == 70, second.err);
    BOOST_TEST(contains(second.err, "is attached already (process " + std::to_string(first.pid())),
               second.err);
    first.signal(SIGTERM);
    BOOST_TEST(first.wait() == 0, first.err());
}

BOOST_AUTO_TEST_SUITE_END()
