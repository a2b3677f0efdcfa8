// Test helper: attaches to a queue as a producer, takes the queue lock, writes half a
// record past the committed tail, and dies by SIGKILL while still holding the lock: the
// worst moment for a producer to die. Usage: conveyor-test-lock-holder shm://NAME
#include "shm/attachment.hpp"

#include <conveyor/endpoint.hpp>

#include <csignal>
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
    using namespace conveyor::shm::detail;
    if (argc != 2) {
        std::fprintf(stderr, "usage: conveyor-test-lock-holder shm://NAME\n");
        return 64;
    }
    std::error_code ec;
    std::string why;
    auto attached = attachment::open(conveyor::endpoint::parse(argv[1]), role::producer,
                                     {4u << 20, 64u << 10, 0600}, ec, why);
    if (!attached || !attached->lock(ec)) {
        std::fprintf(stderr, "conveyor-test-lock-holder: %s\n", why.c_str());
        return 70;
    }
    auto& q = attached->control();
    const auto capacity = attached->header().capacity;
    const auto offset = q.tail.load() % capacity;
    if (capacity - offset >= 64) {
        const record_header half{48, message_record};
        std::memcpy(attached->ring() + offset, &half, sizeof half);
        std::memset(attached->ring() + offset + sizeof half, 0xEE, 20); // 20 of 48 bytes
    }
    std::raise(SIGKILL);
    return 0;
}
