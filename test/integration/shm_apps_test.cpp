// conveyor-producer and conveyor-consumer as users run them, side by side over shm://.
#include "support/apps.hpp"
#include "support/child_process.hpp"
#include "support/temporary_names.hpp"

#include <conveyor/shm/segment.hpp>

#include <boost/test/unit_test.hpp>

#include <memory>

using namespace conveyor;
using namespace conveyor::test;

BOOST_AUTO_TEST_SUITE(shm_apps)

BOOST_AUTO_TEST_CASE(one_producer_to_one_consumer_delivers_100000_verified_messages) {
    scratch_segment s("1x1");
    child_process producer(producer_app, {s.uri(), "--generate", "100000", "--size", "64"});
    child_process consumer(consumer_app, {s.uri(), "--verify", "--quiet"});
    BOOST_TEST(producer.wait() == 0, producer.err());
    BOOST_TEST(consumer.wait() == 0, consumer.err());
    BOOST_TEST(
        contains(consumer.err(),
                 "received 100000 messages from 1 producers: 0 lost, 0 duplicated, 0 corrupt"),
        consumer.err());
    BOOST_TEST(contains(producer.err(), "sent 100000 messages, 6400000 bytes in"), producer.err());
    BOOST_TEST(contains(consumer.err(), "msgs/s"));
}

BOOST_AUTO_TEST_CASE(four_producers_and_four_consumers_deliver_every_message_exactly_once) {
    scratch_segment s("4x4");
    constexpr std::size_t size = 48;
    std::vector<std::unique_ptr<child_process>> consumers, producers;
    for (int i = 0; i < 4; ++i)
        consumers.push_back(std::make_unique<child_process>(
            consumer_app, std::vector<std::string>{s.uri(), "--producers", "4"}));
    BOOST_REQUIRE(eventually([&] {
        std::error_code ec;
        return shm::inspect_segment(s.name(), ec).consumers == 4;
    }));
    for (int i = 0; i < 4; ++i)
        producers.push_back(std::make_unique<child_process>(
            producer_app, std::vector<std::string>{s.uri(), "--generate", "25000", "--size",
                                                   std::to_string(size)}));
    for (auto& p : producers)
        BOOST_TEST(p->wait() == 0, p->err());
    stream_verifier all;
    for (auto& c : consumers) {
        BOOST_TEST(c->wait() == 0, c->err());
        stream_verifier own; // one consumer sees each producer's messages in order
        verify_output(c->out(), size, own);
        BOOST_TEST(own.result().out_of_order == 0u);
        BOOST_TEST(own.result().corrupt == 0u);
        verify_output(c->out(), size, all);
    }
    const auto total = all.result();
    BOOST_TEST(total.messages == 100000u);
    BOOST_TEST(total.producers == 4u);
    BOOST_TEST(total.lost == 0u);
    BOOST_TEST(total.duplicated == 0u);
    BOOST_TEST(total.corrupt == 0u);
}

BOOST_AUTO_TEST_CASE(a_consumer_started_first_waits_for_its_producer) {
    scratch_segment s("first");
    child_process consumer(consumer_app, {s.uri(), "--verify", "--quiet"});
    BOOST_REQUIRE(eventually([&] {
        std::error_code ec;
        return shm::inspect_segment(s.name(), ec).consumers == 1;
    }));
    BOOST_TEST(!consumer.exited());
    BOOST_TEST(run(producer_app, {s.uri(), "--generate", "5000", "--size", "100"}).status == 0);
    BOOST_TEST(consumer.wait() == 0, consumer.err());
    BOOST_TEST(contains(consumer.err(), "received 5000 messages from 1 producers: 0 lost"));
}

BOOST_AUTO_TEST_CASE(standard_input_lines_round_trip_byte_for_byte) {
    scratch_segment s("lines");
    std::string input = "first line\n\n  spaced \t tabs\t\nutf-8: \xc3\xa9\xe2\x82\xac\n";
    input += std::string("\x01\x02\x7f\xff binary\r\n", 14);
    input += std::string(60000, 'L') + "\n";
    input += "last line without newline";
    const auto sent = run(producer_app, {s.uri()}, input);
    BOOST_TEST(sent.status == 0, sent.err);
    BOOST_TEST(contains(sent.err, "sent 7 messages"), sent.err);
    const auto got = run(consumer_app, {s.uri()});
    BOOST_TEST(got.status == 0, got.err);
    BOOST_TEST((got.out == input + "\n"));
}

BOOST_AUTO_TEST_CASE(a_line_longer_than_the_maximum_stops_with_a_clear_error) {
    scratch_segment s("longline");
    const auto sent = run(producer_app, {s.uri(), "--max-message", "100"},
                          "fits\n" + std::string(101, 'x') + "\nnever sent\n");
    BOOST_TEST(sent.status == 70);
    BOOST_TEST(contains(sent.err, "line 2 is 101 bytes, more than the 100-byte maximum"), sent.err);
    const auto got = run(consumer_app, {s.uri(), "--timeout", "5"});
    BOOST_TEST(got.out == "fits\n");
}

BOOST_AUTO_TEST_CASE(large_messages_pass_with_a_larger_maximum) {
    scratch_segment s("large");
    child_process consumer(
        consumer_app, {s.uri(), "--verify", "--quiet", "--max-message", "1M", "--capacity", "8M"});
    const auto sent = run(producer_app, {s.uri(), "--generate", "200", "--size", "1M",
                                         "--max-message", "1M", "--capacity", "8M"});
    BOOST_TEST(sent.status == 0, sent.err);
    BOOST_TEST(consumer.wait() == 0, consumer.err());
    BOOST_TEST(contains(consumer.err(),
                        "received 200 messages from 1 producers: 0 lost, 0 duplicated, 0 corrupt"));
}

BOOST_AUTO_TEST_CASE(bad_usage_exits_64_and_says_what_was_wrong) {
    // Bad usage is refused before anything is made: no segment may appear under this name.
    scratch_segment s("usage");
    struct case_t {
        std::string program;
        std::vector<std::string> args;
        std::string says;
    };
    const std::vector<case_t> cases{
        {producer_app, {"bogus://x"}, "unknown scheme 'bogus'"},
        {consumer_app, {"shm://"}, "segment name is empty"},
        {consumer_app, {"shm://a/b"}, "contains '/'"},
        {producer_app, {"tcp://localhost:5000"}, "not supported yet"},
        {producer_app, {}, "missing ENDPOINT"},
        {producer_app, {s.uri(), "--capacity", "12X"}, "--capacity '12X': not a size"},
        {producer_app, {s.uri(), "--frobnicate"}, "unrecognised option"},
        {consumer_app, {s.uri(), "--timeout", "soon"}, "--timeout 'soon': not a number of seconds"},
        {producer_app, {s.uri(), "--mode", "999"}, "--mode '999': not a permission mode"},
        {ctl_app, {"explode"}, "unknown command 'explode'"},
        {ctl_app, {}, "missing COMMAND"},
    };
    for (const auto& c : cases) {
        const auto result = run(c.program, c.args);
        BOOST_TEST(result.status == 64, c.program << " " << (c.args.empty() ? "" : c.args[0]));
        BOOST_TEST(contains(result.err, c.says), result.err);
    }
    BOOST_TEST(::access(s.path().c_str(), F_OK) != 0);
}

BOOST_AUTO_TEST_CASE(generated_sizes_outside_the_channel_are_refused) {
    scratch_segment s("gensize");
    const auto small = run(producer_app, {s.uri(), "--generate", "5", "--size", "10"});
    BOOST_TEST(small.status == 64);
    BOOST_TEST(contains(small.err, "--size '10': at least 32"), small.err);
    const auto large = run(producer_app, {s.uri(), "--generate", "5", "--size", "64K",
                                          "--max-message", "1K", "--capacity", "1M"});
    BOOST_TEST(large.status == 64);
    BOOST_TEST(contains(large.err, "need 32 to 1024 bytes"), large.err);
}

BOOST_AUTO_TEST_CASE(every_app_explains_itself_with_help) {
    for (const auto& app : {producer_app, consumer_app, ctl_app}) {
        const auto result = run(app, {"--help"});
        BOOST_TEST(result.status == 0);
        BOOST_TEST(contains(result.out, "Usage: conveyor-"), app);
        BOOST_TEST(contains(result.out, "Exit status"), app);
    }
}

BOOST_AUTO_TEST_CASE(a_consumer_whose_output_fills_up_stops_and_leaves_the_rest_queued) {
    scratch_segment s("fulldisk");
    std::string lines;
    for (int i = 0; i < 100000; ++i)
        lines += std::to_string(i) + "\n";
    BOOST_TEST(run(producer_app, {s.uri()}, lines).status == 0);
    child_process consumer(consumer_app, {s.uri()}, {}, "/dev/full");
    BOOST_TEST(consumer.wait() == 70);
    BOOST_TEST(contains(consumer.err(), "writing standard output: No space left on device"),
               consumer.err());
    BOOST_TEST(contains(consumer.err(), "taken but not written"));
    // What it did not take is still there for the next consumer.
    const auto rest = run(consumer_app, {s.uri(), "--quiet"});
    BOOST_TEST(rest.status == 0);
    BOOST_TEST(!contains(rest.err, "received 0 messages"), rest.err);
}

BOOST_AUTO_TEST_CASE(a_consumer_timeout_exits_2_and_says_why) {
    scratch_segment s("timeout");
    const auto got = run(consumer_app, {s.uri(), "--timeout", "0.2"});
    BOOST_TEST(got.status == 2);
    BOOST_TEST(contains(got.err, "no message for 0.2 s"), got.err);
}

BOOST_AUTO_TEST_CASE(sizes_given_to_a_joining_app_that_differ_from_the_segment_are_pointed_out) {
    scratch_segment s("joined-sizes");
    BOOST_TEST(run(producer_app, {s.uri()}, "made with the defaults\n").status == 0);
    const auto joined =
        run(consumer_app, {s.uri(), "--max-message", "1M", "--capacity", "8M", "--count", "1"});
    BOOST_TEST(joined.status == 0, joined.err);
    BOOST_TEST(joined.out == "made with the defaults\n");
    BOOST_TEST(contains(joined.err, "already exists with capacity 4194304 and max message 65536"),
               joined.err);
    const auto same = run(producer_app, {s.uri(), "--max-message", "64K"}, "x\n");
    BOOST_TEST(!contains(same.err, "already exists"), same.err); // as given: nothing to say
}

BOOST_AUTO_TEST_SUITE_END()
