// Test helper: attaches to a queue, takes the queue lock and dies by SIGKILL while still
// holding it, half-way through its work: the worst moment to die.
//   producer: writes half a record past the committed tail
//   consumer: copies half of the oldest record out, without moving next
//   publisher: on a topic, writes half a record past the committed tail
// Usage: conveyor-test-lock-holder producer|consumer shm://NAME
//        conveyor-test-lock-holder publisher topic://NAME
#include "shm/attachment.hpp"
#include "shm/topic_attachment.hpp"

#include <conveyor/endpoint.hpp>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace {

using namespace conveyor::shm::detail;

// Half a record of 48 bytes at offset: a header and 20 bytes of its payload.
void write_half_record(std::byte* at) {
    const record_header half{48, message_record, 0, 0};
    std::memcpy(at, &half, sizeof half);
    std::memset(at + sizeof half, 0xEE, 20);
}

int die_holding_the_topic_lock(const char* uri, const attach_request& request) {
    std::error_code ec;
    std::string why;
    auto attached =
        topic_attachment::open(conveyor::endpoint::parse(uri), role::producer, request, ec, why);
    if (!attached || !attached->lock(topic_attachment::time_point::max(), ec)) {
        std::fprintf(stderr, "conveyor-test-lock-holder: %s\n", why.c_str());
        return 70;
    }
    const auto capacity = attached->shape().capacity;
    const auto offset = attached->control().tail.load() % capacity;
    if (capacity - offset >= 64) write_half_record(attached->ring() + offset);
    std::raise(SIGKILL);
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    const std::string_view as = argc == 3 ? argv[1] : "";
    if (as != "producer" && as != "consumer" && as != "publisher") {
        std::fprintf(stderr, "usage: conveyor-test-lock-holder producer|consumer shm://NAME\n"
                             "       conveyor-test-lock-holder publisher topic://NAME\n");
        return 64;
    }
    std::error_code ec;
    std::string why;
    attach_request request{{4u << 20, 64u << 10, 0600}, 1, {}};
    if (as == "publisher") return die_holding_the_topic_lock(argv[2], request);
    auto attached =
        attachment::open(conveyor::endpoint::parse(argv[2]),
                         as == "producer" ? role::producer : role::consumer, request, ec, why);
    const auto forever = attachment::time_point::max();
    const bool locked = attached && (as == "producer" ? attached->lock_producers(forever, ec)
                                                      : attached->lock_consumers(forever, ec));
    if (!locked) {
        std::fprintf(stderr, "conveyor-test-lock-holder: %s\n", why.c_str());
        return 70;
    }
    auto& q = attached->control();
    const auto capacity = attached->shape().capacity;
    std::byte* ring = attached->ring();
    if (as == "producer") {
        const auto offset = q.tail.load() % capacity;
        if (capacity - offset >= 64) write_half_record(ring + offset);
    } else {
        char copy[64];
        const auto offset = q.next.load() % capacity;
        std::memcpy(copy, ring + offset, std::min<std::uint64_t>(sizeof copy, capacity - offset));
    }
    std::raise(SIGKILL);
    return 0;
}
