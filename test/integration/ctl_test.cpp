// conveyor-ctl list and rm.
#include "support/apps.hpp"
#include "support/child_process.hpp"
#include "support/temporary_names.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <iterator>
#include <sstream>
#include <unistd.h>

using namespace conveyor::test;

namespace {

// The columns of ctl list's row for uri; empty when it is not listed.
std::vector<std::string> row_of(const std::string& listing, const std::string& uri) {
    std::istringstream lines(listing);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::vector<std::string> columns{std::istream_iterator<std::string>(words),
                                         std::istream_iterator<std::string>()};
        if (!columns.empty() && columns[0] == uri) return columns;
    }
    return {};
}

} // namespace

BOOST_AUTO_TEST_SUITE(ctl)

BOOST_AUTO_TEST_CASE(list_shows_capacity_depth_and_who_is_attached) {
    scratch_segment s("ctl-list");
    BOOST_TEST(run(producer_app, {s.uri(), "--capacity", "1M", "--max-message", "4K"}, "a\nb\nc\n")
                   .status == 0);
    const auto listing = run(ctl_app, {"list"});
    BOOST_TEST(listing.status == 0);
    const auto row = row_of(listing.out, s.uri());
    BOOST_REQUIRE_MESSAGE(row.size() == 11u, listing.out);
    BOOST_TEST(row[1] == "1M");     // capacity
    BOOST_TEST(row[2] == "4K");     // max message
    BOOST_TEST(row[3] == "3");      // depth in messages
    BOOST_TEST(row[5] == "0");      // producers: the one that ran has gone
    BOOST_TEST(row[7] == "3");      // sent
    BOOST_TEST(row[10] == "00600"); // mode

    child_process waiting(consumer_app, {s.uri(), "--count", "3"});
    BOOST_TEST(waiting.wait() == 0);
    BOOST_TEST(row_of(run(ctl_app, {"list"}).out, s.uri())[3] == "0");
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
