// conveyor-producer and conveyor-consumer with --format xdr, as users run them: a verified
// stream of typed messages, a bad message named by the consumer, mismatched formats explained.
#include "support/apps.hpp"
#include "support/child_process.hpp"
#include "support/temporary_names.hpp"

#include <conveyor/codec/generated_xdr.hpp>
#include <conveyor/open.hpp>

#include <boost/test/unit_test.hpp>

using namespace conveyor;
using namespace conveyor::test;

BOOST_AUTO_TEST_SUITE(codec_apps)

BOOST_AUTO_TEST_CASE(a_stream_of_xdr_messages_is_delivered_and_verified) {
    scratch_segment s("xdr");
    child_process producer(producer_app,
                           {s.uri(), "--generate", "50000", "--size", "61", "--format", "xdr"});
    child_process consumer(consumer_app, {s.uri(), "--verify", "--quiet", "--format", "xdr"});
    BOOST_TEST(producer.wait() == 0, producer.err());
    BOOST_TEST(consumer.wait() == 0, consumer.err());
    BOOST_TEST(
        contains(consumer.err(),
                 "received 50000 messages from 1 producers: 0 lost, 0 duplicated, 0 corrupt"),
        consumer.err());
    // 24-byte envelope header, 4-byte length, 61 bytes padded to 64
    BOOST_TEST(contains(producer.err(), "sent 50000 messages, 4600000 bytes"), producer.err());
}

BOOST_AUTO_TEST_CASE(a_corrupt_or_raw_message_is_named_and_fails_verification) {
    scratch_segment s("xdrbad");
    {
        const auto out = open_sender(endpoint::parse(s.uri()));
        const message_generator make(make_producer_id(), 40, 3);
        std::vector<std::byte> message(40), wire;
        for (std::uint64_t i = 0; i < 2; ++i) {
            make.make(i, message);
            encode_generated(message, i, wire);
            if (i == 1) wire.back() ^= std::byte{0x20};
            out->send(wire);
        }
        make.make(2, message);
        out->send(message); // raw, where an envelope is expected
        out->close();
    }
    const auto result = run(consumer_app, {s.uri(), "--verify", "--quiet", "--format", "xdr"});
    BOOST_TEST(result.status == 1, result.err);
    BOOST_TEST(contains(result.err, "message 2: typed message payload has CRC-32C"), result.err);
    BOOST_TEST(contains(result.err, "message 3: typed message in envelope format"), result.err);
    // the two that failed their checks are corrupt, and so never seen: lost as well
    BOOST_TEST(contains(result.err, "received 3 messages from 1 producers: 2 lost, 0 duplicated, "
                                    "2 corrupt"),
               result.err);
}

BOOST_AUTO_TEST_CASE(a_raw_consumer_of_xdr_messages_is_told_to_use_format_xdr) {
    scratch_segment s("xdrtoraw");
    const auto producer = run(producer_app, {s.uri(), "--generate", "3", "--format", "xdr"});
    BOOST_TEST(producer.status == 0, producer.err);
    const auto consumer = run(consumer_app, {s.uri(), "--verify", "--quiet"});
    BOOST_TEST(consumer.status == 1, consumer.err);
    const std::string hint = "message 1 looks like a typed XDR message; run with --format xdr";
    BOOST_TEST(contains(consumer.err, hint), consumer.err);
    BOOST_TEST(consumer.err.find("looks like") == consumer.err.rfind("looks like"), consumer.err);
}

BOOST_AUTO_TEST_CASE(an_xdr_consumer_of_raw_messages_asks_about_the_producer_and_counts_the_rest) {
    scratch_segment s("rawtoxdr");
    const auto producer = run(producer_app, {s.uri(), "--generate", "13"});
    BOOST_TEST(producer.status == 0, producer.err);
    const auto consumer = run(consumer_app, {s.uri(), "--verify", "--quiet", "--format", "xdr"});
    BOOST_TEST(consumer.status == 1, consumer.err);
    BOOST_TEST(contains(consumer.err, "message 10: typed message in envelope format"),
               consumer.err);
    BOOST_TEST(contains(consumer.err, "(is the producer running with --format xdr?)"),
               consumer.err);
    BOOST_TEST(!contains(consumer.err, "message 11:"), consumer.err);
    BOOST_TEST(contains(consumer.err, "... and 3 more undecodable messages"), consumer.err);
}

BOOST_AUTO_TEST_CASE(an_unknown_format_or_a_size_beyond_the_envelope_is_a_usage_error) {
    const auto format = run(producer_app, {"pipe:", "--generate", "1", "--format", "json"});
    BOOST_TEST(format.status == 64, format.err);
    BOOST_TEST(contains(format.err, "--format json: expected raw or xdr"), format.err);
    const auto lines = run(producer_app, {"pipe:", "--format", "xdr"}, "a line\n");
    BOOST_TEST(lines.status == 64, lines.err);
    BOOST_TEST(contains(lines.err, "--format xdr: only with --generate"), lines.err);
    scratch_segment s("xdrsize");
    const auto size = run(producer_app, {s.uri(), "--generate", "1", "--size", "65509", "--format",
                                         "xdr", "--max-message", "64K"});
    BOOST_TEST(size.status == 64, size.err);
    BOOST_TEST(contains(size.err, "need 32 to 65508 bytes on " + s.uri() + " with --format xdr"),
               size.err);
}

BOOST_AUTO_TEST_SUITE_END()
