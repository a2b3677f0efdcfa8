// Segments and FIFOs between two real users: the suite's user (root in CI) makes them, and
// nobody, through setpriv, tries to use, remove and list them. A 0600 channel is refused
// to the other user and left untouched; a 0660 one whose group the other user is in carries
// a verified stream both ways; only the owner (or root) removes either, since /dev/shm and
// /tmp are sticky. Where this process cannot switch users, each case is skipped, saying why.
#include "support/apps.hpp"
#include "support/child_process.hpp"
#include "support/temporary_names.hpp"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <grp.h>
#include <pwd.h>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace conveyor::test;
namespace fs = std::filesystem;

namespace {

constexpr const char* setpriv = "/usr/bin/setpriv";
constexpr const char* other_user = "nobody";
constexpr const char* other_primary_group = "nogroup";
// The group both users are in: Debian's base-passwd always has it. The other user gets it
// as a supplementary group, as a member of a shared group would.
constexpr const char* shared_group = "users";

// The precondition of every case: when it fails, the case is skipped and says why, in a line
// that CTest reads as "skipped" (test/CMakeLists.txt), so that nothing passes vacuously.
boost::test_tools::assertion_result can_switch_user(boost::unit_test::test_unit_id) {
    std::string why;
    if (::geteuid() != 0)
        why = "not root, so this process cannot run anything as " + std::string(other_user) +
              " (run the suite as root, as CI does)";
    else if (::access(setpriv, X_OK) != 0)
        why = std::string("no ") + setpriv + " (util-linux) to switch users with";
    else if (!::getpwnam(other_user) || !::getgrnam(other_primary_group) ||
             !::getgrnam(shared_group))
        why = "no user " + std::string(other_user) + ", or no group " + other_primary_group +
              " or " + shared_group;
    if (why.empty()) return true;
    BOOST_TEST_MESSAGE("another_user: skipped: " << why);
    boost::test_tools::assertion_result result(false);
    result.message() << why;
    return result;
}

gid_t shared_gid() {
    return ::getgrnam(shared_group)->gr_gid;
}

// "root:root": who owns path, as conveyor names it.
std::string owner_of(const std::string& path) {
    struct stat st {};
    BOOST_REQUIRE(::stat(path.c_str(), &st) == 0);
    const passwd* user = ::getpwuid(st.st_uid);
    const group* grp = ::getgrgid(st.st_gid);
    return (user ? std::string(user->pw_name) : std::to_string(st.st_uid)) + ":" +
           (grp ? std::string(grp->gr_name) : std::to_string(st.st_gid));
}

std::string file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
}

// The apps as the other user reaches them: where they were built when that user may run
// them there, else copies in a directory of their own (a build tree under /root is closed
// to other users), removed at the end.
class other_user_apps {
public:
    other_user_apps() {
        if (reachable(producer_app)) {
            producer = producer_app, consumer = consumer_app, ctl = ctl_app;
            return;
        }
        static std::atomic<int> counter{0};
        copies_ = "/tmp/conveyor-test-apps-" + std::to_string(::getpid()) + "-" +
                  std::to_string(counter++);
        fs::create_directory(copies_);
        fs::permissions(copies_, fs::perms::owner_all | fs::perms::group_read |
                                     fs::perms::group_exec | fs::perms::others_read |
                                     fs::perms::others_exec);
        producer = copy(producer_app), consumer = copy(consumer_app), ctl = copy(ctl_app);
        BOOST_TEST_MESSAGE("the build tree is closed to " << other_user << ": apps copied to "
                                                          << copies_);
    }
    ~other_user_apps() {
        if (!copies_.empty()) fs::remove_all(copies_);
    }
    other_user_apps(const other_user_apps&) = delete;
    other_user_apps& operator=(const other_user_apps&) = delete;

    // program's arguments to run it as the other user: nobody:nogroup, and a member of the
    // shared group, not of root's.
    static std::vector<std::string> as_other(const std::string& program,
                                             const std::vector<std::string>& args) {
        std::vector<std::string> all{"--reuid=" + std::string(other_user),
                                     "--regid=" + std::string(other_primary_group),
                                     "--groups=" + std::string(shared_group), program};
        all.insert(all.end(), args.begin(), args.end());
        return all;
    }

    std::string producer, consumer, ctl;

private:
    static bool reachable(const std::string& program) {
        return run(setpriv, as_other("/bin/sh", {"-c", "test -x \"$0\"", program})).status == 0;
    }
    std::string copy(const std::string& program) {
        const auto target = copies_ / fs::path(program).filename();
        fs::copy_file(program, target);
        return target;
    }

    fs::path copies_;
};

run_result run_as_other(const std::string& program, const std::vector<std::string>& args,
                        const std::string& stdin_data = {}) {
    return run(setpriv, other_user_apps::as_other(program, args), stdin_data);
}

// A FIFO path in /tmp itself, sticky as it is, unique to this test; removed at the end
// whoever made it.
class scratch_fifo_path {
public:
    explicit scratch_fifo_path(const std::string& purpose) {
        static std::atomic<int> counter{0};
        path_ = "/tmp/conveyor-test-" + purpose + "-" + std::to_string(::getpid()) + "-" +
                std::to_string(counter++) + ".fifo";
        std::remove(path_.c_str());
    }
    ~scratch_fifo_path() { std::remove(path_.c_str()); }
    scratch_fifo_path(const scratch_fifo_path&) = delete;
    scratch_fifo_path& operator=(const scratch_fifo_path&) = delete;

    const std::string& path() const { return path_; }
    std::string uri() const { return "fifo://" + path_; }

private:
    std::string path_;
};

const std::string verified_1000 =
    "received 1000 messages from 1 producers: 0 lost, 0 duplicated, 0 corrupt";

} // namespace

BOOST_AUTO_TEST_SUITE(another_user)

BOOST_AUTO_TEST_CASE(a_0600_segment_cannot_be_attached_read_or_removed_by_another_user,
                     *boost::unit_test::precondition(can_switch_user)) {
    other_user_apps apps;
    scratch_segment s("other-0600");
    BOOST_REQUIRE(run(producer_app, {s.uri(), "--generate", "100", "--size", "64"}).status == 0);
    const std::string owner = owner_of(s.path());
    const std::string before = file_bytes(s.path());

    const auto consumer = run_as_other(apps.consumer, {s.uri(), "--quiet", "--timeout", "1"});
    BOOST_TEST(consumer.status == 70, consumer.err);
    BOOST_TEST(contains(consumer.err, s.uri() + ": permission denied: " + s.path() +
                                          " belongs to " + owner +
                                          " with mode 0600, and this "
                                          "process runs as nobody:nogroup"),
               consumer.err);
    const auto producer = run_as_other(apps.producer, {s.uri(), "--generate", "1"});
    BOOST_TEST(producer.status == 70, producer.err);
    BOOST_TEST(contains(producer.err, "belongs to " + owner + " with mode 0600"), producer.err);
    const auto rm = run_as_other(apps.ctl, {"rm", s.uri()});
    BOOST_TEST(rm.status == 70, rm.err);
    BOOST_TEST(contains(rm.err, s.uri() + ": cannot remove: " + s.path() + " belongs to " + owner +
                                    " and /dev/shm is sticky"),
               rm.err);

    // Listed as what it is to the other user: there, its owner's, unreadable.
    const auto listing = run_as_other(apps.ctl, {"list"});
    BOOST_TEST(listing.status == 0, listing.err);
    const std::vector<std::string> no_access{s.uri(),     "no",   "access:", "owner",
                                             owner + ",", "mode", "00600"};
    BOOST_TEST(row_of(listing.out, s.uri()) == no_access, listing.out);

    // Not a byte changed: the owner's stream is whole.
    BOOST_TEST((file_bytes(s.path()) == before));
    const auto drained = run(consumer_app, {s.uri(), "--verify", "--quiet"});
    BOOST_TEST(drained.status == 0, drained.err);
    BOOST_TEST(contains(drained.err, "received 100 messages from 1 producers: 0 lost"),
               drained.err);
}

BOOST_AUTO_TEST_CASE(
    a_0660_segment_carries_a_stream_both_ways_for_its_group_but_only_its_owner_removes_it,
    *boost::unit_test::precondition(can_switch_user)) {
    other_user_apps apps;
    scratch_segment s("other-0660");
    BOOST_REQUIRE(run(producer_app, {s.uri(), "--mode", "0660"}).status == 0); // creates it
    BOOST_REQUIRE(::chown(s.path().c_str(), -1, shared_gid()) == 0);
    const std::string owner = owner_of(s.path());

    // The member produces, the owner consumes.
    const auto sent = run_as_other(apps.producer, {s.uri(), "--generate", "1000", "--size", "64"});
    BOOST_TEST(sent.status == 0, sent.err);
    const auto taken = run(consumer_app, {s.uri(), "--verify", "--quiet"});
    BOOST_TEST(taken.status == 0, taken.err);
    BOOST_TEST(contains(taken.err, verified_1000), taken.err);

    // The owner produces, the member consumes.
    BOOST_TEST(run(producer_app, {s.uri(), "--generate", "1000", "--size", "64"}).status == 0);
    const auto member = run_as_other(apps.consumer, {s.uri(), "--verify", "--quiet"});
    BOOST_TEST(member.status == 0, member.err);
    BOOST_TEST(contains(member.err, verified_1000), member.err);

    const auto listing = run_as_other(apps.ctl, {"list"});
    const auto row = row_of(listing.out, s.uri());
    BOOST_REQUIRE_MESSAGE(row.size() == 12u, listing.out);
    BOOST_TEST(row[10] == "00660");
    BOOST_TEST(row[11] == owner);

    const auto rm = run_as_other(apps.ctl, {"rm", s.uri()});
    BOOST_TEST(rm.status == 70, rm.err);
    BOOST_TEST(contains(rm.err, "belongs to " + owner +
                                    " and /dev/shm is sticky: only its "
                                    "owner or root may remove it"),
               rm.err);
    BOOST_TEST(::access(s.path().c_str(), F_OK) == 0);
    BOOST_TEST(run(ctl_app, {"rm", s.uri()}).status == 0);
    BOOST_TEST(::access(s.path().c_str(), F_OK) != 0);
}

BOOST_AUTO_TEST_CASE(a_0600_fifo_cannot_be_opened_or_removed_by_another_user,
                     *boost::unit_test::precondition(can_switch_user)) {
    other_user_apps apps;
    scratch_fifo_path f("other-0600");
    // No consumer: the producer makes the FIFO and gives up at once.
    BOOST_REQUIRE(run(producer_app, {f.uri(), "--timeout", "0"}, "x\n").status == 2);
    struct stat before {};
    BOOST_REQUIRE(::lstat(f.path().c_str(), &before) == 0);
    const std::string owner = owner_of(f.path());
    const std::string refusal =
        "Permission denied: " + f.path() + " belongs to " + owner + " with mode 0600";

    const auto consumer = run_as_other(apps.consumer, {f.uri(), "--timeout", "1"});
    BOOST_TEST(consumer.status == 70, consumer.err);
    BOOST_TEST(contains(consumer.err, f.uri() + ": opening the FIFO: " + refusal), consumer.err);
    const auto producer = run_as_other(apps.producer, {f.uri(), "--timeout", "1"}, "x\n");
    BOOST_TEST(producer.status == 70, producer.err);
    BOOST_TEST(contains(producer.err, f.uri() + ": opening the FIFO to write: " + refusal),
               producer.err);
    const auto rm = run_as_other(apps.ctl, {"rm", f.uri()});
    BOOST_TEST(rm.status == 70, rm.err);
    BOOST_TEST(contains(rm.err, f.path() + " belongs to " + owner + " and /tmp is sticky"), rm.err);

    const auto listing = run_as_other(apps.ctl, {"list"});
    const std::vector<std::string> no_access{f.uri(), "00600", "none", owner, "no", "access"};
    BOOST_TEST(row_of(listing.out, f.uri()) == no_access, listing.out);

    struct stat after {};
    BOOST_TEST(::lstat(f.path().c_str(), &after) == 0);
    BOOST_TEST(S_ISFIFO(after.st_mode));
    BOOST_TEST(after.st_ino == before.st_ino);
}

BOOST_AUTO_TEST_CASE(
    a_0660_fifo_carries_a_stream_both_ways_for_its_group_but_only_its_owner_removes_it,
    *boost::unit_test::precondition(can_switch_user)) {
    other_user_apps apps;
    scratch_fifo_path f("other-0660");
    BOOST_REQUIRE(run(producer_app, {f.uri(), "--timeout", "0", "--mode", "0660"}, "x\n").status ==
                  2);
    BOOST_REQUIRE(::chown(f.path().c_str(), -1, shared_gid()) == 0);
    const std::string owner = owner_of(f.path());

    // The member consumes, the owner produces: the producer waits for the consumer to open
    // the FIFO, the consumer for the producer's stream to end.
    {
        child_process member(
            setpriv, other_user_apps::as_other(apps.consumer, {f.uri(), "--verify", "--quiet"}));
        BOOST_TEST(run(producer_app, {f.uri(), "--generate", "1000", "--size", "64"}).status == 0);
        BOOST_TEST(member.wait() == 0, member.err());
        BOOST_TEST(contains(member.err(), verified_1000), member.err());
    }
    // The owner consumes, the member produces.
    {
        child_process consumer(consumer_app, {f.uri(), "--verify", "--quiet"});
        const auto sent =
            run_as_other(apps.producer, {f.uri(), "--generate", "1000", "--size", "64"});
        BOOST_TEST(sent.status == 0, sent.err);
        BOOST_TEST(consumer.wait() == 0, consumer.err());
        BOOST_TEST(contains(consumer.err(), verified_1000), consumer.err());
    }

    const auto listing = run_as_other(apps.ctl, {"list"});
    const std::vector<std::string> shared{f.uri(), "00660", "none", owner};
    BOOST_TEST(row_of(listing.out, f.uri()) == shared, listing.out);

    const auto rm = run_as_other(apps.ctl, {"rm", f.uri()});
    BOOST_TEST(rm.status == 70, rm.err);
    BOOST_TEST(contains(rm.err, f.path() + " belongs to " + owner + " and /tmp is sticky"), rm.err);
    BOOST_TEST(::access(f.path().c_str(), F_OK) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
