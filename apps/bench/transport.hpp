// What the bench asks of a transport: make the kernel or shared-memory objects of one run in
// the parent, then let each child process open its end. Adding a transport is one file
// with a make_* function, listed in transports.cpp.
#pragma once

#include "pattern.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace conveyor::bench {

// Puts one process's messages into a lane.
class writer {
public:
    virtual ~writer() = default;
    // Room for the next message of n bytes: the transport's own memory where it can lend
    // it (zero copy), else a buffer that commit() sends.
    virtual std::span<std::byte> prepare(std::size_t n) = 0;
    virtual void commit() = 0;
    // Ends this writer's stream: the readers of its lane see the end once all writers did.
    virtual void close() = 0;
};

// Takes messages out of a lane.
class reader {
public:
    virtual ~reader() = default;
    // The next message, valid until the next call; nullopt once the lane's stream ended.
    virtual std::optional<std::span<const std::byte>> receive() = 0;
};

// How a run uses a channel: lanes are independent queues or streams; each has
// writers_per_lane producers and readers_per_lane consumers.
struct lane_plan {
    std::size_t lanes = 1;
    std::size_t writers_per_lane = 1;
    std::size_t readers_per_lane = 1;
    std::size_t max_message = 0;
    // Writers may hold messages back and send several at once (a throughput run); false
    // where each message must go at once (ping-pong).
    bool streaming = false;
    // Every reader gets every message: the one writer's open_writer(0) writes each message
    // to every lane (a stream per reader), or to the one lane all readers read (a topic).
    bool fan_out = false;
};

// The objects of one run. Made in the parent before any fork; the destructor, which runs
// in the parent only, removes what has a name.
class channel {
public:
    virtual ~channel() = default;
    // In a child: the ends it uses, taken out of the channel.
    virtual std::unique_ptr<writer> open_writer(std::size_t lane) = 0;
    virtual std::unique_ptr<reader> open_reader(std::size_t lane) = 0;
    // Closes this process's copies of the descriptors no open_* took, so that a reader
    // sees end of stream once its writers close theirs.
    virtual void forget() {}
};

// One setting a user tuning the transport would try: a queue depth, a buffer size.
struct config {
    std::string label; // shown beside the figure, e.g. "depth 256"
    std::size_t value = 0;
};

class transport {
public:
    virtual ~transport() = default;
    virtual std::string name() const = 0;
    // Whether producers and consumers of a 4x4 run share one queue (a message queue) or
    // pair up on lanes of their own (a byte stream has one reader per stream).
    virtual bool shares_lanes() const = 0;
    // Whether the transport takes part in a pattern: fan-out only where every reader can get
    // every message (a topic, or a stream per reader written by the producer).
    virtual bool runs(pattern kind) const { return kind != pattern::fan_out; }
    // The settings worth trying for messages of size bytes, the default first.
    virtual std::vector<config> configs(std::size_t size) const = 0;
    // Fails by throwing, naming the transport and the cause; a setting the system refuses
    // (a message queue above the kernel's limits) throws too and is skipped.
    virtual std::unique_ptr<channel> open(const config& setting, const lane_plan& plan) = 0;
};

// Every transport of this build, in the order of the table.
std::vector<std::unique_ptr<transport>> all_transports();

std::unique_ptr<transport> make_conveyor_shm();
std::unique_ptr<transport> make_conveyor_shm_ack();
std::unique_ptr<transport> make_conveyor_shm_zerocopy();
std::unique_ptr<transport> make_conveyor_file();
std::unique_ptr<transport> make_conveyor_file_sync();
std::unique_ptr<transport> make_conveyor_topic();
std::unique_ptr<transport> make_conveyor_fifo();
std::unique_ptr<transport> make_conveyor_pipe();
std::unique_ptr<transport> make_pipe();
std::unique_ptr<transport> make_fifo();
std::unique_ptr<transport> make_uds();
std::unique_ptr<transport> make_posix_mq();
std::unique_ptr<transport> make_boost_mq();
std::unique_ptr<transport> make_conveyor_nats();
std::unique_ptr<transport> make_nats_c();
std::unique_ptr<transport> make_nats_c_msgid();

// A name for a run's kernel objects unique on this machine: prefix, pid, a counter.
std::string unique_name(const std::string& prefix);

} // namespace conveyor::bench
