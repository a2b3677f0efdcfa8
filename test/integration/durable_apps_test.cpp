// Durable file:// queues through the apps: a bridge into a file with every process killed,
// a million messages that outlive their writers, crash images, and a disk too small.
#include "kill_chain.hpp"

#include "support/apps.hpp"
#include "support/child_process.hpp"
#include "support/scratch_dir.hpp"
#include "support/temporary_names.hpp"

#include <conveyor/endpoint.hpp>
#include <conveyor/shm/segment.hpp>

#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <sys/mount.h>

using namespace conveyor;
using namespace conveyor::test;

namespace {

shm::segment_info inspect(const std::string& uri) {
    std::error_code ec;
    auto info = shm::inspect_queue(endpoint::parse(uri), ec);
    BOOST_REQUIRE_MESSAGE(!ec, uri << ": " << ec.message());
    return info;
}

// Bytes a record of a message of size bytes takes in the ring: a 16-byte header, the
// payload, padding to 16 bytes (docs/architecture.md, "Segment layout").
constexpr std::uint64_t record_bytes(std::uint64_t size) {
    return (16 + size + 15) / 16 * 16;
}

// The file's records start after its header: the file is header and ring.
std::uint64_t ring_offset(const std::string& path, std::uint64_t capacity) {
    return std::filesystem::file_size(path) - capacity;
}

} // namespace

BOOST_AUTO_TEST_SUITE(durable_apps)

BOOST_AUTO_TEST_CASE(a_bridge_into_a_file_with_every_process_killed_loses_nothing) {
    const auto seed = test_seed();
    BOOST_TEST_MESSAGE("file chain: seed " << seed << " (CONVEYOR_TEST_SEED=" << seed
                                           << " replays the schedule)");
    constexpr std::uint64_t bridge_batch = 256;
    scratch_dir dir;
    chain_plan plan;
    plan.to = dir.file_uri("chain.queue");
    // The file holds the whole chain's traffic (about 250,000 records of 80 bytes): the last
    // bridge drains A into it while no consumer runs, and a file still full from a consumer
    // that fell behind before the kills would stop that bridge for good.
    plan.bridge_options = {"--batch", std::to_string(bridge_batch), "--sync", "batch",
                           "--capacity", "64M"};
    plan.bridge_kills = 6;
    plan.producer_kills = 4;
    kill_chain chain(plan, seed);
    chain.start();
    chain.run_steps();
    // Then every process, mid-flow; a bridge drains A into the file and ends its stream,
    // and only then, with no process attached, a new consumer opens the file.
    chain.kill_all();
    chain.drain_with_new_bridge();
    const auto left = inspect(plan.to);
    BOOST_TEST(left.producers == 0u);
    BOOST_TEST(left.consumers == 0u);
    chain.consume_rest();

    const auto d = chain.delivered();
    const auto committed = chain.sent_to_source();
    BOOST_TEST_MESSAGE("file chain: "
                       << chain.consumer_kills() << " consumer kills, " << chain.bridge_kills()
                       << " bridge kills, " << chain.producer_kills()
                       << " producer kills: " << committed << " messages committed to "
                       << chain.source_uri() << ", " << d.distinct << " delivered, "
                       << (committed > d.distinct ? committed - d.distinct : 0) << " lost, "
                       << d.summary.duplicated << " duplicated, " << d.summary.corrupt
                       << " corrupt, " << d.summary.out_of_order << " out of order");
    BOOST_TEST(chain.consumer_kills() == 21u);
    BOOST_TEST(chain.bridge_kills() == 7u);
    BOOST_TEST(chain.producer_kills() == 5u);
    // Every message a producer committed arrived: each producer's first n, n at least what
    // the source counted (a producer killed between its commit and its count leaves the
    // count short, never long).
    BOOST_TEST(d.producers_with_holes == 0u);
    BOOST_TEST(d.distinct >= committed);
    BOOST_TEST(d.producers_cut <= chain.producer_kills());
    BOOST_TEST(d.summary.corrupt == 0u);
    BOOST_TEST(d.summary.out_of_order == 0u);
    BOOST_TEST(d.summary.duplicated <=
               chain.consumer_kills() * consumer_batch + chain.bridge_kills() * bridge_batch);
    const auto end = inspect(plan.to);
    BOOST_TEST(end.depth_bytes == 0u);
    BOOST_TEST(end.unacknowledged_bytes == 0u);
}

BOOST_AUTO_TEST_CASE(a_million_messages_in_a_file_outlive_every_process) {
    scratch_segment source("million");
    scratch_dir dir;
    const std::string file = dir.file_uri("million.queue");
    child_process producer(producer_app, {source.uri(), "--generate", "1000000", "--size", "64"});
    // Nobody takes from the file meanwhile: it holds all of them (80 MB of records).
    child_process bridge(bridge_app, {source.uri(), file, "--batch", "4096", "--capacity", "96M"});
    BOOST_TEST(producer.wait() == 0, producer.err());
    BOOST_TEST(bridge.wait() == 0, bridge.err());
    BOOST_TEST(contains(bridge.err(), "bridged 1000000 messages"), bridge.err());
    const auto stored = inspect(file);
    BOOST_TEST(stored.producers == 0u);
    BOOST_TEST(stored.consumers == 0u);
    BOOST_TEST(stored.depth_bytes == 1000000u * record_bytes(64));

    const auto consumer = run(consumer_app, {file, "--verify", "--quiet"});
    BOOST_TEST_MESSAGE("million: " << consumer.err);
    BOOST_TEST(consumer.status == 0, consumer.err);
    BOOST_TEST(contains(consumer.err, "received 1000000 messages from 1 producers: 0 lost, 0 "
                                      "duplicated, 0 corrupt, 0 redelivered"),
               consumer.err);
}

BOOST_AUTO_TEST_CASE(a_file_cut_inside_a_record_delivers_every_whole_record_before_the_tear) {
    scratch_dir dir;
    const std::string file = dir.file_uri("cut.queue");
    constexpr std::size_t size = 100;
    BOOST_REQUIRE(run(producer_app, {file, "--generate", "1000", "--size", std::to_string(size),
                                     "--capacity", "1M"})
                      .status == 0);
    // Cut 40 bytes into record 600, as a crash or a copy cut short leaves it.
    const auto ring = ring_offset(dir.path("cut.queue"), inspect(file).capacity);
    const std::uint64_t tear = 600 * record_bytes(size);
    std::filesystem::resize_file(dir.path("cut.queue"), ring + tear + 40);

    const auto consumer = run(consumer_app, {file, "--timeout", "10"});
    const std::string recovery = "conveyor-consumer: " + file + ": recovered after a crash: ";
    BOOST_TEST_MESSAGE("cut file: " << consumer.err.substr(0, consumer.err.find('\n')));
    BOOST_TEST(consumer.status == 0, consumer.err);
    BOOST_TEST(contains(consumer.err, recovery + "dropped"), consumer.err);
    BOOST_TEST(contains(consumer.err, "bytes from position " + std::to_string(tear) + ")"),
               consumer.err);
    stream_verifier verifier;
    BOOST_TEST(verify_output(consumer.out, size, verifier) == 600u);
    const auto summary = verifier.result();
    BOOST_TEST(summary.corrupt == 0u);
    BOOST_TEST(summary.duplicated == 0u);
    BOOST_TEST(summary.out_of_order == 0u);
    BOOST_TEST(summary.lost == 400u); // the torn one and those after it, and no other
}

BOOST_AUTO_TEST_CASE(a_copy_taken_while_a_producer_writes_delivers_whole_records_only) {
    scratch_dir dir;
    const std::string file = dir.file_uri("live.queue");
    constexpr std::size_t size = 200;
    child_process producer(producer_app,
                           {file, "--generate", "100000000", "--size", std::to_string(size),
                            "--rate", "20000", "--sync", "none", "--capacity", "8M"});
    BOOST_REQUIRE(eventually([&] {
        std::error_code ec;
        return shm::inspect_queue(endpoint::parse(file), ec).sent >= 1000;
    }));
    std::filesystem::copy_file(dir.path("live.queue"), dir.path("copy.queue"));
    producer.signal(SIGKILL);
    BOOST_TEST(producer.wait() == 128 + SIGKILL);

    // The copy names the producer as attached: another file's processes are not believed.
    const auto consumer = run(consumer_app, {dir.file_uri("copy.queue"), "--timeout", "10"});
    BOOST_TEST(consumer.status == 0, consumer.err);
    stream_verifier verifier;
    const auto records = verify_output(consumer.out, size, verifier);
    const auto summary = verifier.result();
    BOOST_TEST_MESSAGE("copy of a live file: " << records << " whole records delivered, "
                                               << summary.duplicated << " duplicated, "
                                               << summary.corrupt << " corrupt, "
                                               << summary.out_of_order << " out of order");
    BOOST_TEST(records >= 1000u);
    BOOST_TEST(summary.corrupt == 0u);
    BOOST_TEST(summary.duplicated == 0u);
    BOOST_TEST(summary.out_of_order == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(durable_full_disk)

BOOST_AUTO_TEST_CASE(a_file_queue_larger_than_its_disk_is_refused_at_creation_without_sigbus) {
    scratch_dir dir;
    const std::string disk = dir.path("small");
    std::filesystem::create_directory(disk);
    // A disk of 1 MiB: a tmpfs of that size, mounted here and unmounted whatever happens.
    if (::mount("tmpfs", disk.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0700") != 0) {
        BOOST_TEST_MESSAGE("durable_full_disk: skipped: cannot mount a tmpfs on "
                           << disk << ": " << std::strerror(errno)
                           << " (run the suite as root, as CI does)");
        return;
    }
    struct unmount {
        std::string path;
        ~unmount() { ::umount2(path.c_str(), MNT_DETACH); }
    } unmount_at_end{disk};

    scratch_segment from("full-disk-from");
    BOOST_REQUIRE(run(producer_app, {from.uri(), "--generate", "10", "--size", "64"}).status == 0);
    const std::string queue = "file://" + disk + "/orders.queue";
    const std::vector<std::pair<std::string, std::vector<std::string>>> creators{
        {"conveyor-producer", {queue, "--generate", "10", "--capacity", "4M"}},
        {"conveyor-consumer", {queue, "--capacity", "4M", "--timeout", "1"}},
        {"conveyor-bridge", {from.uri(), queue, "--capacity", "4M"}},
    };
    for (const auto& [app, args] : creators) {
        const std::string program = app == "conveyor-producer"   ? producer_app
                                    : app == "conveyor-consumer" ? consumer_app
                                                                 : bridge_app;
        const auto result = run(program, args);
        BOOST_TEST_MESSAGE("full disk: " << result.err.substr(0, result.err.find('\n')));
        BOOST_TEST(result.status == 70, app << ": " << result.err); // not 128 + SIGBUS
        BOOST_TEST(contains(result.err, app + ": " + queue + ": cannot reserve"), result.err);
        BOOST_TEST(contains(result.err, "No space left on device"), result.err);
        BOOST_TEST(std::filesystem::is_empty(disk)); // no file left behind, named or not
    }
    // The bridge that could not open TO took nothing from FROM.
    const auto consumer = run(consumer_app, {from.uri(), "--verify", "--quiet", "--timeout", "10"});
    BOOST_TEST(contains(consumer.err, "received 10 messages from 1 producers: 0 lost"),
               consumer.err);
}

BOOST_AUTO_TEST_SUITE_END()
