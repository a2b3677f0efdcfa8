#include "common/report.hpp"

#include <cstdio>

namespace conveyor::cli {

std::string throughput_line(const char* verb, std::uint64_t messages, std::uint64_t bytes,
                            std::chrono::steady_clock::duration elapsed) {
    const double seconds = std::chrono::duration<double>(elapsed).count();
    char line[256];
    int length = std::snprintf(line, sizeof line, "%s %llu messages, %llu bytes in %.3f s: ", verb,
                               static_cast<unsigned long long>(messages),
                               static_cast<unsigned long long>(bytes), seconds);
    // A rate over less than a millisecond (a few lines, taken in one visit) says nothing.
    if (seconds < 1e-3)
        std::snprintf(line + length, sizeof line - length, "- msgs/s, - MB/s");
    else
        std::snprintf(line + length, sizeof line - length, "%.0f msgs/s, %.1f MB/s",
                      messages / seconds, bytes / seconds / 1e6);
    return line;
}

} // namespace conveyor::cli
