#include "kill_chain.hpp"

#include "support/apps.hpp"

#include <conveyor/endpoint.hpp>
#include <conveyor/shm/segment.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <map>
#include <thread>

namespace conveyor::test {
namespace {

// Messages per second of each producer run: a run of 10,000 lasts at least 0.2 s, so that
// the kills of its step land inside its flow, and the 20 steps of a chain take seconds.
constexpr const char* producer_rate = "1000000";
// A producer run that only a kill ends.
constexpr const char* endless = "100000000";
// How long a victim may take to move the messages its kill waits for: only a broken chain
// takes that long.
constexpr std::chrono::seconds progress_patience{60};

// The fields of a generated message (conveyor/generated_message.hpp: little-endian producer
// id, sequence, count), read on a little-endian machine.
std::uint64_t field(const char* record, std::size_t offset) {
    std::uint64_t value;
    std::memcpy(&value, record + offset, sizeof value);
    return value;
}

// Waits for condition, looking every 100 us: a kill then lands within that of the victim's
// step that met it (a write out, a commit), where acknowledging too early would show.
bool promptly(const std::function<bool()>& condition) {
    const auto until = std::chrono::steady_clock::now() + progress_patience;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    return true;
}

void kill_and_reap(child_process& victim, const char* what) {
    victim.signal(SIGKILL);
    BOOST_TEST(victim.wait() == 128 + SIGKILL, what << " died by itself first: " << victim.err());
}

} // namespace

std::uint64_t test_seed() {
    if (const char* given = std::getenv("CONVEYOR_TEST_SEED"))
        return std::strtoull(given, nullptr, 10);
    std::random_device device;
    return (std::uint64_t(device()) << 32) | device();
}

kill_chain::kill_chain(const chain_plan& plan, std::uint64_t seed)
    : plan_(plan), random_(seed), source_uri_(source_.uri()) {}

kill_chain::~kill_chain() = default;

void kill_chain::start() {
    holder_ = std::make_unique<shm::queue_sender>(endpoint::parse(source_uri_));
    start_bridge(); // which creates TO; the consumer joins it
    start_consumer();
}

// Every process the chain starts is seen attached before the test goes on: a consumer that
// attached only after its stream had ended and been drained would wait for the next
// stream, as a FIFO reader waits for a writer, and a test that ends A's stream would race
// the start of the last processes.
child_process& kill_chain::start_bridge() {
    bridges_.push_back(std::make_unique<child_process>(
        bridge_app, with({source_uri_, plan_.to}, plan_.bridge_options)));
    auto& bridge = *bridges_.back();
    // The one before it is dead: these count only live processes.
    // One that ended already (a failure) is judged by its exit status.
    BOOST_REQUIRE_MESSAGE(eventually([&] {
                              return (attached(source_uri_).consumers == 1 &&
                                      attached(plan_.to).producers == 1) ||
                                     bridge.has_ended();
                          }),
                          "the bridge did not attach to " << source_uri_ << " and " << plan_.to
                                                          << ": " << bridge.err());
    return bridge;
}

child_process& kill_chain::start_consumer() {
    consumers_.push_back(
        std::make_unique<child_process>(consumer_app, std::vector<std::string>{plan_.to}));
    auto& consumer = *consumers_.back();
    BOOST_REQUIRE_MESSAGE(eventually([&] {
                              return attached(plan_.to).consumers == 1 || consumer.has_ended();
                          }),
                          "the consumer did not attach to " << plan_.to << ": " << consumer.err());
    return consumer;
}

shm::segment_info kill_chain::attached(const std::string& uri) const {
    std::error_code ec; // a queue not there yet: nothing attached
    return shm::inspect_queue(endpoint::parse(uri), ec);
}

std::uint64_t kill_chain::consumer_output() const {
    std::uint64_t bytes = 0;
    for (const auto& c : consumers_)
        bytes += c->out_size();
    return bytes;
}

std::uint64_t kill_chain::sent_to(const std::string& uri) const {
    std::error_code ec;
    return shm::inspect_queue(endpoint::parse(uri), ec).sent;
}

std::uint64_t kill_chain::taken_from(const std::string& uri) const {
    std::error_code ec;
    return shm::inspect_queue(endpoint::parse(uri), ec).received;
}

std::uint64_t kill_chain::sent_to_source() const {
    return sent_to(source_uri_);
}

void kill_chain::kill_bridge_after(std::uint64_t messages) {
    // Half the kills come as the bridge has taken a batch from A (A's deliveries move),
    // before it sends it; the others as it has sent one to TO (TO's count moves), before it
    // acknowledges it at A.
    const bool after_taking = std::bernoulli_distribution(0.5)(random_);
    const auto& counted = after_taking ? source_uri_ : plan_.to;
    const auto count = [&] { return after_taking ? taken_from(counted) : sent_to(counted); };
    const auto before = count();
    BOOST_REQUIRE_MESSAGE(promptly([&] { return count() >= before + messages; }),
                          "the bridge did not move " << messages
                                                     << " messages: " << bridges_.back()->err());
    kill_and_reap(*bridges_.back(), "the bridge");
    ++bridge_kills_;
    start_bridge();
}

void kill_chain::kill_consumer_after(std::uint64_t taken_before, std::uint64_t messages) {
    // TO's count of deliveries: the consumer moves it as it takes a batch, before it writes
    // the batch out and acknowledges it, so the kill comes when both are still to do.
    BOOST_REQUIRE_MESSAGE(promptly([&] { return taken_from(plan_.to) >= taken_before + messages; }),
                          "the consumer did not take "
                              << messages << " messages: " << consumers_.back()->err());
    kill_and_reap(*consumers_.back(), "the consumer");
    ++consumer_kills_;
    start_consumer();
}

void kill_chain::kill_producer_after(child_process& producer, std::uint64_t sent_before,
                                     std::uint64_t messages) {
    BOOST_REQUIRE_MESSAGE(promptly([&] { return sent_to_source() >= sent_before + messages; }),
                          "the producer did not send " << messages
                                                       << " messages: " << producer.err());
    kill_and_reap(producer, "the producer");
    ++producer_kills_;
}

void kill_chain::run_steps() {
    std::vector<bool> kill_bridge(plan_.steps), kill_producer(plan_.steps);
    std::fill_n(kill_bridge.begin(), std::min(plan_.bridge_kills, plan_.steps), true);
    std::fill_n(kill_producer.begin(), std::min(plan_.producer_kills, plan_.steps), true);
    std::shuffle(kill_bridge.begin(), kill_bridge.end(), random_);
    std::shuffle(kill_producer.begin(), kill_producer.end(), random_);
    // How far into a step a kill comes, in messages: within the first half of the step's
    // producer run, so that the flow it waits for is there whatever came before.
    std::uniform_int_distribution<std::uint64_t> into_step(1, plan_.per_step / 2);
    const std::string size = std::to_string(plan_.size);
    for (std::size_t step = 0; step < plan_.steps; ++step) {
        const auto sent_to_a = sent_to_source();
        const auto taken = taken_from(plan_.to);
        // A producer to be killed runs until it is; the others send their run and finish.
        const std::string count = kill_producer[step] ? endless : std::to_string(plan_.per_step);
        producers_.push_back(std::make_unique<child_process>(
            producer_app, std::vector<std::string>{source_uri_, "--generate", count, "--size", size,
                                                   "--rate", producer_rate}));
        auto& producer = *producers_.back();
        // The producer last: the bridge and the consumer kills wait for its flow.
        if (kill_bridge[step]) kill_bridge_after(into_step(random_));
        kill_consumer_after(taken, into_step(random_));
        if (kill_producer[step])
            kill_producer_after(producer, sent_to_a, into_step(random_));
        else
            BOOST_TEST(producer.wait() == 0, producer.err());
    }
}

void kill_chain::close_source() {
    holder_.reset();
}

void kill_chain::kill_all() {
    // In the middle of a flow: a producer that only the kill ends, and every process seen
    // moving messages first.
    const auto sent_to_a = sent_to_source();
    const auto sent_to_b = sent_to(plan_.to);
    const auto output = consumer_output();
    producers_.push_back(std::make_unique<child_process>(
        producer_app,
        std::vector<std::string>{source_uri_, "--generate", endless, "--size",
                                 std::to_string(plan_.size), "--rate", producer_rate}));
    BOOST_REQUIRE(eventually(
        [&] {
            return sent_to_source() > sent_to_a && sent_to(plan_.to) > sent_to_b &&
                   consumer_output() > output + plan_.size;
        },
        progress_patience));
    // The consumer first, then more flow into TO: what it holds then was never taken, so the
    // consumer of consume_rest() finds TO's stream not yet drained, whenever it attaches.
    kill_and_reap(*consumers_.back(), "the consumer");
    const auto sent_after_consumer = sent_to(plan_.to);
    BOOST_REQUIRE_MESSAGE(
        promptly([&] { return sent_to(plan_.to) > sent_after_consumer; }),
        "the bridge sent nothing to " << plan_.to << ": " << bridges_.back()->err());
    std::vector<child_process*> victims{producers_.back().get(), bridges_.back().get()};
    std::shuffle(victims.begin(), victims.end(), random_);
    for (auto* victim : victims)
        victim->signal(SIGKILL);
    for (auto* victim : victims)
        BOOST_TEST(victim->wait() == 128 + SIGKILL, victim->err());
    ++producer_kills_;
    ++bridge_kills_;
    ++consumer_kills_;
}

void kill_chain::drain_with_new_bridge() {
    // Attached while A's stream is still open (start_bridge), so that it takes A to the end
    // of this stream, however little is left in it.
    auto& bridge = start_bridge();
    close_source();
    BOOST_TEST(bridge.wait() == 0, bridge.err());
}

void kill_chain::consume_rest() {
    auto& consumer = start_consumer();
    BOOST_TEST(consumer.wait() == 0, consumer.err());
}

void kill_chain::expect_clean_ends() {
    for (auto& p : producers_)
        if (!p->exited()) BOOST_TEST(p->wait() == 0, p->err());
    BOOST_TEST(bridges_.back()->wait() == 0, bridges_.back()->err());
    BOOST_TEST(consumers_.back()->wait() == 0, consumers_.back()->err());
}

chain_delivery kill_chain::delivered() const {
    struct producer_record {
        std::uint64_t count = 0;
        std::vector<bool> seen;
        std::uint64_t distinct = 0;
        std::uint64_t last = 0; // the highest sequence delivered
    };
    std::map<std::uint64_t, producer_record> producers;
    stream_verifier verifier;
    const std::size_t stride = plan_.size + 1;
    for (const auto& c : consumers_) {
        const std::string out = c->out();
        // A killed consumer's torn last record is no record: left out.
        for (std::size_t at = 0; at + stride <= out.size(); at += stride) {
            const char* record = out.data() + at;
            BOOST_REQUIRE_MESSAGE(record[plan_.size] == '\n',
                                  "record at byte " << at << " unframed");
            if (!verifier.observe(std::as_bytes(std::span(record, plan_.size)))) continue;
            const auto sequence = field(record, 8);
            const auto count = field(record, 16);
            auto& p = producers[field(record, 0)];
            if (p.seen.empty()) {
                p.count = count;
                p.seen.resize(count);
            }
            if (count != p.count || sequence >= count || p.seen[sequence]) continue;
            p.seen[sequence] = true;
            ++p.distinct;
            p.last = std::max(p.last, sequence);
        }
    }
    chain_delivery result;
    result.summary = verifier.result();
    for (const auto& [id, p] : producers) {
        result.distinct += p.distinct;
        result.producers_with_holes += p.distinct != p.last + 1;
        result.producers_cut += p.distinct != p.count;
    }
    return result;
}

} // namespace conveyor::test
