// A segment someone else wrote into: random bytes of live segments overwritten (header,
// queue control, records, lengths), then opened, listed, read and written by conveyor.
// Nothing may crash, touch memory outside the mapping, loop for ever or wait past its
// timeout; what it can tell is wrong is reported as a corrupt segment.
#include "shm/mapping.hpp"
#include "support/temporary_names.hpp"

#include <conveyor/error.hpp>
#include <conveyor/shm/queue.hpp>
#include <conveyor/shm/segment.hpp>

#include <boost/test/unit_test.hpp>

#include <array>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace conveyor;
using namespace std::chrono_literals;
using conveyor::test::scratch_segment;

namespace {

// What became of one round, as the test counts them.
enum outcome : int {
    refused_at_open, // not a segment, another layout, too many attached...
    reported_corrupt,
    drained, // read to the end of the stream, or until the (short) timeout passed
    other_error,
    outcome_count,
};
constexpr std::array<const char*, outcome_count> outcome_names{
    "refused at open", "reported corrupt", "drained", "other error"};

// Rounds per child process: a crash or a hang fails the test naming the round's seed.
constexpr int rounds_per_child = 100;
// Every call of a round is bounded by a short timeout, opening by the 10 s it waits for a
// lock that a live process holds: a round that takes longer has waited past one.
constexpr unsigned round_watchdog_seconds = 15;

int rounds_asked() {
    const char* asked = std::getenv("CONVEYOR_CORRUPTION_ROUNDS");
    return asked ? std::max(1, std::atoi(asked)) : 2000;
}

// Overwrites 1 to 8 bytes: a third in the first 512 (header, locks, positions, counts), a
// third in the first 8 KiB (producer slots too), the rest anywhere in the control block or
// the first records.
void scribble(const std::string& path, std::mt19937_64& random) {
    const int fd = ::open(path.c_str(), O_WRONLY);
    if (fd < 0) return;
    const std::uint64_t control_end = shm::detail::data_offset();
    const std::uint64_t records_end = control_end + 16 * 1024;
    const std::array<std::uint64_t, 3> reach{512, 8192, records_end};
    const int bytes = std::uniform_int_distribution<int>(1, 8)(random);
    for (int i = 0; i < bytes; ++i) {
        const std::uint64_t offset = random() % reach[random() % reach.size()];
        const auto value = static_cast<unsigned char>(random());
        (void)!::pwrite(fd, &value, 1, static_cast<off_t>(offset));
    }
    ::close(fd);
}

outcome one_round(std::uint64_t seed) {
    std::mt19937_64 random(seed);
    scratch_segment s("corrupt");
    const auto where = endpoint::parse(s.uri());
    channel_options options;
    options.capacity = 256 * 1024;
    options.max_message = 4096;
    options.acknowledge = random() % 2 == 0;
    // A live segment: a producer attached, messages queued, some taken (some leased).
    shm::queue_sender producer(where, options);
    shm::queue_receiver early(where, options);
    std::vector<std::byte> message(4096);
    for (int i = 0, n = static_cast<int>(random() % 200); i < n; ++i)
        producer.try_send(std::span(message.data(), random() % 4096)); // until full
    message_batch batch;
    early.receive_batch(batch, random() % 50, no_wait);
    scribble(s.path(), random);

    std::error_code ec;
    (void)shm::inspect_segment(s.name(), ec); // what conveyor-ctl list reads
    auto in = shm::queue_receiver::open(where, options, ec);
    if (!in) return ec == errc::segment_corrupt ? reported_corrupt : refused_at_open;
    auto out = shm::queue_sender::open(where, options, ec);
    if (out) out->try_send(std::span(message.data(), 100), ec);
    if (ec == errc::segment_corrupt) return reported_corrupt;
    early.ack(ec);
    for (int turn = 0; turn < 1000; ++turn) {
        const auto status = in->receive_batch(batch, 64, 2ms, ec);
        if (ec == errc::segment_corrupt) return reported_corrupt;
        if (ec) return other_error;
        in->ack(ec);
        if (status != receive_status::message) return drained;
    }
    return drained;
}

} // namespace

BOOST_AUTO_TEST_SUITE(shm_corruption)

BOOST_AUTO_TEST_CASE(no_bytes_written_into_a_segment_crash_wedge_or_mislead_its_peers) {
    const char* one_seed = std::getenv("CONVEYOR_CORRUPTION_SEED");
    const int rounds = one_seed ? 1 : rounds_asked();
    const std::uint64_t base_seed =
        one_seed ? std::strtoull(one_seed, nullptr, 10) : std::random_device{}();
    BOOST_TEST_MESSAGE("shm_corruption: " << rounds << " rounds from seed " << base_seed
                                          << " (CONVEYOR_CORRUPTION_ROUNDS sets how many)");
    std::array<std::uint64_t, outcome_count> totals{};
    // The seed of the round a child is in, where the parent can read it after a crash.
    auto* current = static_cast<std::uint64_t*>(::mmap(
        nullptr, sizeof(std::uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    BOOST_REQUIRE(current != MAP_FAILED);
    for (int first = 0; first < rounds; first += rounds_per_child) {
        const int last = std::min(rounds, first + rounds_per_child);
        int counts[2];
        BOOST_REQUIRE(::pipe(counts) == 0);
        const pid_t child = ::fork();
        if (child == 0) {
            std::array<std::uint64_t, outcome_count> mine{};
            for (int round = first; round < last; ++round) {
                *current = base_seed + static_cast<std::uint64_t>(round);
                ::alarm(round_watchdog_seconds);
                ++mine[one_round(*current)];
            }
            (void)!::write(counts[1], mine.data(), sizeof mine);
            ::_exit(0);
        }
        ::close(counts[1]);
        std::array<std::uint64_t, outcome_count> mine{};
        const bool reported = ::read(counts[0], mine.data(), sizeof mine) == sizeof mine;
        ::close(counts[0]);
        int status = 0;
        ::waitpid(child, &status, 0);
        BOOST_REQUIRE_MESSAGE(WIFEXITED(status) && WEXITSTATUS(status) == 0 && reported,
                              "the round of seed "
                                  << *current << " ended by "
                                  << (WIFSIGNALED(status) ? ::strsignal(WTERMSIG(status))
                                                          : "an exit")
                                  << " (SIGALRM: a call waited past its timeout); "
                                     "CONVEYOR_CORRUPTION_SEED="
                                  << *current << " runs it alone");
        for (std::size_t i = 0; i < outcome_count; ++i)
            totals[i] += mine[i];
    }
    std::string summary;
    for (std::size_t i = 0; i < outcome_count; ++i)
        summary += std::string(i ? ", " : "") + std::to_string(totals[i]) + " " + outcome_names[i];
    BOOST_TEST_MESSAGE("shm_corruption: " << summary);
    BOOST_TEST(totals[other_error] == 0u, summary);
    ::munmap(current, sizeof(std::uint64_t));
}

BOOST_AUTO_TEST_CASE(positions_out_of_order_are_reported_with_what_was_wrong) {
    scratch_segment s("corrupt-positions");
    const auto where = endpoint::parse(s.uri());
    shm::queue_sender producer(where);
    shm::queue_receiver consumer(where);
    producer.send(std::vector<std::byte>(10));
    {
        std::error_code ec;
        std::string why;
        auto map =
            shm::detail::mapping::open(s.name(), shm::detail::mapping::access::read_write, ec, why);
        map->control().head.store(1 << 30); // past tail
    }
    std::vector<std::byte> got;
    try {
        consumer.receive(got);
        BOOST_FAIL("a head past the tail went unnoticed");
    } catch (const error& e) {
        BOOST_TEST((e.code() == errc::segment_corrupt));
        BOOST_TEST(std::string(e.what()).starts_with(s.uri() + ": segment is corrupt (positions "
                                                               "out of order: head 1073741824"),
                   e.what());
    }
}

BOOST_AUTO_TEST_SUITE_END()
