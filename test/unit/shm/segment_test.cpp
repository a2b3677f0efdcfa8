// Creating, joining, checking and removing segments.
#include "support/temporary_names.hpp"

#include <conveyor/error.hpp>
#include <conveyor/generated_message.hpp>
#include <conveyor/shm/queue.hpp>
#include <conveyor/shm/segment.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace conveyor;
using conveyor::test::scratch_segment;

namespace {

std::string file_contents(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::string& path, const std::string& contents) {
    std::ofstream(path, std::ios::binary) << contents;
}

// Opens a sender expecting failure; returns the error and its sentence.
std::pair<std::error_code, std::string> open_failure(const scratch_segment& s,
                                                     const channel_options& options = {}) {
    std::error_code ec;
    std::string why;
    auto sender = shm::queue_sender::open(endpoint::parse(s.uri()), options, ec, &why);
    BOOST_TEST(!sender);
    return {ec, why};
}

// A pid that certainly belongs to no process: a child that has exited and been reaped.
pid_t dead_pid() {
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    ::waitpid(child, nullptr, 0);
    return child;
}

// A conveyor segment under s's name whose header claims layout version (the byte after the
// 8-byte magic), as another build of conveyor would have made it.
void make_with_layout_version(const scratch_segment& s, char version) {
    { shm::queue_sender creator(endpoint::parse(s.uri())); }
    std::string bytes = file_contents(s.path());
    bytes[8] = version;
    write_file(s.path(), bytes);
}

} // namespace

BOOST_AUTO_TEST_SUITE(shm_segment)

BOOST_AUTO_TEST_CASE(the_first_opener_creates_and_the_next_joins) {
    scratch_segment s("join");
    shm::queue_sender producer(endpoint::parse(s.uri()));
    shm::queue_receiver consumer(endpoint::parse(s.uri()));
    const std::string text = "hello";
    producer.send(std::as_bytes(std::span(text)));
    std::vector<std::byte> got;
    BOOST_TEST((consumer.receive(got) == receive_status::message));
    BOOST_TEST(std::string(reinterpret_cast<const char*>(got.data()), got.size()) == text);
    const auto info = shm::inspect_segment(s.name());
    BOOST_TEST(info.producers == 1u);
    BOOST_TEST(info.consumers == 1u);
    BOOST_TEST(info.creator_pid == ::getpid());
}

BOOST_AUTO_TEST_CASE(segments_are_private_to_their_user_unless_asked) {
    scratch_segment private_one("mode"), shared_one("mode");
    shm::queue_sender a(endpoint::parse(private_one.uri()));
    channel_options options;
    options.mode = 0660;
    shm::queue_sender b(endpoint::parse(shared_one.uri()), options);
    struct stat st {};
    BOOST_REQUIRE(::stat(private_one.path().c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0600u);
    BOOST_REQUIRE(::stat(shared_one.path().c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0660u);
}

BOOST_AUTO_TEST_CASE(a_foreign_file_is_refused_and_left_untouched) {
    for (const std::string& contents :
         {std::string("not ours"), std::string(1 << 20, '\0'), std::string(4096, 'x')}) {
        scratch_segment s("foreign");
        write_file(s.path(), contents);
        const auto [ec, why] = open_failure(s);
        BOOST_TEST((ec == errc::not_a_segment));
        BOOST_TEST(why.find("not a conveyor segment") != std::string::npos);
        BOOST_TEST(file_contents(s.path()) == contents);
        std::error_code rm;
        shm::remove_segment(s.name(), rm);
        BOOST_TEST((rm == errc::not_a_segment));
        BOOST_TEST(::access(s.path().c_str(), F_OK) == 0);
    }
}

BOOST_AUTO_TEST_CASE(another_layout_version_is_refused_by_name) {
    scratch_segment s("version");
    make_with_layout_version(s, 99);
    const auto [ec, why] = open_failure(s);
    BOOST_TEST((ec == errc::layout_mismatch));
    BOOST_TEST(why.find("layout version 99") != std::string::npos);
    shm::remove_segment(s.name()); // conveyor's own, whatever its version
    BOOST_TEST(::access(s.path().c_str(), F_OK) != 0);
}

BOOST_AUTO_TEST_CASE(a_segment_of_another_layout_version_is_listed_with_that_version) {
    scratch_segment s("version-list");
    make_with_layout_version(s, 1);
    const auto segments = shm::list_segments();
    const auto listed = std::find_if(segments.begin(), segments.end(),
                                     [&](const auto& info) { return info.name == s.name(); });
    BOOST_REQUIRE(listed != segments.end());
    BOOST_TEST(listed->layout_mismatch);
    BOOST_TEST(listed->layout_version == 1u);
}

BOOST_AUTO_TEST_CASE(a_header_that_disagrees_with_the_file_size_is_refused) {
    scratch_segment s("size");
    { shm::queue_sender creator(endpoint::parse(s.uri())); }
    BOOST_REQUIRE(::truncate(s.path().c_str(), 8192) == 0);
    BOOST_TEST((open_failure(s).first == errc::not_a_segment));
}

BOOST_AUTO_TEST_CASE(options_that_cannot_hold_a_message_are_refused) {
    scratch_segment s("options");
    channel_options options;
    options.capacity = 1000;
    options.max_message = 4096;
    const auto [ec, why] = open_failure(s, options);
    BOOST_TEST((ec == errc::invalid_argument));
    BOOST_TEST(why.find("capacity") != std::string::npos);
    BOOST_TEST(::access(s.path().c_str(), F_OK) != 0);
}

BOOST_AUTO_TEST_CASE(a_creation_cut_short_is_cleared_and_redone) {
    scratch_segment s("abandoned");
    // All a creator killed mid-way can leave: its private file, never published.
    const std::string leftover =
        "/dev/shm/." + s.name() + ".creating." + std::to_string(dead_pid());
    write_file(leftover, std::string(100, '\x7f'));
    shm::queue_sender producer(endpoint::parse(s.uri()));
    BOOST_TEST(::access(leftover.c_str(), F_OK) != 0);
    BOOST_TEST(shm::inspect_segment(s.name()).producers == 1u);
}

BOOST_AUTO_TEST_CASE(removing_a_segment_clears_what_dead_creators_left_beside_it) {
    scratch_segment s("abandoned-rm");
    { shm::queue_sender creator(endpoint::parse(s.uri())); }
    // A creator killed mid-way after another had published the segment.
    const std::string dead = "/dev/shm/." + s.name() + ".creating." + std::to_string(dead_pid());
    const std::string live = "/dev/shm/." + s.name() + ".creating." + std::to_string(::getpid());
    write_file(dead, std::string(100, '\x7f'));
    write_file(live, std::string(100, '\x7f'));
    shm::remove_segment(s.name());
    BOOST_TEST(::access(s.path().c_str(), F_OK) != 0);
    BOOST_TEST(::access(dead.c_str(), F_OK) != 0);
    BOOST_TEST(::access(live.c_str(), F_OK) == 0); // its creator may still publish it
    std::remove(dead.c_str());
    std::remove(live.c_str());
}

BOOST_AUTO_TEST_CASE(joining_a_segment_clears_what_dead_creators_left_beside_it) {
    scratch_segment s("abandoned-join");
    shm::queue_sender creator(endpoint::parse(s.uri()));
    const std::string dead = "/dev/shm/." + s.name() + ".creating." + std::to_string(dead_pid());
    write_file(dead, std::string(100, '\x7f'));
    shm::queue_receiver joiner(endpoint::parse(s.uri()));
    BOOST_TEST(::access(dead.c_str(), F_OK) != 0);
    std::remove(dead.c_str());
}

BOOST_AUTO_TEST_CASE(creators_starting_at_the_same_instant_agree_on_one_segment) {
    scratch_segment s("race");
    constexpr int creators = 8;
    constexpr std::uint64_t each = 100;
    int go[2];
    BOOST_REQUIRE(::pipe(go) == 0);
    std::vector<pid_t> children;
    for (int i = 0; i < creators; ++i) {
        const pid_t child = ::fork();
        if (child == 0) {
            ::close(go[1]);
            char byte;
            (void)!::read(go[0], &byte, 1); // returns at once for all when the pipe closes
            try {
                shm::queue_sender producer(endpoint::parse(s.uri()));
                const message_generator make(make_producer_id(), 64, each);
                std::vector<std::byte> m(64);
                for (std::uint64_t n = 0; n < each; ++n) {
                    make.make(n, m);
                    producer.send(m);
                }
                producer.close();
                ::_exit(0);
            } catch (...) {
                ::_exit(1);
            }
        }
        children.push_back(child);
    }
    ::close(go[0]);
    ::close(go[1]);
    for (pid_t child : children) {
        int status = 0;
        ::waitpid(child, &status, 0);
        BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    }
    shm::queue_receiver consumer(endpoint::parse(s.uri()));
    stream_verifier verify;
    std::vector<std::byte> m;
    while (consumer.receive(m) == receive_status::message)
        verify.observe(m);
    const auto result = verify.result();
    BOOST_TEST(result.ok());
    BOOST_TEST(result.messages == creators * each);
    BOOST_TEST(result.producers == std::uint64_t(creators));
}

BOOST_AUTO_TEST_CASE(a_full_dev_shm_fails_cleanly_and_leaves_nothing) {
    struct statvfs fs {};
    BOOST_REQUIRE(::statvfs("/dev/shm", &fs) == 0);
    const std::uint64_t total = std::uint64_t(fs.f_blocks) * fs.f_frsize;
    if (total >= (std::uint64_t(63) << 30)) {
        BOOST_TEST_MESSAGE("skipped: /dev/shm is larger than the largest capacity allowed");
        return;
    }
    scratch_segment s("full");
    channel_options options;
    options.capacity = std::size_t(63) << 30;
    const auto [ec, why] = open_failure(s, options);
    BOOST_TEST((ec == std::errc::no_space_on_device));
    BOOST_TEST(why.find("No space left") != std::string::npos, why);
    BOOST_TEST(::access(s.path().c_str(), F_OK) != 0);
}

BOOST_AUTO_TEST_CASE(listing_shows_conveyor_segments_and_skips_other_files) {
    scratch_segment ours("list"), theirs("list");
    shm::queue_sender producer(endpoint::parse(ours.uri()));
    write_file(theirs.path(), "someone else's");
    bool found_ours = false, found_theirs = false;
    for (const auto& info : shm::list_segments()) {
        found_ours |= info.name == ours.name();
        found_theirs |= info.name == theirs.name();
    }
    BOOST_TEST(found_ours);
    BOOST_TEST(!found_theirs);
}

BOOST_AUTO_TEST_SUITE_END()
