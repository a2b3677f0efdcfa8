// Settings shared by the message-queue peers.
#include "queue_peers.hpp"

namespace conveyor::bench {

std::vector<config> depths(std::size_t size) {
    std::vector<config> result;
    // 4 slots only for large messages, where few slots that stay in the cache beat many
    // that do not; no queue above 256 MiB, which would measure the page allocator.
    for (std::size_t depth : {4u, 16u, 256u, 4096u}) {
        if (depth == 4 && size < (64u << 10)) continue;
        if (depth * size > (256u << 20)) continue;
        result.push_back({"depth " + std::to_string(depth), depth});
    }
    return result;
}

} // namespace conveyor::bench
