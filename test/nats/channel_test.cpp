// nats:// through the library against a real nats-server: what the stream is, back-pressure,
// end of stream, shared durables, redelivery, named producers, plain NATS clients, errors.
#include "children.hpp"
#include "plain_client.hpp"
#include "servers.hpp"

#include "support/child_process.hpp"

#include <conveyor/error.hpp>
#include <conveyor/generated_message.hpp>
#include <conveyor/open.hpp>

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <filesystem>
#include <optional>
#include <set>
#include <thread>

using namespace conveyor;
using namespace conveyor::test;
using namespace std::chrono_literals;

namespace {

const std::string self = std::filesystem::read_symlink("/proc/self/exe");

// The stream a subject gets by default.
std::string stream_of(std::string subject) {
    for (char& c : subject)
        c = c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return subject;
}

std::vector<std::byte> bytes_of(std::string_view text) {
    const auto* p = reinterpret_cast<const std::byte*>(text.data());
    return {p, p + text.size()};
}

std::string text_of(bytes_view bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Sends count generated messages of size bytes, in batches of 64 as conveyor-producer does.
void send_generated(sender& out, std::size_t count, std::size_t size = 64) {
    constexpr std::size_t per_batch = 64;
    const message_generator make(make_producer_id(), size, count);
    std::vector<std::vector<std::byte>> slots(per_batch, std::vector<std::byte>(size));
    std::vector<bytes_view> batch;
    for (std::size_t i = 0; i < count;) {
        batch.clear();
        for (; batch.size() < per_batch && i < count; ++i) {
            make.make(i, slots[batch.size()]);
            batch.push_back(slots[batch.size()]);
        }
        for (std::size_t sent = 0; sent < batch.size();)
            sent += out.send_batch(std::span(batch).subspan(sent), forever);
    }
}

// Receives into verifier until end of stream: the number of messages, or nothing when no end
// came within limit. Asserts nothing, so that threads may call it.
std::optional<std::size_t> take_until_end(receiver& in, stream_verifier& verifier,
                                          std::chrono::seconds limit = std::chrono::seconds(60)) {
    message_batch batch;
    std::size_t got = 0;
    const auto give_up = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < give_up) {
        const auto status = in.receive_batch(batch, 256, 100ms);
        if (status == receive_status::end_of_stream) return got;
        for (std::size_t i = 0; i < batch.size(); ++i)
            verifier.observe(batch[i]);
        got += batch.size();
    }
    return std::nullopt;
}

// take_until_end on the test's own thread: fails the test when no end came.
std::size_t drain(receiver& in, stream_verifier& verifier) {
    const auto got = take_until_end(in, verifier);
    BOOST_REQUIRE_MESSAGE(got, "no end of stream within 60 s");
    return *got;
}

std::string refusal_of_sender(const std::string& uri, const channel_options& options,
                              std::error_code& ec) {
    std::string why;
    auto s = open_sender(endpoint::parse(uri), options, ec, &why);
    BOOST_TEST(!s);
    return why;
}

} // namespace

BOOST_AUTO_TEST_SUITE(nats_channel)

BOOST_AUTO_TEST_CASE(messages_arrive_in_order_and_the_stream_is_plain_jetstream) {
    nats_servers servers;
    const auto subject = unique_subject("plain");
    const auto where = endpoint::parse(servers.uri(subject));
    auto in = open_receiver(where); // first: it creates the stream and waits
    auto out = open_sender(where);
    for (const char* text : {"alpha", "", "gamma"})
        out->send(bytes_of(text));
    send_generated(*out, 1000);
    out->close();

    std::vector<std::byte> m;
    for (const char* text : {"alpha", "", "gamma"}) {
        BOOST_REQUIRE((in->receive_for(m, 10s) == receive_status::message));
        BOOST_TEST(text_of(m) == text);
        BOOST_TEST(!in->redelivered());
    }
    stream_verifier verifier;
    BOOST_TEST(drain(*in, verifier) == 1000u);
    BOOST_TEST(verifier.result().ok(), stream_verifier::describe(verifier.result()));

    plain_client plain(servers.url());
    const auto facts = plain.facts(stream_of(subject));
    BOOST_TEST(facts.file_storage);
    BOOST_TEST(facts.limits_retention); // consumed messages stay for any other reader
    BOOST_TEST(facts.discard_new);
    BOOST_TEST(facts.replicas == 1);
    BOOST_TEST(facts.messages == 1003u);
    // Any NATS client reads the payloads as they were sent.
    BOOST_TEST(plain.read(stream_of(subject), 3) ==
               (std::vector<std::string>{"alpha", "", "gamma"}));
}

BOOST_AUTO_TEST_CASE(messages_of_plain_nats_clients_reach_a_receiver) {
    nats_servers servers;
    const auto subject = unique_subject("foreign");
    auto in = open_receiver(endpoint::parse(servers.uri(subject)));
    plain_client(servers.url()).publish(subject, {"one", "two", std::string(5000, 'x')});
    std::vector<std::byte> m;
    for (const std::string& expected :
         {std::string("one"), std::string("two"), std::string(5000, 'x')}) {
        BOOST_REQUIRE((in->receive_for(m, 10s) == receive_status::message));
        BOOST_TEST(text_of(m) == expected);
    }
    // No conveyor producer attached: the receiver keeps waiting for one.
    BOOST_TEST((in->receive_for(m, 300ms) == receive_status::empty));
}

BOOST_AUTO_TEST_CASE(a_full_window_blocks_send_and_refuses_try_send) {
    nats_servers servers;
    const auto subject = unique_subject("window");
    const auto where = endpoint::parse(servers.uri(subject));
    auto in = open_receiver(where);
    channel_options options;
    options.sync = sync_policy::none; // sends return once in the window
    auto out = open_sender(where, options);
    const message_generator make(make_producer_id(), 64, 10'000);
    std::vector<std::byte> m(64);
    std::size_t sent = 0;
    // A server that hangs confirms nothing: the window fills, and stays full once the
    // confirmations already on their way have come.
    servers.signal(0, SIGSTOP);
    for (; sent < 10'000; ++sent) {
        make.make(sent, m);
        if (!out->try_send(m)) break;
    }
    // The window: max_unconfirmed (and those confirmed before the server stopped).
    BOOST_TEST(sent >= 4096u);
    for (; sent < 10'000; ++sent) {
        make.make(sent, m);
        if (!out->send_for(m, 200ms)) break;
    }
    BOOST_TEST(sent < 10'000u);
    servers.signal(0, SIGCONT);
    // The server answers again (or after a reconnect, the window is sent again): room.
    out->send(m);
    ++sent;
    for (; sent < 10'000; ++sent) {
        make.make(sent, m);
        out->send(m);
    }
    out->close();
    stream_verifier verifier;
    BOOST_TEST(drain(*in, verifier) == 10'000u);
    BOOST_TEST(verifier.result().ok(), stream_verifier::describe(verifier.result()));
}

BOOST_AUTO_TEST_CASE(end_of_stream_waits_for_the_producers_asked_for) {
    nats_servers servers;
    const auto where = endpoint::parse(servers.uri(unique_subject("producers")));
    channel_options two;
    two.min_producers = 2;
    auto in = open_receiver(where, two);
    stream_verifier verifier;
    {
        auto first = open_sender(where);
        send_generated(*first, 100);
    } // destroyed: closed
    message_batch batch;
    std::size_t got = 0;
    // One producer came and went: the stream goes on for the second.
    const auto until = std::chrono::steady_clock::now() + 1500ms;
    while (std::chrono::steady_clock::now() < until) {
        const auto status = in->receive_batch(batch, 256, 100ms);
        BOOST_REQUIRE((status != receive_status::end_of_stream));
        for (std::size_t i = 0; i < batch.size(); ++i)
            verifier.observe(batch[i]);
        got += batch.size();
    }
    BOOST_TEST(got == 100u);
    auto second = open_sender(where);
    send_generated(*second, 100);
    second->close();
    BOOST_TEST(drain(*in, verifier) == 100u);
    BOOST_TEST(verifier.result().producers == 2u);
    BOOST_TEST(verifier.result().ok(), stream_verifier::describe(verifier.result()));
}

BOOST_AUTO_TEST_CASE(receivers_sharing_a_durable_split_the_messages) {
    nats_servers servers;
    const auto where = endpoint::parse(servers.uri(unique_subject("shared")));
    auto a = open_receiver(where);
    auto b = open_receiver(where);
    stream_verifier from_a, from_b;
    std::optional<std::size_t> got_a, got_b;
    std::thread take_a([&] { got_a = take_until_end(*a, from_a); });
    std::thread take_b([&] { got_b = take_until_end(*b, from_b); });
    auto out = open_sender(where);
    send_generated(*out, 20'000);
    out->close();
    take_a.join();
    take_b.join();
    BOOST_REQUIRE_MESSAGE(got_a && got_b, "a receiver saw no end of stream within 60 s");
    // Each message went to one of them: their counts add up, with no sequence twice.
    BOOST_TEST(*got_a + *got_b == 20'000u);
    BOOST_TEST(from_a.result().duplicated + from_b.result().duplicated == 0u);
    BOOST_TEST(*got_a > 0u);
    BOOST_TEST(*got_b > 0u);
}

BOOST_AUTO_TEST_CASE(receivers_opening_at_once_make_one_stream_and_share_it) {
    nats_servers servers;
    const auto where = endpoint::parse(servers.uri(unique_subject("at-once")));
    // All four find no stream and create it, the durable and the registry together.
    std::vector<std::unique_ptr<receiver>> receivers(4);
    std::vector<std::string> failures(receivers.size());
    std::vector<std::thread> openers;
    for (std::size_t i = 0; i < receivers.size(); ++i)
        openers.emplace_back([&, i] {
            std::error_code ec;
            receivers[i] = open_receiver(where, {}, ec, &failures[i]);
        });
    for (auto& t : openers)
        t.join();
    for (std::size_t i = 0; i < receivers.size(); ++i)
        BOOST_REQUIRE_MESSAGE(receivers[i], failures[i]);
    std::vector<std::optional<std::size_t>> got(receivers.size());
    std::vector<stream_verifier> verifiers(receivers.size());
    std::vector<std::thread> takers;
    for (std::size_t i = 0; i < receivers.size(); ++i)
        takers.emplace_back([&, i] { got[i] = take_until_end(*receivers[i], verifiers[i]); });
    auto out = open_sender(where);
    send_generated(*out, 1000);
    out->close();
    for (auto& t : takers)
        t.join();
    // A durable made while another opener's stream was half made delivers nothing: then no
    // receiver sees the end (docs/nats.md, "Openers that race").
    std::size_t total = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
        BOOST_REQUIRE_MESSAGE(got[i], "receiver " << i << " saw no end of stream within 60 s");
        total += *got[i];
    }
    BOOST_TEST(total == 1000u);
}

BOOST_AUTO_TEST_CASE(what_a_receiver_did_not_acknowledge_comes_back_marked_redelivered) {
    nats_servers servers;
    const auto where = endpoint::parse(servers.uri(unique_subject("redelivery"), 0, "ack_wait=1"));
    channel_options acking;
    acking.acknowledge = true;
    auto holder = open_receiver(where, acking);
    auto other = open_receiver(where, acking);
    auto out = open_sender(where);
    for (int i = 0; i < 20; ++i)
        out->send(bytes_of("m" + std::to_string(i)));
    out->close();

    // The holder takes all 20 and acknowledges none: after ack_wait they go to the other
    // receiver, marked.
    message_batch batch;
    std::size_t held = 0;
    while (held < 20) {
        BOOST_REQUIRE((holder->receive_batch(batch, 20 - held, 10s) == receive_status::message));
        held += batch.size();
    }
    std::size_t again = 0;
    while (again < 20) {
        BOOST_REQUIRE((other->receive_batch(batch, 20, 10s) == receive_status::message));
        for (std::size_t i = 0; i < batch.size(); ++i)
            BOOST_TEST(batch.redelivered(i));
        again += batch.size();
    }
    other->ack();
    // Acknowledged: nothing comes again, and the stream is over.
    std::vector<std::byte> m;
    BOOST_TEST((other->receive_for(m, 10s) == receive_status::end_of_stream));
    holder.reset(); // its late acknowledgements change nothing
}

BOOST_AUTO_TEST_CASE(a_receiver_closed_with_messages_gives_them_back_at_once) {
    nats_servers servers;
    // ack_wait far beyond the test: only the give-back can bring them back in time.
    const auto where =
        endpoint::parse(servers.uri(unique_subject("give-back"), 0, "ack_wait=3600"));
    channel_options acking;
    acking.acknowledge = true;
    auto first = open_receiver(where, acking);
    auto out = open_sender(where);
    for (int i = 0; i < 5; ++i)
        out->send(bytes_of("m" + std::to_string(i)));
    out->close();
    std::vector<std::byte> m;
    BOOST_REQUIRE((first->receive_for(m, 10s) == receive_status::message));
    BOOST_TEST(text_of(m) == "m0");
    first.reset(); // closed holding m0 (and whatever it had fetched)
    auto second = open_receiver(where, acking);
    std::set<std::string> seen;
    bool m0_marked = false;
    while (seen.size() < 5) {
        BOOST_REQUIRE((second->receive_for(m, 10s) == receive_status::message));
        seen.insert(text_of(m));
        if (text_of(m) == "m0") m0_marked = second->redelivered();
    }
    BOOST_TEST(m0_marked);
    second->ack();
    BOOST_TEST((second->receive_for(m, 10s) == receive_status::end_of_stream));
}

BOOST_AUTO_TEST_CASE(a_dead_anonymous_producer_ends_its_part_a_dead_named_one_keeps_the_stream) {
    nats_servers servers;
    const auto uri = servers.uri(unique_subject("named"));
    auto in = open_receiver(endpoint::parse(uri));
    child_process anonymous(self, producer_args(uri, "-", 100, true));
    child_process named(self, producer_args(uri, "bridge shm://a -> nats", 100, true));
    stream_verifier verifier;
    message_batch batch;
    std::size_t got = 0;
    while (got < 200) {
        BOOST_REQUIRE((in->receive_batch(batch, 256, 10s) == receive_status::message));
        for (std::size_t i = 0; i < batch.size(); ++i)
            verifier.observe(batch[i]);
        got += batch.size();
    }
    anonymous.signal(SIGKILL);
    named.signal(SIGKILL);
    anonymous.wait();
    named.wait();
    // Past the heartbeat's expiry the anonymous one counts as closed; the named one keeps
    // the stream open for its successor.
    const auto until = std::chrono::steady_clock::now() + 13s;
    while (std::chrono::steady_clock::now() < until)
        BOOST_REQUIRE((in->receive_batch(batch, 256, 200ms) == receive_status::empty));
    child_process successor(self, producer_args(uri, "bridge shm://a -> nats", 100, false));
    BOOST_TEST(drain(*in, verifier) == 100u);
    BOOST_TEST(successor.wait() == 0, successor.err());
    BOOST_TEST(verifier.result().producers == 3u);
    BOOST_TEST(verifier.result().ok(), stream_verifier::describe(verifier.result()));

    // That stream is over, the dead producer's record long silent: a receiver that starts
    // now waits for the next stream instead of ending at once.
    auto late = open_receiver(endpoint::parse(uri));
    BOOST_TEST((late->receive_batch(batch, 256, 300ms) == receive_status::empty));
    child_process next(self, producer_args(uri, "-", 10, false));
    stream_verifier next_stream;
    BOOST_TEST(drain(*late, next_stream) == 10u);
    BOOST_TEST(next.wait() == 0, next.err());
}

BOOST_AUTO_TEST_CASE(errors_name_the_server_the_stream_and_the_cause) {
    nats_servers servers;
    channel_options quick;
    quick.connect_timeout = 500ms;
    std::error_code ec;

    // Nobody listening: refused once the timeout passed.
    auto why = refusal_of_sender("nats://127.0.0.1:1/orders", quick, ec);
    BOOST_TEST(ec.message() == "no NATS server answered");
    BOOST_TEST(why.find("no NATS server answered at nats://127.0.0.1:1 within 500 ms") !=
                   std::string::npos,
               why);

    // The first server is dead: the next one is used.
    auto failover = open_sender(endpoint::parse("nats://127.0.0.1:1," + servers.host_port() + "/" +
                                                unique_subject("failover")),
                                quick);
    failover->send(bytes_of("x"));
    failover->close();

    // One server cannot keep three replicas.
    why = refusal_of_sender(servers.uri(unique_subject("replicas"), 0, "replicas=3"), quick, ec);
    BOOST_TEST(why.find("creating it") != std::string::npos, why);
    BOOST_TEST(why.find(servers.url()) != std::string::npos, why);

    // A stream at its limit refuses, and the sender says so (at the latest when it closes).
    auto full = open_sender(endpoint::parse(servers.uri(unique_subject("full"), 0, "max_msgs=5")));
    for (int i = 0; i < 10; ++i)
        full->send(bytes_of("m"), ec);
    if (!ec) full->close(ec);
    BOOST_TEST(ec.message().find("the stream is full") != std::string::npos, ec.message());
    BOOST_TEST(full->describe().find("maximum messages exceeded") != std::string::npos,
               full->describe());

    // A message above the server's max payload.
    auto big = open_sender(endpoint::parse(servers.uri(unique_subject("big"))));
    std::vector<std::byte> huge(2u << 20);
    BOOST_TEST(!big->try_send(huge, ec));
    BOOST_TEST(ec == errc::message_too_large);
    BOOST_TEST(big->describe().find("max_payload") != std::string::npos, big->describe());
    BOOST_TEST(big->max_message() < (1u << 20));
}

BOOST_AUTO_TEST_CASE(a_server_that_refuses_the_credentials_is_named) {
    nats_servers servers(1, {"--user", "alice", "--password", "secret"});
    const auto subject = unique_subject("auth");
    channel_options quick;
    quick.connect_timeout = 2s;
    std::error_code ec;
    for (const std::string user : {"", "alice:wrong@"}) {
        const auto why =
            refusal_of_sender("nats://" + user + servers.host_port() + "/" + subject, quick, ec);
        BOOST_TEST(ec.message() == "the NATS server refused the credentials");
        BOOST_TEST(why.find("Authorization Violation") != std::string::npos, why);
        BOOST_TEST(why.find("wrong") == std::string::npos, why); // the password stays out
    }
    auto out = open_sender(
        endpoint::parse("nats://alice:secret@" + servers.host_port() + "/" + subject), quick);
    out->send(bytes_of("in"));
    out->close();
}

BOOST_AUTO_TEST_SUITE_END()
