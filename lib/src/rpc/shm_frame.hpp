// RPC over conveyor's shared-memory queues: a server reads calls from its queue NAME, each
// behind a frame header that says which client sent it; each client reads replies from a
// queue of its own, NAME.r<pid>.<n>, to which the server attaches as the only producer. So a
// server that dies ends the client's stream (the queue's sweep notices within ~100 ms) and
// the calls in flight fail at once. docs/rpc.md has the whole protocol.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace conveyor::rpc::detail {

// In front of every call on a server's queue; the bytes of this machine's order.
struct shm_frame_header {
    static constexpr std::uint32_t expected_magic = 0x3143'5052; // "RPC1"
    std::uint32_t magic = expected_magic;
    std::uint32_t pid = 0;        // the client's process
    std::uint64_t start_time = 0; // and its start time: a pid alone can be reused
    std::uint32_t client = 0;     // which of the process's clients (its reply queue)
    std::uint32_t reserved = 0;
};
static_assert(sizeof(shm_frame_header) == 24);

// The server's queue: calls up to 1 MiB of RPC message.
inline constexpr std::size_t shm_max_message = 1 << 20;
inline constexpr std::size_t shm_request_capacity = 4 * shm_max_message;
// A client's reply queue holds at least this many of its largest replies.
inline constexpr std::size_t shm_reply_queue_records = 4;

inline std::string reply_queue_name(std::string_view server, std::uint32_t pid,
                                    std::uint32_t client) {
    std::string name(server);
    name += ".r";
    name += std::to_string(pid);
    name += '.';
    name += std::to_string(client);
    return name;
}

} // namespace conveyor::rpc::detail
