// Durable queues (file://): the shm queue in a file that outlives every process, checked
// records, recovery of a torn tail, crash images, and refusing what is not a queue file.
#include "shm/mapping.hpp"
#include "support/scratch_dir.hpp"

#include <conveyor/error.hpp>
#include <conveyor/generated_message.hpp>
#include <conveyor/shm/queue.hpp>

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>
#include <unistd.h>

using namespace conveyor;
using namespace std::chrono_literals;
using conveyor::test::scratch_dir;

namespace {

channel_options durable(sync_policy sync = sync_policy::batch) {
    channel_options options;
    options.capacity = 1 << 20;
    options.max_message = 4096;
    options.sync = sync;
    return options;
}

// Sends count generated messages of size bytes from a new producer, then closes.
void produce(const endpoint& where, std::uint64_t count, std::size_t size = 100,
             const channel_options& options = durable()) {
    shm::queue_sender out(where, options);
    const message_generator make(make_producer_id(), size, count);
    std::vector<std::byte> message(size);
    for (std::uint64_t i = 0; i < count; ++i) {
        make.make(i, message);
        out.send(message);
    }
}

// Takes everything up to end of stream into a verifier; returns how many messages.
std::uint64_t consume(shm::queue_receiver& in, stream_verifier& verifier) {
    message_batch batch;
    std::uint64_t n = 0;
    while (in.receive_batch(batch, 64, 10s) == receive_status::message) {
        for (std::size_t i = 0; i < batch.size(); ++i)
            BOOST_REQUIRE_MESSAGE(verifier.observe(batch[i]), "message " << n + i << " of "
                                                                         << batch[i].size()
                                                                         << " bytes is corrupt");
        n += batch.size();
    }
    return n;
}

std::uintmax_t size_of(const std::string& path) {
    return std::filesystem::file_size(path);
}

} // namespace

BOOST_AUTO_TEST_SUITE(shm_durable)

BOOST_AUTO_TEST_CASE(messages_stay_in_the_file_after_every_process_has_gone) {
    scratch_dir dir;
    const auto where = endpoint::parse(dir.file_uri("orders.queue"));
    const pid_t child = ::fork();
    if (child == 0) { // another process writes and exits
        produce(where, 5000);
        ::_exit(0);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    BOOST_REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    shm::queue_receiver in(where, durable());
    stream_verifier verifier;
    BOOST_TEST(consume(in, verifier) == 5000u);
    BOOST_TEST(verifier.result().ok(), stream_verifier::describe(verifier.result()));
    BOOST_TEST(in.recovery().empty(), in.recovery());
}

BOOST_AUTO_TEST_CASE(
    a_file_cut_inside_a_record_delivers_what_came_before_and_says_what_it_dropped) {
    scratch_dir dir;
    const auto where = endpoint::parse(dir.file_uri("cut.queue"));
    produce(where, 100, 1000); // records of 1008 + 8 padding: 1024 bytes each
    const auto data_offset = shm::detail::data_offset();
    // Cut the file 10 bytes into record 60, as a copy or a crash would leave it.
    std::filesystem::resize_file(dir.path("cut.queue"), data_offset + 60 * 1024 + 10);
    shm::queue_receiver in(where, durable());
    BOOST_TEST(size_of(dir.path("cut.queue")) == data_offset + (1u << 20)); // extended back
    BOOST_TEST(in.recovery().find("dropped") != std::string::npos, in.recovery());
    BOOST_TEST(in.recovery().find(std::to_string(40 * 1024) + " bytes") != std::string::npos,
               in.recovery());
    stream_verifier verifier;
    BOOST_TEST(consume(in, verifier) == 60u);
    BOOST_TEST(verifier.result().corrupt == 0u);
}

BOOST_AUTO_TEST_CASE(a_copy_taken_while_a_producer_writes_delivers_every_whole_record_it_holds) {
    scratch_dir dir;
    const auto where = endpoint::parse(dir.file_uri("live.queue"));
    int written[2];
    BOOST_REQUIRE(::pipe(written) == 0);
    const pid_t child = ::fork();
    if (child == 0) { // writes 1000, says so, then keeps writing until killed
        channel_options fast = durable(sync_policy::none);
        shm::queue_sender out(where, fast);
        const message_generator make(make_producer_id(), 200, 1u << 20); // more than fit
        std::vector<std::byte> message(200);
        for (std::uint64_t i = 0;; ++i) {
            make.make(i, message);
            if (!out.send_for(message, 50ms)) i = i - 1; // full: the copy drains nothing
            if (i == 999) (void)!::write(written[1], "x", 1);
        }
    }
    char byte = 0;
    BOOST_REQUIRE(::read(written[0], &byte, 1) == 1);
    std::filesystem::copy_file(dir.path("live.queue"), dir.path("copy.queue"));
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    // The copy names the writer in its slot and perhaps in its lock: another file, so they
    // are not believed.
    shm::queue_receiver in(endpoint::parse(dir.file_uri("copy.queue")), durable());
    stream_verifier verifier;
    const auto taken = consume(in, verifier);
    BOOST_TEST(taken >= 1000u);
    BOOST_TEST(verifier.result().corrupt == 0u);
    BOOST_TEST(verifier.result().duplicated == 0u);
    BOOST_TEST(verifier.result().out_of_order == 0u);
    ::close(written[0]);
    ::close(written[1]);
}

BOOST_AUTO_TEST_CASE(a_stale_record_of_an_earlier_lap_never_passes_for_a_new_one) {
    scratch_dir dir;
    const auto where = endpoint::parse(dir.file_uri("laps.queue"));
    auto small = durable();
    small.capacity = 16 * 1024;
    small.max_message = 1000;
    {
        // Lap one fills the ring; lap two overwrites its first records.
        shm::queue_sender out(where, small);
        shm::queue_receiver in(where, small);
        std::vector<std::byte> message(1000, std::byte{1}), got;
        for (int i = 0; i < 15; ++i)
            out.send(message);
        for (int i = 0; i < 15; ++i)
            in.receive(got);
        std::fill(message.begin(), message.end(), std::byte{2});
        for (int i = 0; i < 3; ++i)
            out.send(message);
    }
    // Forge a tail one lap record further, as a torn write-back could: the bytes there are
    // whole records, but of lap one.
    {
        std::error_code ec;
        std::string why;
        auto map = shm::detail::mapping::open(shm::detail::segment_location::of(where),
                                              shm::detail::mapping::access::read_write, ec, why);
        BOOST_REQUIRE(map);
        map->control().tail.fetch_add(2 * 1024);
    }
    std::filesystem::copy_file(dir.path("laps.queue"), dir.path("laps-copy.queue"));
    shm::queue_receiver in(endpoint::parse(dir.file_uri("laps-copy.queue")), small);
    BOOST_TEST(in.recovery().find("dropped 2 torn records") != std::string::npos, in.recovery());
    std::vector<std::byte> got;
    for (int i = 0; i < 3; ++i) {
        BOOST_REQUIRE((in.receive_for(got, 1s) == receive_status::message));
        BOOST_TEST((got == std::vector<std::byte>(1000, std::byte{2})));
    }
    BOOST_TEST((in.receive_for(got, 1s) == receive_status::end_of_stream));
}

BOOST_AUTO_TEST_CASE(leases_of_a_receiver_killed_on_a_durable_queue_come_back_after_reopening) {
    scratch_dir dir;
    const auto where = endpoint::parse(dir.file_uri("leased.queue"));
    produce(where, 50);
    auto acknowledging = durable();
    acknowledging.acknowledge = true;
    const pid_t child = ::fork();
    if (child == 0) {
        shm::queue_receiver doomed(where, acknowledging);
        message_batch batch;
        doomed.receive_batch(batch, 20, forever);
        doomed.ack();                             // 20 done with
        doomed.receive_batch(batch, 20, forever); // 20 more, never acknowledged
        ::raise(SIGKILL);
    }
    ::waitpid(child, nullptr, 0);
    shm::queue_receiver in(where, acknowledging);
    stream_verifier verifier;
    message_batch batch;
    std::uint64_t redelivered = 0, taken = 0;
    while (in.receive_batch(batch, 64, 10s) == receive_status::message) {
        for (std::size_t i = 0; i < batch.size(); ++i) {
            BOOST_REQUIRE(verifier.observe(batch[i]));
            redelivered += batch.redelivered(i);
        }
        taken += batch.size();
        in.ack();
    }
    BOOST_TEST(taken == 30u);
    BOOST_TEST(redelivered == 20u);
}

BOOST_AUTO_TEST_CASE(a_file_that_is_not_a_queue_is_refused_and_left_alone) {
    scratch_dir dir;
    std::ofstream(dir.path("notes.txt")) << std::string(100000, 'x');
    std::error_code ec;
    std::string why;
    BOOST_TEST(!shm::queue_receiver::open(endpoint::parse(dir.file_uri("notes.txt")), durable(), ec,
                                          &why));
    BOOST_TEST((ec == errc::not_a_segment));
    BOOST_TEST(why.find("is not a conveyor queue file") != std::string::npos, why);
    BOOST_TEST(size_of(dir.path("notes.txt")) == 100000u);
    BOOST_TEST(!shm::queue_sender::open(endpoint::parse("file:///nonexistent-dir/q"), durable(), ec,
                                        &why));
    BOOST_TEST(why.find("/nonexistent-dir") != std::string::npos, why);
}

BOOST_AUTO_TEST_CASE(every_sync_policy_keeps_every_message) {
    for (const auto sync : {sync_policy::none, sync_policy::batch, sync_policy::always}) {
        scratch_dir dir;
        const auto where = endpoint::parse(dir.file_uri("sync.queue"));
        produce(where, 300, 64, durable(sync));
        shm::queue_receiver in(where, durable());
        stream_verifier verifier;
        BOOST_TEST(consume(in, verifier) == 300u);
        BOOST_TEST(verifier.result().ok());
    }
}

BOOST_AUTO_TEST_SUITE_END()
