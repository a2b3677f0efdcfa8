// A three-server cluster with a stream of three replicas: the server a producer is connected
// to dies mid-stream and comes back; the producer fails over and resends what was not
// confirmed, and the verifying consumer sees every message once.
#include "plain_client.hpp"
#include "servers.hpp"

#include "support/apps.hpp"
#include "support/child_process.hpp"

#include <conveyor/open.hpp>

#include <boost/test/unit_test.hpp>

#include <csignal>

using namespace conveyor;
using namespace conveyor::test;

BOOST_AUTO_TEST_SUITE(nats_cluster)

BOOST_AUTO_TEST_CASE(the_producers_server_killed_mid_stream_loses_and_duplicates_nothing) {
    nats_servers servers(3);
    const auto subject = unique_subject("cluster");
    std::string stream = subject;
    for (char& c : stream)
        c = c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const std::string query = "replicas=3&ack_wait=2";
    // The stream, its durable and the producer registry first, so that their leaders are
    // known: the server killed is the producer's own, and leads neither (its death then
    // tests the producer's failover, not a leader election).
    open_receiver(endpoint::parse(servers.uri(subject, 0, query)));
    std::size_t producer_server = servers.size();
    std::size_t consumer_server = 0;
    {
        plain_client look(servers.url(0));
        const auto stream_leader = look.facts(stream).leader;
        const auto durable_leader = look.durable_leader(stream, "conveyor-" + stream);
        for (std::size_t i = 0; i < servers.size(); ++i)
            if (nats_servers::name(i) != stream_leader && nats_servers::name(i) != durable_leader)
                producer_server = i;
        BOOST_REQUIRE(producer_server < servers.size());
        consumer_server = (producer_server + 1) % servers.size();
        BOOST_TEST_MESSAGE("stream leader "
                           << stream_leader << ", durable leader " << durable_leader
                           << ", producer on " << nats_servers::name(producer_server)
                           << ", consumer on " << nats_servers::name(consumer_server));
    }
    constexpr std::uint64_t total = 20'000;
    child_process consumer(consumer_app,
                           {servers.uri(subject, consumer_server, query), "--verify", "--quiet"});
    // The kill comes once 5,000 messages are in the stream and the restart after 10,000:
    // the producer cannot run ahead of the stream by more than the batch whose confirmation
    // it waits for (64 messages), so the stream is open at the kill.
    child_process producer(producer_app, {servers.uri(subject, producer_server, query),
                                          "--generate", std::to_string(total), "--size", "64"});
    plain_client look(servers.url(consumer_server));
    BOOST_REQUIRE(eventually_reaches([&] { return look.facts(stream).messages; }, 5'000));
    BOOST_TEST(!process_gone(producer.pid())); // mid-stream
    servers.signal(producer_server, SIGKILL);
    BOOST_REQUIRE(eventually_reaches([&] { return look.facts(stream).messages; }, 10'000));
    servers.restart(producer_server);
    BOOST_TEST(producer.wait() == 0, producer.err());
    BOOST_TEST(consumer.wait() == 0, consumer.err());
    BOOST_TEST_MESSAGE("nats_cluster: " << consumer.err());
    BOOST_TEST(contains(consumer.err(), "received 20000 messages from 1 producers: 0 lost, 0 "
                                        "duplicated, 0 corrupt"),
               consumer.err());
    BOOST_TEST(look.facts(stream).messages == total);
}

BOOST_AUTO_TEST_SUITE_END()
