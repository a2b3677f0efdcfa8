// conveyor-producer and conveyor-consumer over pipe: and fifo://, and their signal handling,
// as users run them: real processes, real FIFOs, real signals.
#include "support/apps.hpp"
#include "support/child_process.hpp"
#include "support/scratch_dir.hpp"
#include "support/temporary_names.hpp"

#include <conveyor/pipe/fifo.hpp>
#include <conveyor/pipe/framing.hpp>
#include <conveyor/shm/segment.hpp>
#include <conveyor/signals.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <span>
#include <sstream>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace conveyor;
using namespace conveyor::test;

namespace {

const std::string all_verified = "0 lost, 0 duplicated, 0 corrupt";

bool is_fifo(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
}

// Whether process pid has path open (as /proc shows its descriptors).
bool has_open(pid_t pid, const std::string& path) {
    std::error_code ec;
    const auto fds = "/proc/" + std::to_string(pid) + "/fd";
    for (const auto& fd : std::filesystem::directory_iterator(fds, ec))
        if (std::filesystem::read_symlink(fd.path(), ec) == path) return true;
    return false;
}

std::string quoted(const std::string& word) {
    return "'" + word + "'";
}

// The columns of conveyor-ctl list's row for uri; empty when it is not listed.
std::vector<std::string> listed(const std::string& uri) {
    return row_of(run(ctl_app, {"list"}).out, uri);
}

} // namespace

BOOST_AUTO_TEST_SUITE(pipe_apps)

BOOST_AUTO_TEST_CASE(producer_piped_into_consumer_delivers_100000_verified_messages) {
    const auto result =
        run("/bin/sh", {"-c", quoted(producer_app) + " pipe: --generate 100000 --size 64 | " +
                                  quoted(consumer_app) + " pipe: --verify"});
    BOOST_TEST(result.status == 0, result.err);
    BOOST_TEST(contains(result.err, "received 100000 messages from 1 producers: " + all_verified),
               result.err);
}

BOOST_AUTO_TEST_CASE(producer_spawning_its_consumer_delivers_100000_verified_messages) {
    const auto result =
        run(producer_app, {"pipe:", "--spawn", quoted(consumer_app) + " pipe: --verify",
                           "--generate", "100000", "--size", "64"});
    BOOST_TEST(result.status == 0, result.err);
    BOOST_TEST(contains(result.err, "received 100000 messages from 1 producers: " + all_verified),
               result.err);
    BOOST_TEST(contains(result.err, "sent 100000 messages"), result.err);
}

BOOST_AUTO_TEST_CASE(the_pipe_example_script_prints_the_parents_argument) {
    const auto result = run(
        "/bin/sh", {"-c", "CONVEYOR_BIN=" + quoted(std::string(CONVEYOR_APPS_DIR)) + " " +
                              quoted(std::string(CONVEYOR_SOURCE_DIR) + "/scripts/pipe-example") +
                              " 'hello from the parent'"});
    BOOST_TEST(result.status == 0, result.err);
    BOOST_TEST(result.out == "hello from the parent\n");
}

BOOST_AUTO_TEST_CASE(a_failing_spawned_consumer_makes_the_producer_fail) {
    // The child reads all its input before it fails: the producer's sends cannot meet a
    // closed pipe, so its status is the child's, as with `set -o pipefail`.
    const auto result =
        run(producer_app, {"pipe:", "--spawn", "cat > /dev/null; exit 5"}, "line\n");
    BOOST_TEST(result.status == 5, result.err);
}

BOOST_AUTO_TEST_CASE(lines_cross_a_shell_pipeline_and_cat_reads_them) {
    const auto both =
        run("/bin/sh", {"-c", "printf 'one\\ntwo\\n' | " + quoted(producer_app) +
                                  " pipe: --lines | " + quoted(consumer_app) + " pipe: --lines"});
    BOOST_TEST(both.status == 0, both.err);
    BOOST_TEST(both.out == "one\ntwo\n");
    const auto cat = run(
        "/bin/sh", {"-c", "printf 'three\\n' | " + quoted(producer_app) + " pipe: --lines | cat"});
    BOOST_TEST(cat.status == 0, cat.err);
    BOOST_TEST(cat.out == "three\n");
}

BOOST_AUTO_TEST_CASE(good_messages_before_a_corrupt_frame_are_written_then_the_error_exit_70) {
    std::string input;
    std::vector<std::byte> frames;
    std::error_code ec;
    for (int i = 0; i < 5; ++i) {
        const std::string text = "m" + std::to_string(i);
        pipe::append_frame(frames, std::as_bytes(std::span(text.data(), text.size())),
                           pipe::framing::frames, ec);
    }
    input.assign(reinterpret_cast<const char*>(frames.data()), frames.size());
    // One write, far below PIPE_BUF: the consumer reads the good frames and the garbage at once.
    const auto result = run(consumer_app, {"pipe:"}, input + "garbage, not a frame\n");
    BOOST_TEST(result.status == 70, result.err);
    BOOST_TEST(result.out == "m0\nm1\nm2\nm3\nm4\n");
    BOOST_TEST(contains(result.err, "received 5 messages"), result.err);
    BOOST_TEST(contains(result.err, "pipe: (standard input): corrupt data"), result.err);
}

BOOST_AUTO_TEST_CASE(lines_with_generate_is_refused_naming_both) {
    const auto result = run(producer_app, {"pipe:", "--lines", "--generate", "5"});
    BOOST_TEST(result.status == 64, result.err);
    BOOST_TEST(contains(result.err, "--lines and --generate"), result.err);
}

BOOST_AUTO_TEST_CASE(ctrl_c_on_a_spawning_producer_drains_its_child_and_exits_0) {
    // setsid: the producer leads a process group, as a shell's foreground job does, and the
    // terminal's Ctrl-C goes to the whole group.
    child_process producer(
        "/usr/bin/setsid",
        with({producer_app, "pipe:", "--spawn", quoted(consumer_app) + " pipe:", "--size", "64"},
             outlasting_stream(50000)));
    BOOST_REQUIRE(eventually_reaches([&] { return producer.out().size(); }, 65 * 2000));
    BOOST_REQUIRE(::getpgid(producer.pid()) == producer.pid());
    ::kill(-producer.pid(), SIGINT);
    BOOST_TEST(producer.wait() == 0, producer.err());
    const auto err = producer.err();
    BOOST_TEST(!contains(err, "conveyor-consumer: stopped by signal"), err);
    const auto sent = last_number_after(err, "sent");
    BOOST_TEST(sent > 0, err);
    BOOST_TEST(last_number_after(err, "received") == sent, err);
    BOOST_TEST(producer.out().size() == std::size_t(sent) * 65); // 64 bytes and a newline each
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(fifo_apps)

BOOST_AUTO_TEST_CASE(one_producer_to_one_consumer_verified_and_the_fifo_stays) {
    scratch_dir dir;
    child_process consumer(consumer_app, {dir.uri("f"), "--verify", "--quiet"});
    child_process producer(producer_app, {dir.uri("f"), "--generate", "100000", "--size", "64"});
    BOOST_TEST(producer.wait() == 0, producer.err());
    BOOST_TEST(consumer.wait() == 0, consumer.err());
    BOOST_TEST(
        contains(consumer.err(), "received 100000 messages from 1 producers: " + all_verified),
        consumer.err());
    BOOST_TEST(is_fifo(dir.path("f")));
}

BOOST_AUTO_TEST_CASE(four_producers_of_messages_above_pipe_buf_to_one_consumer_verified) {
    scratch_dir dir;
    child_process consumer(consumer_app, {dir.uri("f"), "--verify", "--quiet", "--producers", "4"});
    std::vector<std::unique_ptr<child_process>> producers;
    for (int i = 0; i < 4; ++i)
        producers.push_back(std::make_unique<child_process>(
            producer_app,
            std::vector<std::string>{dir.uri("f"), "--generate", "2500", "--size", "10000"}));
    for (auto& p : producers)
        BOOST_TEST(p->wait() == 0, p->err());
    BOOST_TEST(consumer.wait() == 0, consumer.err());
    BOOST_TEST(
        contains(consumer.err(), "received 10000 messages from 4 producers: " + all_verified),
        consumer.err());
    BOOST_TEST(is_fifo(dir.path("f")));
}

BOOST_AUTO_TEST_CASE(one_mib_messages_cross_a_fifo_when_both_sides_allow_them) {
    scratch_dir dir;
    child_process consumer(consumer_app,
                           {dir.uri("f"), "--verify", "--quiet", "--max-message", "1M"});
    child_process producer(
        producer_app, {dir.uri("f"), "--generate", "50", "--size", "1M", "--max-message", "1M"});
    BOOST_TEST(producer.wait() == 0, producer.err());
    BOOST_TEST(consumer.wait() == 0, consumer.err());
    BOOST_TEST(contains(consumer.err(), "received 50 messages from 1 producers: " + all_verified),
               consumer.err());
}

BOOST_AUTO_TEST_CASE(echo_into_the_fifo_is_received_in_lines_mode) {
    scratch_dir dir;
    child_process consumer(consumer_app, {dir.uri("f"), "--lines"});
    BOOST_REQUIRE(eventually([&] { return is_fifo(dir.path("f")); }));
    // The shell's open waits for the consumer to open the read end.
    BOOST_TEST(run("/bin/sh", {"-c", "echo hello > " + quoted(dir.path("f"))}).status == 0);
    BOOST_TEST(consumer.wait() == 0, consumer.err());
    BOOST_TEST(consumer.out() == "hello\n");
}

BOOST_AUTO_TEST_CASE(text_sent_to_a_frames_consumer_is_reported_not_delivered) {
    scratch_dir dir;
    child_process consumer(consumer_app, {dir.uri("f")});
    BOOST_REQUIRE(eventually([&] { return is_fifo(dir.path("f")); }));
    BOOST_TEST(run("/bin/sh", {"-c", "echo hello > " + quoted(dir.path("f"))}).status == 0);
    BOOST_TEST(consumer.wait() == 70, consumer.err());
    BOOST_TEST(consumer.out().empty());
    BOOST_TEST(contains(consumer.err(), "corrupt data"), consumer.err());
    BOOST_TEST(contains(consumer.err(), "--lines"), consumer.err());
}

BOOST_AUTO_TEST_CASE(cat_reads_what_a_lines_mode_producer_writes) {
    scratch_dir dir;
    child_process producer(producer_app, {dir.uri("f"), "--lines"}, "one\ntwo\nthree\n");
    BOOST_REQUIRE(eventually([&] { return is_fifo(dir.path("f")); }));
    const auto cat = run("/bin/cat", {dir.path("f")});
    BOOST_TEST(producer.wait() == 0, producer.err());
    BOOST_TEST(cat.out == "one\ntwo\nthree\n");
    BOOST_TEST(is_fifo(dir.path("f")));
}

BOOST_AUTO_TEST_CASE(a_producer_whose_consumer_was_killed_exits_3_saying_so) {
    scratch_dir dir;
    child_process consumer(consumer_app, {dir.uri("f")});
    // Paced, and longer than the test may last: it is still sending when its consumer dies.
    child_process producer(producer_app,
                           with({dir.uri("f"), "--size", "64"}, outlasting_stream(100000)));
    BOOST_REQUIRE(eventually_reaches([&] { return consumer.out().size(); }, 65 * 10000));
    consumer.signal(SIGKILL);
    BOOST_TEST(consumer.wait() == 128 + SIGKILL);
    BOOST_TEST(producer.wait() == 3, producer.err());
    const auto err = producer.err();
    const auto figures = err.find("sent ");
    const std::string said = dir.uri("f") + ": the consumer went away";
    const auto cause = err.find(said);
    BOOST_TEST((figures != std::string::npos && cause != std::string::npos && figures < cause),
               err);
    BOOST_TEST(err.find("went away", cause + said.size()) == std::string::npos, err); // once
}

BOOST_AUTO_TEST_CASE(a_fifo_producer_no_consumer_opened_says_so_in_no_negative_time) {
    scratch_dir dir;
    const auto result = run(producer_app, {dir.uri("f"), "--timeout", "0"}, "x\n");
    BOOST_TEST(result.status == 2, result.err);
    BOOST_TEST(contains(result.err, "no consumer opened the FIFO"), result.err);
    BOOST_TEST(contains(result.err, "sent 0 messages, 0 bytes in 0.000 s"), result.err);
}

BOOST_AUTO_TEST_CASE(producers_with_lines_is_refused_naming_both) {
    scratch_dir dir;
    const auto result =
        run(consumer_app, {dir.uri("f"), "--lines", "--producers", "2", "--timeout", "0"});
    BOOST_TEST(result.status == 64, result.err);
    BOOST_TEST(contains(result.err, "--producers 2 with --lines"), result.err);
}

BOOST_AUTO_TEST_CASE(a_fifo_consumer_stopped_by_sigterm_says_the_rest_is_lost) {
    scratch_dir dir;
    constexpr std::size_t size = 64;
    child_process consumer(consumer_app, {dir.uri("f"), "--verify"});
    child_process producer(producer_app, with({dir.uri("f"), "--size", std::to_string(size)},
                                              outlasting_stream(100000)));
    BOOST_REQUIRE(eventually_reaches([&] { return consumer.out().size(); }, (size + 1) * 1000));
    consumer.signal(SIGTERM);
    // What the FIFO held and what was never sent are lost, and --verify says so.
    BOOST_TEST(consumer.wait() == 1, consumer.err());
    BOOST_TEST(contains(consumer.err(), "still holds is lost"), consumer.err());
    BOOST_TEST(!contains(consumer.err(), " 0 lost"), consumer.err());
    BOOST_TEST(producer.wait() == 3, producer.err());
}

BOOST_AUTO_TEST_CASE(ctl_lists_a_fifo_a_producer_made_with_its_reader_until_rm) {
    scratch_dir dir;
    BOOST_TEST(
        run(producer_app, {dir.uri("f"), "--timeout", "0", "--mode", "0640"}, "x\n").status == 2);
    auto row = listed(dir.uri("f"));
    BOOST_REQUIRE_MESSAGE(row.size() == 4u, "not listed: " + dir.uri("f"));
    BOOST_TEST(row[1] == "00640");
    BOOST_TEST(row[2] == "none");
    BOOST_TEST(contains(row[3], ":")); // owner:group
    child_process consumer(consumer_app, {dir.uri("f")});
    BOOST_TEST(eventually([&] {
        row = listed(dir.uri("f"));
        return row.size() == 4u && row[2] == "reading";
    }));
    consumer.signal(SIGTERM);
    BOOST_TEST(consumer.wait() == 0, consumer.err());
    BOOST_TEST(run(ctl_app, {"rm", dir.uri("f")}).status == 0);
    BOOST_TEST(listed(dir.uri("f")).empty());
    const auto paths = pipe::list_fifos();
    BOOST_TEST(std::none_of(paths.begin(), paths.end(),
                            [&](const pipe::fifo_info& f) { return f.path == dir.path("f"); }));
}

BOOST_AUTO_TEST_CASE(ctl_rm_removes_a_fifo_and_refuses_a_plain_file) {
    scratch_dir dir;
    BOOST_TEST(run(producer_app, {dir.uri("f"), "--timeout", "0"}, "x\n").status == 2);
    BOOST_TEST(is_fifo(dir.path("f"))); // made by the producer, left in place
    BOOST_TEST(run(ctl_app, {"rm", dir.uri("f")}).status == 0);
    BOOST_TEST(!is_fifo(dir.path("f")));
    run("/bin/sh", {"-c", "echo data > " + quoted(dir.path("file"))});
    const auto refused = run(ctl_app, {"rm", dir.uri("file")});
    BOOST_TEST(refused.status != 0);
    BOOST_TEST(contains(refused.err, "not a FIFO"), refused.err);
}

BOOST_AUTO_TEST_CASE(a_second_consumer_on_a_fifo_is_refused_clearly) {
    scratch_dir dir;
    child_process first(consumer_app, {dir.uri("f")});
    BOOST_REQUIRE(eventually([&] { return has_open(first.pid(), dir.path("f")); }));
    const auto second = run(consumer_app, {dir.uri("f")});
    BOOST_TEST(second.status != 0);
    BOOST_TEST(contains(second.err, "another consumer is reading"), second.err);
    first.signal(SIGTERM);
    BOOST_TEST(first.wait() == 0, first.err());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(signal_apps)

BOOST_AUTO_TEST_CASE(sigterm_stops_a_consumer_mid_stream_and_a_new_one_gets_the_rest) {
    scratch_segment s("sigterm");
    constexpr std::size_t size = 64;
    constexpr std::uint64_t rate = 100000;
    // Paced, and longer than the test may last: it runs until the test stops it.
    child_process producer(
        producer_app, with({s.uri(), "--size", std::to_string(size)}, outlasting_stream(rate)));
    child_process first(consumer_app, {s.uri()});
    BOOST_REQUIRE(eventually_reaches([&] { return first.out().size(); }, (size + 1) * 20000));
    first.signal(SIGTERM);
    BOOST_TEST(first.wait() == 0, first.err());
    BOOST_TEST(contains(first.err(), "stopped by signal"), first.err());
    BOOST_TEST(contains(first.err(), "received "), first.err());
    child_process second(consumer_app, {s.uri()});
    BOOST_REQUIRE(eventually_reaches([&] { return second.out().size(); }, (size + 1) * 20000));
    producer.signal(SIGTERM); // its stream ends: the second consumer takes the rest and stops
    BOOST_TEST(producer.wait() == 0, producer.err());
    BOOST_TEST(second.wait() == 0, second.err());
    const auto sent = last_number_after(producer.err(), "sent");
    BOOST_REQUIRE(sent > 0);
    stream_verifier all;
    BOOST_TEST(verify_output(first.out(), size, all) > 0u);
    BOOST_TEST(verify_output(second.out(), size, all) > 0u);
    const auto total = all.result();
    // Every message sent arrived once; the verifier counts those never sent as lost.
    BOOST_TEST(total.messages == std::uint64_t(sent));
    BOOST_TEST(total.lost == outlasting_count(rate) - std::uint64_t(sent));
    BOOST_TEST(total.duplicated == 0u);
    BOOST_TEST(total.corrupt == 0u);
    BOOST_TEST(total.out_of_order == 0u);
}

BOOST_AUTO_TEST_CASE(sigusr1_prints_the_figures_and_the_work_goes_on) {
    scratch_segment s("usr1");
    child_process consumer(consumer_app, {s.uri(), "--verify", "--quiet"});
    BOOST_REQUIRE(eventually([&] {
        std::error_code ec;
        return shm::inspect_segment(s.name(), ec).consumers == 1; // handlers are in place
    }));
    consumer.signal(SIGUSR1);
    BOOST_REQUIRE(eventually([&] { return contains(consumer.err(), "so far received"); }));
    // A stopped consumer takes nothing: the producer fills the queue (200 000 records of 72
    // bytes are more than 4 MiB hold) and waits, so it is mid-stream, on a machine of any
    // speed, when its figures are asked for.
    consumer.signal(SIGSTOP);
    child_process producer(producer_app, {s.uri(), "--generate", "200000", "--size", "64"});
    BOOST_REQUIRE(eventually([&] {
        std::error_code ec;
        return shm::inspect_segment(s.name(), ec).producers == 1;
    }));
    producer.signal(SIGUSR1);
    BOOST_REQUIRE(eventually([&] { return contains(producer.err(), "so far sent"); }));
    BOOST_TEST(last_number_after(producer.err(), "so far sent") < 200000, producer.err());
    consumer.signal(SIGCONT);
    BOOST_TEST(producer.wait() == 0, producer.err());
    BOOST_TEST(consumer.wait() == 0, consumer.err());
    BOOST_TEST(
        contains(consumer.err(), "received 200000 messages from 1 producers: " + all_verified),
        consumer.err());
}

BOOST_AUTO_TEST_CASE(sigterm_reaches_a_producer_waiting_for_its_standard_input) {
    scratch_segment s("stdin-wait");
    scratch_dir dir;
    ::mkfifo(dir.path("input").c_str(), 0600);
    // Held open for writing (O_RDWR does not wait for a reader), so input never ends.
    const int input = ::open(dir.path("input").c_str(), O_RDWR);
    BOOST_REQUIRE(input >= 0);
    BOOST_REQUIRE(::write(input, "first\n", 6) == 6);
    child_process consumer(consumer_app, {s.uri()});
    child_process producer("/bin/sh", {"-c", "exec " + quoted(producer_app) + " " + s.uri() +
                                                 " < " + quoted(dir.path("input"))});
    BOOST_REQUIRE(eventually([&] { return consumer.out() == "first\n"; }));
    producer.signal(SIGTERM);
    BOOST_TEST(producer.wait() == 0, producer.err());
    BOOST_TEST(contains(producer.err(), "stream closed"), producer.err());
    BOOST_TEST(consumer.wait() == 0, consumer.err());
    ::close(input);
}

BOOST_AUTO_TEST_CASE(a_second_sigint_ends_a_producer_stuck_in_its_graceful_stop) {
    scratch_dir dir;
    // The child never reads: closing the stream waits for it, so the graceful stop hangs.
    const std::string pid_file = dir.path("child.pid");
    child_process producer(
        producer_app,
        {"pipe:", "--spawn", "echo $$ > " + quoted(pid_file) + "; exec sleep infinity"},
        "one line\n");
    std::string child_pid;
    BOOST_REQUIRE(eventually([&] {
        std::ifstream(pid_file) >> child_pid;
        return !child_pid.empty();
    }));
    producer.signal(SIGINT);
    BOOST_REQUIRE(eventually([&] { return contains(producer.err(), "stopping"); }));
    producer.signal(SIGINT);
    BOOST_TEST(producer.wait(std::chrono::seconds(10)) == 128 + SIGINT, producer.err());
    notify(std::stoi(child_pid), SIGKILL);
}

BOOST_AUTO_TEST_CASE(a_second_sigint_ends_a_consumer_stuck_writing_its_output) {
    scratch_segment s("second-sigint");
    scratch_dir dir;
    BOOST_TEST(run(producer_app, {s.uri(), "--generate", "20000", "--size", "64"}).status == 0);
    // The consumer's standard output is a FIFO nobody reads: once its 64 KiB are full, the
    // consumer's write waits for ever, and so would its graceful stop.
    ::mkfifo(dir.path("out").c_str(), 0600);
    const int unread = ::open(dir.path("out").c_str(), O_RDONLY | O_NONBLOCK);
    BOOST_REQUIRE(unread >= 0);
    child_process consumer(consumer_app, {s.uri()}, "", dir.path("out"));
    // Stuck: its main thread sleeps in write(1, ...) (system call 1 on x86-64) on a full pipe.
    BOOST_REQUIRE(eventually([&] {
        std::string call;
        std::ifstream("/proc/" + std::to_string(consumer.pid()) + "/syscall") >> call;
        int queued = 0;
        return call == "1" && ::ioctl(unread, FIONREAD, &queued) == 0 && queued > 0;
    }));
    consumer.signal(SIGINT);
    BOOST_REQUIRE(eventually([&] { return contains(consumer.err(), "stopping"); }));
    consumer.signal(SIGINT);
    BOOST_TEST(consumer.wait(std::chrono::seconds(10)) == 128 + SIGINT, consumer.err());
    ::close(unread);
}

BOOST_AUTO_TEST_CASE(sigterm_stops_a_fifo_producer_which_closes_its_stream) {
    scratch_dir dir;
    constexpr std::size_t size = 64;
    child_process consumer(consumer_app, {dir.uri("f")});
    // Paced, and longer than the test may last: it runs until the test stops it.
    child_process producer(producer_app, with({dir.uri("f"), "--size", std::to_string(size)},
                                              outlasting_stream(100000)));
    // Messages arriving show that the producer's handlers are in place.
    BOOST_REQUIRE(eventually_reaches([&] { return consumer.out().size(); }, (size + 1) * 1000));
    producer.signal(SIGTERM);
    BOOST_TEST(producer.wait() == 0, producer.err());
    BOOST_TEST(contains(producer.err(), "stream closed"), producer.err());
    // The acknowledgement is written before the stop is seen: it precedes the figures.
    BOOST_TEST(producer.err().find("stopping") < producer.err().find("sent "), producer.err());
    BOOST_TEST(consumer.wait() == 0, consumer.err()); // end of stream, not an error
    stream_verifier received;
    const auto count = verify_output(consumer.out(), size, received);
    BOOST_TEST(count == std::uint64_t(last_number_after(producer.err(), "sent"))); // all of them
    BOOST_TEST(received.result().duplicated == 0u);
    BOOST_TEST(received.result().corrupt == 0u);
    BOOST_TEST(received.result().out_of_order == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
