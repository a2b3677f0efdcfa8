// Large messages copied into the ring outside the producers' lock: several producers copy at
// once, each one's messages arrive whole and in order, and a producer killed mid-copy holds
// nobody back.
#include "shm/attachment.hpp"
#include "shm/claims.hpp"
#include "support/temporary_names.hpp"

#include <conveyor/generated_message.hpp>
#include <conveyor/shm/queue.hpp>
#include <conveyor/shm/segment.hpp>

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <cstring>
#include <mutex>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace conveyor;
using namespace std::chrono_literals;
using conveyor::test::scratch_segment;

namespace {

channel_options large(std::size_t capacity = 4u << 20) {
    channel_options options;
    options.capacity = capacity;
    options.max_message = 512u << 10;
    return options;
}

} // namespace

BOOST_AUTO_TEST_SUITE(shm_claims)

BOOST_AUTO_TEST_CASE(producers_copying_large_messages_at_once_deliver_each_in_order) {
    scratch_segment s("claims-parallel");
    const auto where = endpoint::parse(s.uri());
    constexpr int producers = 4;
    constexpr std::uint64_t each = 60;
    constexpr std::size_t size = 200u << 10; // above the 64 KiB copied outside the lock
    auto options = large();
    options.min_producers = producers;
    shm::queue_receiver in(where, options);
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p)
        threads.emplace_back([&, p] {
            shm::queue_sender out(where, options);
            const message_generator make(make_producer_id() + static_cast<unsigned>(p), size, each);
            std::vector<std::byte> message(size);
            for (std::uint64_t i = 0; i < each; ++i) {
                make.make(i, message);
                out.send(message);
            }
        });
    stream_verifier verifier; // one consumer: each producer's messages in order
    message_batch batch;
    while (in.receive_batch(batch, 8, 30s) == receive_status::message)
        for (std::size_t i = 0; i < batch.size(); ++i)
            BOOST_REQUIRE(verifier.observe(batch[i]));
    for (auto& t : threads)
        t.join();
    const auto summary = verifier.result();
    BOOST_TEST(summary.messages == producers * each);
    BOOST_TEST(summary.ok(), stream_verifier::describe(summary));
}

BOOST_AUTO_TEST_CASE(a_producer_killed_while_copying_outside_the_lock_holds_nobody_back) {
    scratch_segment s("claims-dead");
    const auto where = endpoint::parse(s.uri());
    shm::queue_receiver in(where, large());
    shm::queue_sender survivor(where, large());
    const pid_t child = ::fork();
    if (child == 0) {
        // As send_outside_lock does, by hand: the record claimed, the lock released, then
        // death half-way through the copy.
        using namespace shm::detail;
        std::error_code ec;
        std::string why;
        auto a =
            attachment::open(where, role::producer, {{4u << 20, 512u << 10, 0600}, 1, {}}, ec, why);
        a->lock_producers(attachment::time_point::max(), ec);
        auto& q = a->control();
        const auto begin = q.claimed.load();
        const record_header header{100000, message_record, 0, 0};
        std::memcpy(a->ring() + begin % a->shape().capacity, &header, sizeof header);
        open_claim(q, begin, begin + record_size(100000), 1, claim_entry::copying);
        q.claimed.store(begin + record_size(100000));
        a->unlock_producers();
        std::memset(a->ring() + begin % a->shape().capacity + sizeof header, 0xAB, 50000);
        ::raise(SIGKILL);
    }
    ::waitpid(child, nullptr, 0);
    // Claimed behind the dead one's: committed only once the sweep of the dead voids it.
    const std::vector<std::byte> big(300000, std::byte{7}), small(10, std::byte{8});
    survivor.send(big);
    survivor.send(small);
    std::vector<std::byte> got;
    BOOST_REQUIRE((in.receive_for(got, 10s) == receive_status::message));
    BOOST_TEST((got == big)); // the half-copied one is skipped, never delivered
    BOOST_REQUIRE((in.receive_for(got, 10s) == receive_status::message));
    BOOST_TEST((got == small));
    survivor.close();
    BOOST_TEST((in.receive_for(got, 10s) == receive_status::end_of_stream));
    BOOST_TEST(shm::inspect_segment(s.name()).sent == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
