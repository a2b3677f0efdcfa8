// Typed senders and receivers over a real shared-memory channel.
#include "support/temporary_names.hpp"

#include <conveyor/codec/typed_channel.hpp>
#include <conveyor/open.hpp>

#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <boost/test/unit_test.hpp>

using namespace conveyor;

namespace {

struct trade {
    std::string symbol;
    std::int64_t price = 0;
    template <class Archive> void serialize(Archive& ar, unsigned) { ar& symbol& price; }
};

struct heartbeat {
    std::uint32_t beat = 0;
    template <class Archive> void serialize(Archive& ar, unsigned) { ar& beat; }
};

struct channel_pair {
    test::scratch_segment segment{"typed"};
    std::unique_ptr<sender> out = open_sender(endpoint::parse(segment.uri()));
    std::unique_ptr<receiver> in = open_receiver(endpoint::parse(segment.uri()));
};

} // namespace

CONVEYOR_MESSAGE_TYPE(trade, 1);
CONVEYOR_MESSAGE_TYPE(heartbeat, 2);

BOOST_AUTO_TEST_SUITE(typed_channel)

BOOST_AUTO_TEST_CASE(typed_values_arrive_equal_and_numbered) {
    channel_pair c;
    typed_sender<trade> out(*c.out);
    out.send({"ACME", -5});
    out.send({"", 7});
    c.out->close();
    typed_receiver<trade> in(*c.in);
    trade t;
    BOOST_TEST((in.receive(t) == receive_status::message));
    BOOST_TEST(t.symbol == "ACME");
    BOOST_TEST(t.price == -5);
    BOOST_TEST(in.sequence() == 0u);
    BOOST_TEST((in.receive(t) == receive_status::message));
    BOOST_TEST(in.sequence() == 1u);
    BOOST_TEST((in.receive(t) == receive_status::end_of_stream));
}

BOOST_AUTO_TEST_CASE(a_consumer_tells_message_types_apart) {
    channel_pair c;
    typed_sender<trade> trades(*c.out);
    typed_sender<heartbeat> beats(*c.out, xdr_mode::pure);
    beats.send({41});
    trades.send({"X", 1});
    c.out->close();
    envelope_receiver in(*c.in);
    BOOST_TEST((in.receive() == receive_status::message));
    BOOST_TEST(in.is<heartbeat>());
    heartbeat h;
    in.decode(h);
    BOOST_TEST(h.beat == 41u);
    BOOST_TEST((in.receive() == receive_status::message));
    BOOST_TEST(in.is<trade>());
    trade t;
    in.decode(t);
    BOOST_TEST(t.symbol == "X");
}

BOOST_AUTO_TEST_CASE(a_receiver_of_one_type_refuses_another_naming_both_ids) {
    channel_pair c;
    typed_sender<heartbeat>(*c.out).send({1});
    typed_receiver<trade> in(*c.in);
    trade t;
    BOOST_CHECK_EXCEPTION(in.receive(t), error, [](const error& e) {
        return e.code() == errc::unknown_message_type &&
               std::string(e.what()).find("type id 2, expected 1") != std::string::npos;
    });
}

BOOST_AUTO_TEST_CASE(a_corrupt_message_is_reported_and_the_next_one_still_arrives) {
    channel_pair c;
    std::vector<std::byte> message;
    seal_value(trade{"A", 1}, message_type<trade>::id, 0, xdr_mode::class_info, message);
    message.back() ^= std::byte{1};
    c.out->send(message);
    typed_sender<trade>(*c.out).send({"B", 2});
    typed_receiver<trade> in(*c.in);
    trade t;
    std::error_code ec;
    in.receive(t, forever, ec);
    BOOST_TEST(ec == errc::checksum_mismatch);
    BOOST_TEST((in.receive(t, forever, ec) == receive_status::message));
    BOOST_TEST(!ec);
    BOOST_TEST(t.symbol == "B");
}

BOOST_AUTO_TEST_SUITE_END()
