// Real processes in a chain, killed with SIGKILL on a seeded schedule and restarted:
// producers -> shm://A -> conveyor-bridge -> TO -> conveyor-consumer, and what came out of
// every consumer, checked as one stream (bridge_test.cpp, durable_apps_test.cpp).
#pragma once

#include "support/child_process.hpp"
#include "support/temporary_names.hpp"

#include <conveyor/generated_message.hpp>
#include <conveyor/shm/queue.hpp>
#include <conveyor/shm/segment.hpp>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace conveyor::test {

// What conveyor-consumer may write twice when it is killed: the batch it had written out
// and not yet acknowledged (apps/consumer: batch_size).
inline constexpr std::uint64_t consumer_batch = 256;

struct chain_plan {
    std::string to;                          // TO's URI
    std::vector<std::string> bridge_options; // beyond FROM and TO
    std::size_t steps = 20;                  // a producer run and a consumer killed in each
    std::uint64_t per_step = 10000;          // messages of each producer run
    std::size_t size = 64;                   // bytes of each message
    std::size_t bridge_kills = 0;            // at as many steps, chosen at random
    std::size_t producer_kills = 0;          // at as many steps, the producer killed mid-run
};

// The merged output of every consumer of the chain, checked per producer.
struct chain_delivery {
    stream_verifier::summary summary; // over every record of every consumer, in order
    std::uint64_t distinct = 0;       // messages delivered at least once
    // Producers whose delivered messages are not their first n for some n: one was lost
    // before a later one arrived.
    std::uint64_t producers_with_holes = 0;
    // Producers that did not deliver their whole count (killed ones).
    std::uint64_t producers_cut = 0;
};

class kill_chain {
public:
    // The schedule is drawn from seed: which steps kill the bridge and the producer, and
    // how far into each step each kill comes.
    kill_chain(const chain_plan& plan, std::uint64_t seed);
    ~kill_chain();

    // Starts the test's own producer on A, which sends nothing and holds A's stream open
    // until close_source(), so that no kill races the stream's end; then a bridge and a
    // consumer.
    void start();
    // Runs every step: a producer run and, once each victim has provably moved messages
    // (A's or TO's counters), SIGKILL of the chosen processes at a random point of the
    // step's flow, each restarted.
    void run_steps();
    // Ends A's stream: once the producers are done and A is drained, the bridge ends TO's
    // stream and the consumer sees its end.
    void close_source();
    // SIGKILL of every process still running: the consumer, then, once more has reached
    // TO, the producer and the bridge.
    void kill_all();
    // A new bridge; then A's stream ended (close_source) and the bridge run to its end,
    // which ends TO's stream. Nothing runs after it.
    void drain_with_new_bridge();
    // A new consumer of TO that takes what is left to the end of TO's stream.
    void consume_rest();
    // Waits for the producers, the bridge and the consumer to exit 0 by themselves.
    void expect_clean_ends();

    chain_delivery delivered() const;
    std::uint64_t sent_to_source() const; // A's sent counter: messages committed to A
    std::size_t consumer_kills() const noexcept { return consumer_kills_; }
    std::size_t bridge_kills() const noexcept { return bridge_kills_; }
    std::size_t producer_kills() const noexcept { return producer_kills_; }
    const std::string& source_uri() const { return source_uri_; }

private:
    child_process& start_bridge();
    child_process& start_consumer();
    // TO's or A's processes alive and attached (none when it is not there yet).
    shm::segment_info attached(const std::string& uri) const;
    std::uint64_t consumer_output() const; // bytes, over every consumer so far
    std::uint64_t sent_to(const std::string& uri) const;
    std::uint64_t taken_from(const std::string& uri) const; // deliveries, redeliveries too
    void kill_bridge_after(std::uint64_t messages);
    void kill_consumer_after(std::uint64_t taken_before, std::uint64_t messages);
    void kill_producer_after(child_process& producer, std::uint64_t sent_before,
                             std::uint64_t messages);

    chain_plan plan_;
    std::mt19937_64 random_;
    scratch_segment source_{"chain"};
    std::string source_uri_;
    std::unique_ptr<shm::queue_sender> holder_;
    std::vector<std::unique_ptr<child_process>> producers_;
    std::vector<std::unique_ptr<child_process>> bridges_;
    std::vector<std::unique_ptr<child_process>> consumers_;
    std::size_t consumer_kills_ = 0;
    std::size_t bridge_kills_ = 0;
    std::size_t producer_kills_ = 0;
};

// The seed of a randomised test: CONVEYOR_TEST_SEED when set (to replay a failure), else
// a fresh one; the test prints it either way.
std::uint64_t test_seed();

} // namespace conveyor::test
