// conveyor-ctl list and rm.
#include "support/apps.hpp"
#include "support/child_process.hpp"
#include "support/temporary_names.hpp"

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <fstream>
#include <unistd.h>

using namespace conveyor::test;

BOOST_AUTO_TEST_SUITE(ctl)

BOOST_AUTO_TEST_CASE(list_shows_capacity_depth_and_who_is_attached) {
    scratch_segment s("ctl-list");
    BOOST_TEST(run(producer_app, {s.uri(), "--capacity", "1M", "--max-message", "4K"}, "a\nb\nc\n")
                   .status == 0);
    const auto listing = run(ctl_app, {"list"});
    BOOST_TEST(listing.status == 0);
    const auto row = row_of(listing.out, s.uri());
    BOOST_REQUIRE_MESSAGE(row.size() == 12u, listing.out);
    BOOST_TEST(row[1] == "1M");         // capacity
    BOOST_TEST(row[2] == "4K");         // max message
    BOOST_TEST(row[3] == "3");          // depth in messages
    BOOST_TEST(row[5] == "0");          // producers: the one that ran has gone
    BOOST_TEST(row[7] == "3");          // sent
    BOOST_TEST(row[10] == "00600");     // mode
    BOOST_TEST(contains(row[11], ":")); // owner:group

    child_process drainer(consumer_app, {s.uri(), "--count", "3"});
    BOOST_TEST(drainer.wait() == 0);
    BOOST_TEST(row_of(run(ctl_app, {"list"}).out, s.uri())[3] == "0");

    // Drained and without producers, the queue makes the next consumer wait for a stream.
    auto attached = [&](const std::string& producers, const std::string& consumers) {
        const auto now = row_of(run(ctl_app, {"list"}).out, s.uri());
        return now.size() == 12u && now[5] == producers && now[6] == consumers;
    };
    child_process consumer(consumer_app, {s.uri(), "--quiet"});
    BOOST_TEST(eventually([&] { return attached("0", "1"); }), run(ctl_app, {"list"}).out);
    // Paced, and longer than the test may last: it is still attached when listed; SIGTERM
    // ends its stream.
    child_process producer(producer_app, with({s.uri(), "--size", "64"}, outlasting_stream(10)));
    BOOST_TEST(eventually([&] { return attached("1", "1"); }), run(ctl_app, {"list"}).out);
    producer.signal(SIGTERM);
    BOOST_TEST(producer.wait() == 0, producer.err());
    BOOST_TEST(consumer.wait() == 0, consumer.err());
}

BOOST_AUTO_TEST_CASE(list_shows_a_segment_of_another_layout_version_by_that_version) {
    scratch_segment s("ctl-version");
    BOOST_TEST(run(producer_app, {s.uri()}, "x\n").status == 0);
    {
        std::fstream segment(s.path(), std::ios::in | std::ios::out | std::ios::binary);
        segment.seekp(8); // layout_version follows the 8-byte magic
        segment.put(1);
    }
    const auto listing = run(ctl_app, {"list"});
    BOOST_TEST(listing.status == 0);
    const auto row = row_of(listing.out, s.uri());
    BOOST_REQUIRE_MESSAGE(row.size() >= 3u, listing.out);
    BOOST_TEST(row[1] + " " + row[2] == "layout v1:", listing.out);

    BOOST_TEST(run(ctl_app, {"rm", s.uri()}).status == 0);
    BOOST_TEST(row_of(run(ctl_app, {"list"}).out, s.uri()).empty());
}

BOOST_AUTO_TEST_CASE(rm_removes_conveyor_segments_and_refuses_other_files) {
    scratch_segment ours("ctl-rm"), theirs("ctl-rm"), missing("ctl-rm");
    BOOST_TEST(run(producer_app, {ours.uri()}, "x\n").status == 0);
    std::ofstream(theirs.path()) << "not conveyor's";

    BOOST_TEST(run(ctl_app, {"rm", ours.uri()}).status == 0);
    BOOST_TEST(::access(ours.path().c_str(), F_OK) != 0);

    const auto refused = run(ctl_app, {"rm", theirs.uri()});
    BOOST_TEST(refused.status == 70);
    BOOST_TEST(contains(refused.err, "not a conveyor segment"), refused.err);
    BOOST_TEST(::access(theirs.path().c_str(), F_OK) == 0);

    const auto absent = run(ctl_app, {"rm", missing.uri()});
    BOOST_TEST(absent.status == 70);
    BOOST_TEST(contains(absent.err, "no such segment"), absent.err);
}

BOOST_AUTO_TEST_SUITE_END()
