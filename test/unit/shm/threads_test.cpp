// Threads of one process opening, using and closing senders and receivers at once, on the
// same new endpoint and on several: they must agree as processes do, and lose nothing.
#include "support/temporary_names.hpp"

#include <conveyor/generated_message.hpp>
#include <conveyor/shm/queue.hpp>
#include <conveyor/shm/topic.hpp>

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <barrier>
#include <mutex>
#include <thread>

using namespace conveyor;
using namespace std::chrono_literals;
using conveyor::test::scratch_segment;

namespace {

// Verifies what several receiving threads took, together.
class shared_verifier {
public:
    void observe(bytes_view message) {
        std::lock_guard lock(mutex_);
        if (!verifier_.observe(message)) ++corrupt_;
    }
    stream_verifier::summary result() {
        std::lock_guard lock(mutex_);
        return verifier_.result();
    }

private:
    std::mutex mutex_;
    stream_verifier verifier_;
    std::uint64_t corrupt_ = 0;
};

void send_generated(shm::queue_sender& out, std::uint64_t count) {
    const message_generator make(make_producer_id(), 48, count);
    std::vector<std::byte> message(48);
    for (std::uint64_t i = 0; i < count; ++i) {
        make.make(i, message);
        out.send(message);
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(shm_threads)

BOOST_AUTO_TEST_CASE(eight_threads_opening_one_new_endpoint_at_once_agree_on_it) {
    constexpr int producers = 4, consumers = 4, rounds = 20;
    constexpr std::uint64_t per_producer = 500;
    for (int round = 0; round < rounds; ++round) {
        scratch_segment s("threads-open");
        const auto where = endpoint::parse(s.uri());
        channel_options options;
        options.min_producers = producers;
        shared_verifier verified;
        std::atomic<int> failures{0};
        // Every thread opens at the same instant; none sends before all have opened, so
        // that every consumer is there for the stream (one that came after it ended and was
        // drained would wait for the next).
        std::barrier start(producers + consumers), opened(producers + consumers);
        std::vector<std::thread> threads;
        for (int p = 0; p < producers; ++p)
            threads.emplace_back([&] {
                start.arrive_and_wait();
                std::unique_ptr<shm::queue_sender> out;
                try {
                    out = std::make_unique<shm::queue_sender>(where, options);
                } catch (const std::exception&) {
                    ++failures;
                }
                opened.arrive_and_wait();
                if (out) send_generated(*out, per_producer);
            });
        for (int c = 0; c < consumers; ++c)
            threads.emplace_back([&] {
                start.arrive_and_wait();
                std::unique_ptr<shm::queue_receiver> opened_in;
                try {
                    opened_in = std::make_unique<shm::queue_receiver>(where, options);
                } catch (const std::exception&) {
                    ++failures;
                }
                opened.arrive_and_wait();
                if (!opened_in) return;
                try {
                    auto& in = *opened_in;
                    message_batch batch;
                    while (in.receive_batch(batch, 32, 30s) == receive_status::message)
                        for (std::size_t i = 0; i < batch.size(); ++i)
                            verified.observe(batch[i]);
                } catch (const std::exception&) {
                    ++failures;
                }
            });
        for (auto& t : threads)
            t.join();
        const auto summary = verified.result();
        BOOST_TEST_REQUIRE(failures.load() == 0, "round " << round);
        BOOST_TEST_REQUIRE(summary.messages == producers * per_producer,
                           "round " << round << ": " << stream_verifier::describe(summary));
        // Several consumers: their merged order is not the queue's, so order is not checked.
        BOOST_TEST_REQUIRE(
            (summary.lost == 0u && summary.duplicated == 0u && summary.corrupt == 0u),
            stream_verifier::describe(summary));
    }
}

BOOST_AUTO_TEST_CASE(threads_churning_senders_and_receivers_on_three_endpoints_lose_nothing) {
    constexpr int endpoints = 3, senders = 6, receivers = 6, turns = 40;
    constexpr std::uint64_t per_turn = 25;
    std::vector<std::unique_ptr<scratch_segment>> segments;
    for (int e = 0; e < endpoints; ++e)
        segments.push_back(std::make_unique<scratch_segment>("threads-churn"));
    auto where = [&](int e) {
        return endpoint::parse(segments[static_cast<std::size_t>(e)]->uri());
    };
    // Each endpoint gets the same number of messages, from many short-lived senders.
    const std::uint64_t expected = senders * turns * per_turn;
    shared_verifier verified;
    std::atomic<std::uint64_t> taken{0};
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < senders; ++t)
        threads.emplace_back([&, t] {
            try {
                for (int turn = 0; turn < turns; ++turn) {
                    shm::queue_sender out(where((t + turn) % endpoints));
                    send_generated(out, per_turn);
                }
            } catch (const std::exception&) {
                ++failures;
            }
        });
    for (int t = 0; t < receivers; ++t)
        threads.emplace_back([&, t] {
            try {
                channel_options options;
                options.acknowledge = t % 2 == 0; // half of them acknowledge before closing
                for (int turn = 0; taken.load() < expected && turn < 100000; ++turn) {
                    shm::queue_receiver in(where((t + turn) % endpoints), options);
                    message_batch batch;
                    for (int visit = 0; visit < 8; ++visit) {
                        if (in.receive_batch(batch, 16, 2ms) != receive_status::message) break;
                        for (std::size_t i = 0; i < batch.size(); ++i)
                            verified.observe(batch[i]);
                        taken += batch.size();
                        in.ack();
                    }
                }
            } catch (const std::exception&) {
                ++failures;
            }
        });
    for (auto& t : threads)
        t.join();
    const auto summary = verified.result();
    BOOST_TEST(failures.load() == 0);
    BOOST_TEST(taken.load() == expected);
    BOOST_TEST(summary.duplicated == 0u, stream_verifier::describe(summary));
    BOOST_TEST(summary.corrupt == 0u, stream_verifier::describe(summary));
    BOOST_TEST(summary.lost == 0u, stream_verifier::describe(summary));
}

// A consumer looking for the end of the stream, without a lock, while the first producer
// attaches: it must see that producer attached and live, or not yet attached, never attached
// and already gone. Each round a fresh channel, a receiver polling it, and a producer that
// attaches and sends one message; the receiver must get the message before any end. Returns
// the rounds that ended first.
template <class Receiver, class Sender> int early_ends_as_the_first_producer_attaches(bool topic) {
    constexpr int rounds = 300;
    int early_ends = 0;
    for (int round = 0; round < rounds; ++round) {
        scratch_segment s("attach-race");
        const auto where = endpoint::parse(topic ? s.topic_uri() : s.uri());
        channel_options options;
        options.capacity = 4096;
        options.max_message = 64;
        Receiver in(where, options);
        std::atomic<bool> polling{false};
        std::thread producer([&] {
            while (!polling.load(std::memory_order_acquire))
                std::this_thread::yield();
            Sender out(where, options);
            out.send(std::as_bytes(std::span("m", 1)));
        });
        std::vector<std::byte> got;
        receive_status status = receive_status::empty;
        polling.store(true, std::memory_order_release);
        while ((status = in.try_receive(got)) == receive_status::empty) {
        }
        producer.join();
        early_ends += status == receive_status::end_of_stream;
    }
    return early_ends;
}

BOOST_AUTO_TEST_CASE(a_receiver_never_sees_the_end_while_the_first_producer_attaches) {
    const int early =
        early_ends_as_the_first_producer_attaches<shm::queue_receiver, shm::queue_sender>(false);
    BOOST_TEST(early == 0, early << " of 300 rounds ended before the message");
}

BOOST_AUTO_TEST_CASE(a_subscriber_never_sees_the_end_while_the_first_publisher_attaches) {
    const int early =
        early_ends_as_the_first_producer_attaches<shm::topic_receiver, shm::topic_sender>(true);
    BOOST_TEST(early == 0, early << " of 300 rounds ended before the message");
}

BOOST_AUTO_TEST_SUITE_END()
