// nats:// URIs: the defaults, every parameter, and refusals that name what is wrong.
#include "nats/address.hpp"

#include <conveyor/endpoint.hpp>
#include <conveyor/error.hpp>

#include <boost/test/unit_test.hpp>

using namespace conveyor;
using namespace conveyor::nats::detail;

namespace {

address parsed(const std::string& rest) {
    address a;
    std::string why;
    BOOST_REQUIRE_MESSAGE(parse_address(rest, a, why), rest << ": " << why);
    return a;
}

// endpoint::parse's reason for refusing uri.
std::string refusal(const std::string& uri) {
    std::error_code ec;
    std::string why;
    endpoint::parse(uri, ec, &why);
    BOOST_TEST(ec == errc::invalid_endpoint, uri << " gave " << ec.message());
    return why;
}

} // namespace

BOOST_AUTO_TEST_SUITE(nats_address)

BOOST_AUTO_TEST_CASE(the_stream_and_durable_are_named_after_the_subject_by_default) {
    const auto a = parsed("127.0.0.1:4222/orders.eu-west");
    BOOST_TEST(a.servers == std::vector<std::string>{"nats://127.0.0.1:4222"});
    BOOST_TEST(a.subject == "orders.eu-west");
    BOOST_TEST(a.stream == "ORDERS_EU-WEST");
    BOOST_TEST(a.durable == "conveyor-ORDERS_EU-WEST");
    BOOST_TEST(a.replicas == 1);
    BOOST_TEST(a.ack_wait.count() == 10'000);
    BOOST_TEST(a.creds.empty());
    BOOST_TEST(a.max_bytes == 0);
    BOOST_TEST(a.max_msgs == 0);
    BOOST_TEST(a.max_age.count() == 0);
}

BOOST_AUTO_TEST_CASE(every_parameter_is_read) {
    const auto a = parsed("h1:1,h2:2,[::1]:3/s?stream=S-1&durable=D_2&replicas=3&ack_wait=0.5&"
                          "creds=/etc/u.creds&max_bytes=1M&max_msgs=10K&max_age=60");
    BOOST_TEST(a.servers ==
               (std::vector<std::string>{"nats://h1:1", "nats://h2:2", "nats://[::1]:3"}));
    BOOST_TEST(a.stream == "S-1");
    BOOST_TEST(a.durable == "D_2");
    BOOST_TEST(a.replicas == 3);
    BOOST_TEST(a.ack_wait.count() == 500);
    BOOST_TEST(a.creds == "/etc/u.creds");
    BOOST_TEST(a.max_bytes == 1 << 20);
    BOOST_TEST(a.max_msgs == 10 << 10);
    BOOST_TEST(a.max_age.count() == 60);
}

BOOST_AUTO_TEST_CASE(a_server_without_port_gets_4222_and_passwords_stay_out_of_messages) {
    const auto a = parsed("alice:secret@nats.example:4333,bob@other/s");
    BOOST_TEST(a.servers == (std::vector<std::string>{"nats://alice:secret@nats.example:4333",
                                                      "nats://bob@other:4222"}));
    BOOST_TEST(a.servers_text() == "nats://nats.example:4333,nats://other:4222");
    BOOST_TEST(without_passwords("nats://alice:secret@h:1,bob:x@g/s?stream=A") ==
               "nats://alice:***@h:1,bob:***@g/s?stream=A");
    BOOST_TEST(without_passwords("nats://h:1/s") == "nats://h:1/s");
}

BOOST_AUTO_TEST_CASE(endpoint_parse_accepts_a_nats_uri) {
    const auto e = endpoint::parse("nats://127.0.0.1:4222/orders");
    BOOST_TEST(static_cast<int>(e.kind()) == static_cast<int>(scheme::nats));
    BOOST_TEST(e.name() == "127.0.0.1:4222/orders");
    BOOST_TEST(is_supported(scheme::nats));
}

BOOST_AUTO_TEST_CASE(bad_uris_are_refused_naming_the_part_that_is_wrong) {
    const std::pair<std::string, std::string> cases[] = {
        {"nats://127.0.0.1:4222", "no subject"},
        {"nats://127.0.0.1:4222/", "no subject"},
        {"nats:///orders", "no server"},
        {"nats://h:0/s", "port '0'"},
        {"nats://h:65536/s", "port '65536'"},
        {"nats://h:x/s", "port 'x'"},
        {"nats://h:1,/s", "no host"},
        {"nats://h!1:1/s", "host name with '!'"},
        {"nats://h:1/a..b", "empty token"},
        {"nats://h:1/.a", "empty token"},
        {"nats://h:1/a.", "empty token"},
        {"nats://h:1/a.*", "wildcard"},
        {"nats://h:1/a.>", "wildcard"},
        {"nats://h:1/a b", "space or control character"},
        {"nats://h:1/$JS.API", "reserves"},
        {"nats://h:1/a/b", "give ?stream=NAME"},
        {"nats://h:1/s?stream=a.b", "only letters, digits"},
        {"nats://h:1/s?durable=", "?durable=: no value"},
        {"nats://h:1/s?replicas=6", "from 1 to 5"},
        {"nats://h:1/s?replicas=0", "from 1 to 5"},
        {"nats://h:1/s?ack_wait=-1", "expected seconds"},
        {"nats://h:1/s?ack_wait=soon", "expected seconds"},
        {"nats://h:1/s?max_bytes=0", "positive number"},
        {"nats://h:1/s?max_msgs=1X", "positive number"},
        {"nats://h:1/s?max_age=0.5", "at least 1"},
        {"nats://h:1/s?creds=", "?creds=: no value"},
        {"nats://h:1/s?retention=work", "unknown parameter 'retention'"},
        {"nats://h:1/s?stream=A&stream=B", "given twice"},
        {"nats://h:1/s?stream", "not NAME=VALUE"},
        {"nats://h:1/s?" + std::string("stream=") + std::string(201, 'S'), "longer than 200"},
    };
    for (const auto& [uri, part] : cases) {
        const auto why = refusal(uri);
        BOOST_TEST(why.find(part) != std::string::npos, uri << ": " << why);
        BOOST_TEST(why.find(uri) != std::string::npos, uri << ": " << why);
    }
}

BOOST_AUTO_TEST_SUITE_END()
