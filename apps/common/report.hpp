// The throughput line every app prints at the end, and a stopwatch for it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace conveyor::cli {

// "VERB N messages, B bytes in S s: X msgs/s, Y MB/s" (MB = 10^6 bytes); "-" for the rates
// when S is under a millisecond.
std::string throughput_line(const char* verb, std::uint64_t messages, std::uint64_t bytes,
                            std::chrono::steady_clock::duration elapsed);

// What an app has moved: messages, bytes, and the time from the first to the last.
struct throughput_meter {
    std::uint64_t messages = 0;
    std::uint64_t bytes = 0;
    std::chrono::steady_clock::time_point first = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point last = first;

    // Marks the start of the first transfer; later calls change nothing. Moves last along
    // with first, so that the time is never negative when nothing moves after all.
    void starting() noexcept {
        if (messages == 0) last = first = std::chrono::steady_clock::now();
    }
    // Accounts messages that moved just now.
    void moved(std::uint64_t count, std::uint64_t byte_count) noexcept {
        messages += count;
        bytes += byte_count;
        last = std::chrono::steady_clock::now();
    }
    std::string line(const char* verb) const {
        return throughput_line(verb, messages, bytes, last - first);
    }
};

} // namespace conveyor::cli
