// The patterns a run measures.
#pragma once

namespace conveyor::bench {

enum class pattern {
    one_to_one,   // 1 producer process, 1 consumer process
    four_to_four, // 4 producers, 4 consumers: one shared queue, or 4 pairs on byte streams
    pingpong,     // a client sends, a server echoes, the client waits for the echo
    fan_out,      // 1 producer, 4 consumers that each get every message (transport::runs)
    rpc_call,     // RPC: 64 B ECHO calls one at a time (rpc_suite.hpp)
    rpc_16,       // RPC: 64 B ECHO calls, 16 in flight
};

const char* to_string(pattern p) noexcept;

} // namespace conveyor::bench
