// rpcbind as the matchmaker: a server maps its endpoints, rpc:// addresses find them, the
// mappings go when the server stops (SIGTERM included), a server restarted after SIGKILL
// replaces its stale mapping, and a live server's mapping is never taken. Each test uses a
// program number of its own, and removes only the mappings it made.
#include "rpc_support.hpp"

#include "support/child_process.hpp"

#include <conveyor/rpc/client.hpp>
#include <conveyor/rpc/rpcbind.hpp>

#include <boost/test/unit_test.hpp>

#include <csignal>

using namespace conveyor;
using namespace std::chrono_literals;

namespace {

constexpr auto rpcbind_timeout = 5s;

std::string hex(std::uint32_t n) {
    char text[16];
    std::snprintf(text, sizeof text, "0x%x", n);
    return text;
}

std::string rpc_uri(std::uint32_t program, const char* query = "") {
    return "rpc://127.0.0.1/" + hex(program) + "/1" + query;
}

std::uint16_t mapped_port(std::uint32_t program, rpc::transport protocol) {
    std::error_code ec;
    const auto port = rpc::rpcbind::getport("127.0.0.1", program, 1, protocol, rpcbind_timeout, ec);
    if (ec == rpc::errc::not_registered) return 0;
    BOOST_REQUIRE_MESSAGE(!ec, "rpcbind: " << ec.message());
    return port;
}

std::vector<std::string> calc_server_args(std::uint32_t program) {
    return {"tcp://127.0.0.1:0", "udp://127.0.0.1:0", "--register", "--program", hex(program)};
}

} // namespace

BOOST_AUTO_TEST_SUITE(rpc_rpcbind, *boost::unit_test::precondition(test::rpcbind_precondition{}))

BOOST_AUTO_TEST_CASE(a_registered_server_is_found_through_rpc_addresses) {
    const auto program = test::unique_program();
    {
        test::served_calc served({"tcp://127.0.0.1:0", "udp://127.0.0.1:0"}, {}, {}, program);
        served.server().register_with_rpcbind();
        BOOST_TEST(mapped_port(program, rpc::transport::tcp) == test::port_of(served.uri(0)));
        BOOST_TEST(mapped_port(program, rpc::transport::udp) == test::port_of(served.uri(1)));

        int ours = 0;
        for (const auto& m : rpc::rpcbind::dump("127.0.0.1", rpcbind_timeout))
            if (m.program == program && m.version == 1) {
                ++ours;
                BOOST_TEST((m.netid == "tcp" || m.netid == "udp"));
                BOOST_TEST(m.address.rfind("127.0.0.1.", 0) == 0, m.address);
            }
        BOOST_TEST(ours == 2);

        const auto add = rpc::with_program(calc::add, program, 1);
        rpc::client over_tcp(rpc_uri(program));
        BOOST_TEST(over_tcp.call(add, {2, 3}, 10s) == 5);
        rpc::client over_udp(rpc_uri(program, "?proto=udp"));
        BOOST_TEST(over_udp.call(add, {4, 5}, 10s) == 9);
    }
    // The server removed both mappings as it stopped.
    BOOST_TEST(mapped_port(program, rpc::transport::tcp) == 0);
    BOOST_TEST(mapped_port(program, rpc::transport::udp) == 0);
}

BOOST_AUTO_TEST_CASE(an_unmapped_program_is_named_as_such) {
    rpc::client c(rpc_uri(test::unique_program()));
    try {
        c.call(calc::null, 10s);
        BOOST_FAIL("a call to an unmapped program went through");
    } catch (const error& e) {
        BOOST_TEST(e.code() == rpc::errc::not_registered);
        BOOST_TEST(std::string(e.what()).find("maps no port") != std::string::npos, e.what());
    }
}

BOOST_AUTO_TEST_CASE(the_calc_server_removes_its_mappings_on_sigterm) {
    const auto program = test::unique_program();
    test::server_process server(CONVEYOR_CALC_SERVER, calc_server_args(program), 2);
    BOOST_TEST(mapped_port(program, rpc::transport::tcp) == test::port_of(server.line(0)));
    const auto listed = test::run(RPCINFO_PROGRAM, {"-p", "127.0.0.1"});
    BOOST_TEST(listed.out.find(std::to_string(program)) != std::string::npos, listed.out);
    const auto added = test::run(CONVEYOR_CALC, {rpc_uri(program, "?proto=udp"), "add", "2", "3"});
    BOOST_TEST(added.out == "5\n", added.err);
    server.process().signal(SIGTERM);
    BOOST_TEST(server.process().wait() == 0);
    BOOST_TEST(mapped_port(program, rpc::transport::tcp) == 0);
    BOOST_TEST(mapped_port(program, rpc::transport::udp) == 0);
}

BOOST_AUTO_TEST_CASE(a_server_restarted_after_sigkill_replaces_its_stale_mapping) {
    const auto program = test::unique_program();
    std::uint16_t stale = 0;
    {
        test::server_process killed(CONVEYOR_CALC_SERVER, calc_server_args(program), 2);
        stale = test::port_of(killed.line(0));
        killed.process().signal(SIGKILL);
        killed.process().wait();
    }
    // Killed, it could not remove its mappings: rpcbind still points at the dead port.
    BOOST_TEST(mapped_port(program, rpc::transport::tcp) == stale);
    test::server_process restarted(CONVEYOR_CALC_SERVER, calc_server_args(program), 2);
    BOOST_TEST(mapped_port(program, rpc::transport::tcp) == test::port_of(restarted.line(0)));
    BOOST_TEST(mapped_port(program, rpc::transport::udp) == test::port_of(restarted.line(1)));
    const auto counted = test::run(CONVEYOR_CALC, {rpc_uri(program), "count"});
    BOOST_TEST(counted.out == "1\n", counted.err);
    restarted.process().signal(SIGTERM);
    BOOST_TEST(restarted.process().wait() == 0);
}

BOOST_AUTO_TEST_CASE(a_live_servers_mapping_is_not_taken_by_a_second_one) {
    const auto program = test::unique_program();
    test::server_process first(CONVEYOR_CALC_SERVER, calc_server_args(program), 2);
    const auto second = test::run(CONVEYOR_CALC_SERVER, calc_server_args(program));
    BOOST_TEST(second.status == 70);
    BOOST_TEST(second.err.find("a server that answers") != std::string::npos, second.err);
    BOOST_TEST(mapped_port(program, rpc::transport::tcp) == test::port_of(first.line(0)));
    first.process().signal(SIGTERM);
    BOOST_TEST(first.process().wait() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
