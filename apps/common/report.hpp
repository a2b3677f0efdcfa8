// The throughput line every app prints at the end, and a stopwatch for it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace conveyor::cli {

// "VERB N messages, B bytes in S s: X msgs/s, Y MB/s" (MB = 10^6 bytes).
std::string throughput_line(const char* verb, std::uint64_t messages, std::uint64_t bytes,
                            std::chrono::steady_clock::duration elapsed);

} // namespace conveyor::cli
