// ECHO round trips through a conveyor client, every reply checked: conveyor-calc's bench
// command and conveyor-bench's RPC rows measure the same way.
#pragma once

#include <conveyor/rpc/client.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace calc {

struct echo_figures {
    double seconds = 0;
    double calls_per_s = 0;
    double p50_us = 0;
    double p99_us = 0;
};

// Makes calls ECHO calls of size bytes, in_flight at a time (1: synchronous calls; more:
// asynchronous ones, each started as another ends), each with timeout. The first warm_up
// calls are made before the clock starts. Throws conveyor::error when a call fails or a
// reply differs from its call.
echo_figures run_echo_bench(conveyor::rpc::client& c, std::uint64_t calls, std::size_t size,
                            std::size_t in_flight, std::chrono::nanoseconds timeout,
                            std::uint32_t program, std::uint32_t version,
                            std::uint64_t warm_up = 100);

} // namespace calc
