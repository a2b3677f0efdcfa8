// The producer registry (lib/src/nats/registry.hpp) against a real nats-server: a receiver's
// first look at the records must end while other processes keep rewriting theirs, as every
// producer's heartbeat and every opening receiver's clock do.
#include "nats/connection.hpp"
#include "nats/registry.hpp"
#include "servers.hpp"
#include "support/child_process.hpp"

#include <conveyor/endpoint.hpp>

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <thread>

using namespace conveyor;
using namespace conveyor::nats::detail;
using namespace conveyor::test;
using namespace std::chrono_literals;

namespace {

address parsed(const std::string& uri) {
    address a;
    std::error_code ec;
    std::string why;
    BOOST_REQUIRE_MESSAGE(parse_endpoint(endpoint::parse(uri), a, ec, &why), why);
    return a;
}

std::unique_ptr<connection> connected(const address& where) {
    std::error_code ec;
    std::string why;
    auto c = connection::open(where, {}, ec, why);
    BOOST_REQUIRE_MESSAGE(c, why);
    return c;
}

// Rewrites one anonymous producer's record as fast as the server takes it, until stopped:
// what a busy registry looks like to a receiver that opens.
class record_rewriter {
public:
    record_rewriter(const connection& c, const std::string& bucket) {
        BOOST_REQUIRE(js_KeyValue(&kv_, c.js(), bucket.c_str()) == NATS_OK);
        BOOST_REQUIRE(put() == NATS_OK); // there before the first watch opens
        writer_ = std::thread([this] {
            for (; !stop_; ++writes_)
                put();
        });
    }
    ~record_rewriter() {
        stop_ = true;
        writer_.join();
        kvStore_Destroy(kv_);
    }
    std::uint64_t writes() const { return writes_; }

private:
    natsStatus put() {
        std::uint64_t revision = 0;
        return kvStore_PutString(&revision, kv_, "anonymous.rewriter", "open rewriter");
    }

    kvStore* kv_ = nullptr;
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> writes_{0};
    std::thread writer_;
};

} // namespace

BOOST_AUTO_TEST_SUITE(nats_registry)

// nats.c ends a watch's first records by the count it had at the watch's creation, which a
// record rewritten meanwhile makes wrong (the bucket keeps one revision): the look must end
// by the records, not by the opening's deadline, and count the record: at open, or, when
// its rewrite landed after the look read the bucket's last sequence, with a refresh().
BOOST_AUTO_TEST_CASE(the_first_look_ends_while_a_record_is_rewritten_all_along) {
    nats_servers servers;
    const auto where = parsed(servers.uri(unique_subject("registry")));
    const auto c = connected(where);
    const auto give_up = [] { return registry_clock::now() + 60s; };
    std::error_code ec;
    std::string why;
    // The first watch makes the bucket; its look has nothing to wait for.
    BOOST_REQUIRE_MESSAGE(producer_watch::open(*c, where, give_up(), ec, why), why);
    record_rewriter rewriter(*c, registry_bucket(where));
    const auto before = rewriter.writes();
    int counted_at_open = 0;
    for (int i = 0; i < 100; ++i) {
        const auto watch = producer_watch::open(*c, where, give_up(), ec, why);
        BOOST_REQUIRE_MESSAGE(watch, why);
        // complete() is false only when the look was cut off by the deadline.
        BOOST_REQUIRE_MESSAGE(watch->complete(), "opening " << i
                                                            << " waited for records "
                                                               "until its deadline");
        if (watch->attached() == 1u) {
            ++counted_at_open;
            continue;
        }
        BOOST_REQUIRE_MESSAGE(eventually([&] {
                                  watch->refresh();
                                  return watch->attached() == 1u;
                              }),
                              "opening " << i << " never counted the rewritten record");
    }
    BOOST_TEST_MESSAGE(rewriter.writes() - before << " rewrites while 100 watches opened, "
                                                  << counted_at_open
                                                  << " of them counted the record at open");
    BOOST_TEST(rewriter.writes() > before, "the record was rewritten while the watches opened");
}

BOOST_AUTO_TEST_SUITE_END()
