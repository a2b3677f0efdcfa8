// conveyor-ctl list --json and conveyor-ctl top --once, read as scripts read them.
#include "support/apps.hpp"
#include "support/child_process.hpp"
#include "support/scratch_dir.hpp"
#include "support/temporary_names.hpp"

#include <conveyor/shm/segment.hpp>

#include <boost/json/src.hpp> // header-only Boost.JSON: this file is its only user
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <pwd.h>
#include <sstream>
#include <unistd.h>

using namespace conveyor;
using namespace conveyor::test;
namespace json = boost::json;

namespace {

// The object of list --json's array whose endpoint is uri; null when it is not listed.
json::object find_endpoint(const json::value& listing, const std::string& uri) {
    for (const auto& entry : listing.as_array())
        if (entry.as_object().at("endpoint").as_string() == uri) return entry.as_object();
    return {};
}

json::value list_json() {
    const auto listed = run(ctl_app, {"list", "--json"});
    BOOST_REQUIRE_MESSAGE(listed.status == 0, listed.err);
    return json::parse(listed.out);
}

std::string me() {
    const passwd* user = ::getpwuid(::getuid());
    return user ? user->pw_name : std::to_string(::getuid());
}

bool consumers_attached(const scratch_segment& s, unsigned consumers) {
    std::error_code ec;
    return shm::inspect_segment(s.name(), ec).consumers == consumers;
}

} // namespace

BOOST_AUTO_TEST_SUITE(ctl_views)

BOOST_AUTO_TEST_CASE(list_json_has_an_object_per_endpoint_with_the_documented_fields) {
    scratch_segment queue("ctl-json"), topic("ctl-json");
    scratch_dir dir;
    BOOST_TEST(
        run(producer_app, {queue.uri(), "--capacity", "1M", "--max-message", "4K"}, "a\nbb\nccc\n")
            .status == 0);
    child_process subscriber(consumer_app, {topic.topic_uri(), "--quiet", "--slow", "drop"});
    child_process reader(consumer_app, {dir.uri("f"), "--quiet"});
    BOOST_REQUIRE(eventually([&] { return consumers_attached(topic, 1); }));
    BOOST_REQUIRE(eventually([&] {
        return find_endpoint(list_json(), dir.uri("f")).if_contains("consumers") &&
               find_endpoint(list_json(), dir.uri("f")).at("consumers") == 1;
    }));
    const auto listing = list_json();

    const auto q = find_endpoint(listing, queue.uri());
    BOOST_REQUIRE_MESSAGE(!q.empty(), json::serialize(listing));
    for (const char* field : {"endpoint", "kind", "capacity", "max_message", "depth", "depth_bytes",
                              "producers", "consumers", "sent", "received", "mode", "owner"})
        BOOST_TEST(q.contains(field), field);
    BOOST_TEST(q.at("kind") == "queue");
    BOOST_TEST(q.at("capacity") == 1u << 20);
    BOOST_TEST(q.at("max_message") == 4096);
    BOOST_TEST(q.at("depth") == 3);
    BOOST_TEST(q.at("depth_bytes") == 3 * 32); // a 16-byte header, the payload, padding to 16
    BOOST_TEST(q.at("producers") == 0);
    BOOST_TEST(q.at("consumers") == 0);
    BOOST_TEST(q.at("sent") == 3);
    BOOST_TEST(q.at("received") == 0);
    BOOST_TEST(q.at("mode") == "0600");
    BOOST_TEST(q.at("owner").as_string().starts_with(me() + ":"), q.at("owner")); // user:group

    const auto t = find_endpoint(listing, topic.topic_uri());
    BOOST_REQUIRE_MESSAGE(!t.empty(), json::serialize(listing));
    BOOST_TEST(t.at("kind") == "topic");
    BOOST_TEST(t.at("slow") == "drop");
    BOOST_TEST(t.at("consumers") == 1);
    BOOST_REQUIRE(t.at("subscribers").as_array().size() == 1u);
    BOOST_TEST(t.at("subscribers").as_array()[0].at("pid") == subscriber.pid());
    BOOST_TEST(t.at("subscribers").as_array()[0].at("behind") == 0);

    const auto f = find_endpoint(listing, dir.uri("f"));
    BOOST_TEST(f.at("kind") == "fifo");
    BOOST_TEST(f.at("sent").is_null());
    BOOST_TEST(f.at("mode") == "0600");

    subscriber.signal(SIGTERM);
    reader.signal(SIGTERM);
    BOOST_TEST(subscriber.wait() == 0, subscriber.err());
    BOOST_TEST(reader.wait() == 0, reader.err());
}

BOOST_AUTO_TEST_CASE(top_once_prints_a_header_then_a_line_per_endpoint_with_its_rates) {
    scratch_segment idle("ctl-top"), busy("ctl-top");
    BOOST_TEST(run(producer_app, {idle.uri()}, "a\nb\nc\n").status == 0);
    child_process consumer(consumer_app, {busy.uri(), "--quiet"});
    BOOST_REQUIRE(eventually([&] { return consumers_attached(busy, 1); }));
    // Paced and far longer than the test: it sends all through top's two samples.
    child_process producer(
        producer_app, {busy.uri(), "--generate", "10000000", "--size", "64", "--rate", "2000"});
    BOOST_REQUIRE(eventually([&] {
        std::error_code ec;
        return shm::inspect_segment(busy.name(), ec).received > 0;
    }));

    const auto top = run(ctl_app, {"top", "--once"});
    BOOST_TEST(top.status == 0, top.err);
    std::istringstream lines(top.out);
    std::string header;
    std::getline(lines, header);
    BOOST_TEST(row_of(header, "ENDPOINT") ==
               (std::vector<std::string>{"ENDPOINT", "KIND", "DEPTH", "IN/S", "OUT/S", "PRODUCERS",
                                         "CONSUMERS"}));
    BOOST_TEST(row_of(top.out, idle.uri()) ==
               (std::vector<std::string>{idle.uri(), "queue", "3", "0", "0", "0", "0"}));
    const auto live = row_of(top.out, busy.uri());
    BOOST_REQUIRE_MESSAGE(live.size() == 7u, top.out);
    BOOST_TEST(live[1] == "queue");
    BOOST_TEST(std::stoull(live[3]) > 0u, top.out); // messages in per second
    BOOST_TEST(std::stoull(live[4]) > 0u, top.out); // and out
    BOOST_TEST(live[5] == "1");
    BOOST_TEST(live[6] == "1");

    producer.signal(SIGTERM);
    BOOST_TEST(producer.wait() == 0, producer.err());
    BOOST_TEST(consumer.wait() == 0, consumer.err());
}

BOOST_AUTO_TEST_CASE(list_and_top_refuse_what_they_do_not_take) {
    const auto xml = run(ctl_app, {"list", "--xml"});
    BOOST_TEST(xml.status == 64);
    BOOST_TEST(contains(xml.err, "list takes --json or nothing, not '--xml'"), xml.err);
    const auto twice = run(ctl_app, {"top", "--twice"});
    BOOST_TEST(twice.status == 64);
    BOOST_TEST(contains(twice.err, "top takes --once or nothing, not '--twice'"), twice.err);
}

BOOST_AUTO_TEST_SUITE_END()
