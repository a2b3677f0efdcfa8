#include <conveyor/endpoint.hpp>
#include <conveyor/error.hpp>

#include <boost/test/unit_test.hpp>

using namespace conveyor;

namespace {

// Parses uri expecting failure; returns the reason given.
std::string rejection(const std::string& uri, errc expected) {
    std::error_code ec;
    std::string why;
    endpoint::parse(uri, ec, &why);
    BOOST_TEST(ec == expected, uri << " gave " << ec.message());
    return why;
}

} // namespace

BOOST_AUTO_TEST_SUITE(endpoint)

BOOST_AUTO_TEST_CASE(shm_uri_gives_the_segment_name) {
    const auto e = conveyor::endpoint::parse("shm://orders-1");
    BOOST_TEST(static_cast<int>(e.kind()) == static_cast<int>(scheme::shm));
    BOOST_TEST(e.name() == "orders-1");
    BOOST_TEST(e.uri() == "shm://orders-1");
}

BOOST_AUTO_TEST_CASE(topic_uri_gives_the_segment_name_and_is_checked_as_shm_names_are) {
    const auto e = conveyor::endpoint::parse("topic://news");
    BOOST_TEST(static_cast<int>(e.kind()) == static_cast<int>(scheme::topic));
    BOOST_TEST(e.name() == "news");
    BOOST_TEST(is_supported(scheme::topic));
    BOOST_TEST(rejection("topic://a/b", errc::invalid_endpoint).find("'/'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(malformed_uris_are_rejected_with_the_uri_and_the_reason) {
    BOOST_TEST(rejection("shm://", errc::invalid_endpoint).find("empty") != std::string::npos);
    BOOST_TEST(rejection("shm://a/b", errc::invalid_endpoint).find("'/'") != std::string::npos);
    BOOST_TEST(rejection("shm://" + std::string(201, 'x'), errc::invalid_endpoint)
                   .find("longer than 200") != std::string::npos);
    BOOST_TEST(rejection("shm://..", errc::invalid_endpoint).find("shm://..") != std::string::npos);
    BOOST_TEST(rejection("shm://.hidden", errc::invalid_endpoint).find("'.'") != std::string::npos);
    BOOST_TEST(rejection("shm://a b", errc::invalid_endpoint).find("space") != std::string::npos);
    BOOST_TEST(rejection("", errc::invalid_endpoint).find("empty URI") != std::string::npos);
    BOOST_TEST(rejection("orders", errc::invalid_endpoint).find("no scheme") != std::string::npos);
    BOOST_TEST(rejection("http://x", errc::invalid_endpoint).find("unknown scheme 'http'") !=
               std::string::npos);
    BOOST_TEST(rejection("shm:/x", errc::invalid_endpoint).find("expected shm://") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(tcp_is_known_but_refused_as_not_supported_yet) {
    BOOST_TEST(rejection("tcp://localhost:5000", errc::unsupported_scheme)
                   .find("not supported yet") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_longest_allowed_name_is_accepted) {
    const std::string name(conveyor::endpoint::max_shm_name, 'n');
    BOOST_TEST(conveyor::endpoint::parse("shm://" + name).name() == name);
}

BOOST_AUTO_TEST_CASE(the_throwing_parse_names_the_uri) {
    try {
        conveyor::endpoint::parse("bogus://x");
        BOOST_FAIL("no exception");
    } catch (const error& e) {
        BOOST_TEST(std::string(e.what()).find("bogus://x") != std::string::npos);
        BOOST_TEST((e.code() == errc::invalid_endpoint));
    }
}

BOOST_AUTO_TEST_SUITE_END()
