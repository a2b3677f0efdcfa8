// conveyor-example-service: several endpoints (and the calc RPC program) on one thread and
// conveyor's helper, to the end of every stream or to SIGTERM.
#include "support/apps.hpp"
#include "support/child_process.hpp"
#include "support/temporary_names.hpp"

#include <conveyor/shm/segment.hpp>

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <filesystem>

using namespace conveyor;
using namespace conveyor::test;

namespace {

const std::string service_app = CONVEYOR_EXAMPLE_SERVICE;
const std::string calc_app = CONVEYOR_CALC;

std::size_t threads_of(pid_t pid) {
    std::error_code ec;
    std::size_t n = 0;
    for (std::filesystem::directory_iterator task("/proc/" + std::to_string(pid) + "/task", ec);
         !ec && task != std::filesystem::directory_iterator(); task.increment(ec))
        ++n;
    return n;
}

shm::segment_info listed(const scratch_segment& s) {
    std::error_code ec;
    return shm::inspect_segment(s.name(), ec);
}

} // namespace

BOOST_AUTO_TEST_SUITE(example_service)

BOOST_AUTO_TEST_CASE(takes_from_several_endpoints_on_one_thread_until_every_stream_ends) {
    scratch_segment a("service-a"), b("service-b"), news("service-news");
    child_process service(service_app, {a.uri(), b.uri(), news.topic_uri(), "--verify"});
    BOOST_REQUIRE(eventually([&] {
        return listed(a).consumers == 1 && listed(b).consumers == 1 && listed(news).consumers == 1;
    }));
    // Its main thread and conveyor's helper, once the receives wait: no thread per endpoint.
    BOOST_TEST(eventually([&] { return threads_of(service.pid()) == 2; }), threads_of(service.pid())
                                                                               << " threads");
    BOOST_TEST(run(producer_app, {a.uri(), "--generate", "30000", "--size", "100"}).status == 0);
    BOOST_TEST(
        run(producer_app, {news.topic_uri(), "--generate", "20000", "--size", "64"}).status == 0);
    BOOST_TEST(threads_of(service.pid()) == 2u);
    BOOST_TEST(run(producer_app, {b.uri(), "--generate", "10000", "--size", "4K"}).status == 0);
    BOOST_TEST(service.wait() == 0, service.err());
    const auto err = service.err();
    BOOST_TEST(contains(err, a.uri() + ": received 30000 messages, 3000000 bytes; received 30000 "
                                       "messages from 1 producers: 0 lost"),
               err);
    BOOST_TEST(contains(err, b.uri() + ": received 10000 messages, 40960000 bytes; received "
                                       "10000 messages from 1 producers: 0 lost"),
               err);
    BOOST_TEST(contains(err, news.topic_uri() + ": received 20000 messages, 1280000 bytes; "
                                                "received 20000 messages from 1 producers: 0 lost"),
               err);
}

BOOST_AUTO_TEST_CASE(sigterm_stops_it_with_what_it_took_and_leaves_the_rest_queued) {
    scratch_segment a("service-term"), b("service-term");
    child_process service(service_app, {a.uri(), b.uri(), "--verify"});
    BOOST_REQUIRE(eventually([&] { return listed(a).consumers == 1 && listed(b).consumers == 1; }));
    // Paced and far longer than the test: the stream is open when the service is stopped.
    child_process producer(producer_app,
                           {a.uri(), "--generate", "10000000", "--size", "64", "--rate", "2000"});
    BOOST_REQUIRE(eventually([&] { return listed(a).received >= 100; }));
    service.signal(SIGTERM);
    BOOST_TEST(service.wait() == 0, service.err());
    BOOST_TEST(contains(service.err(), "stopping on signal 15"), service.err());
    BOOST_TEST(contains(service.err(), "0 lost, 0 duplicated, 0 corrupt"), service.err());
    BOOST_TEST(listed(a).consumers == 0u);
    producer.signal(SIGTERM);
    BOOST_TEST(producer.wait() == 0, producer.err());
}

BOOST_AUTO_TEST_CASE(serves_rpc_calls_and_a_queue_on_one_thread_until_sigterm) {
    scratch_segment a("service-rpc");
    child_process service(service_app, {a.uri(), "--rpc", "tcp://127.0.0.1:0", "--verify"});
    const std::string serving = "conveyor-example-service: serving calc on ";
    BOOST_REQUIRE(eventually([&] { return contains(service.err(), serving + "tcp://"); }));
    const auto err = service.err();
    const auto at = err.find(serving) + serving.size();
    const auto uri = err.substr(at, err.find('\n', at) - at);
    auto sum = run(calc_app, {uri, "add", "2", "3"});
    BOOST_TEST(sum.status == 0, sum.err);
    BOOST_TEST(sum.out == "5\n");
    BOOST_TEST(run(calc_app, {uri, "count"}).out == "1\n");
    BOOST_TEST(run(producer_app, {a.uri(), "--generate", "5000", "--size", "64"}).status == 0);
    // The stream ended; the calls go on being served, on the same thread.
    BOOST_TEST(eventually([&] { return listed(a).received == 5000; }));
    BOOST_TEST(run(calc_app, {uri, "count"}).out == "2\n");
    BOOST_TEST(threads_of(service.pid()) == 2u);
    service.signal(SIGTERM);
    BOOST_TEST(service.wait() == 0, service.err());
    BOOST_TEST(contains(service.err(), "served 2 COUNT calls"), service.err());
    BOOST_TEST(contains(service.err(), a.uri() + ": received 5000 messages, 320000 bytes; "
                                                 "received 5000 messages from 1 producers: 0 lost"),
               service.err());
}

BOOST_AUTO_TEST_CASE(an_endpoint_it_cannot_serve_is_refused_as_bad_usage) {
    const auto refused = run(service_app, {"fifo:///tmp/x"});
    BOOST_TEST(refused.status == 64);
    BOOST_TEST(contains(refused.err, "this service takes shm://, file:// and topic://"),
               refused.err);
    BOOST_TEST(run(service_app, {}).status == 64);
}

BOOST_AUTO_TEST_SUITE_END()
