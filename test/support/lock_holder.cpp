// Test helper: attaches to a queue, takes the queue lock and dies by SIGKILL while still
// holding it, half-way through its work: the worst moment to die.
//   producer: writes half a record past the committed tail
//   consumer: copies half of the oldest record out, without moving next
// Usage: conveyor-test-lock-holder producer|consumer shm://NAME
#include "shm/attachment.hpp"

#include <conveyor/endpoint.hpp>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string_view>

int main(int argc, char** argv) {
    using namespace conveyor::shm::detail;
    const std::string_view as = argc == 3 ? argv[1] : "";
    if (as != "producer" && as != "consumer") {
        std::fprintf(stderr, "usage: conveyor-test-lock-holder producer|consumer shm://NAME\n");
        return 64;
    }
    std::error_code ec;
    std::string why;
    attach_request request{{4u << 20, 64u << 10, 0600}, 1, {}};
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
        if (capacity - offset >= 64) {
            const record_header half{48, message_record, 0, 0};
            std::memcpy(ring + offset, &half, sizeof half);
            std::memset(ring + offset + sizeof half, 0xEE, 20); // 20 of 48 bytes
        }
    } else {
        char copy[64];
        const auto offset = q.next.load() % capacity;
        std::memcpy(copy, ring + offset, std::min<std::uint64_t>(sizeof copy, capacity - offset));
    }
    std::raise(SIGKILL);
    return 0;
}
